"""The `trainer` web worker: trains models off the main thread so the page never freezes."""
import json

try:
    import numpy
except ImportError:
    numpy = None


def ping():
    """Prove the worker is alive and computing with numpy (JSON: plain data crosses threads)."""
    if numpy is None:
        return json.dumps({"pong": True, "numpy": None})
    return json.dumps({"pong": True, "numpy": numpy.__version__, "check": float(numpy.arange(10.0).sum())})


__export__ = ["ping"]
