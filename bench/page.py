"""bench/page.html's script: numpy speed inside Pyodide on the main thread, as JSON in body[data-bench].

Query: ?runs=5&seconds=0.5. Yields to the browser between measurements so the driver can poll.
?peers=<spec JSON> instead runs bench/peers.py's Falken contender in a worker (bench/peers_falken.py).
"""
import asyncio
import json
import sys

from pyscript import document, window

body = document.body
python_ready_ms = window.performance.now()     # Pyodide booted, numpy unpacked, this script runs

import bench_kernels as k  # noqa: E402 -- imports numpy: timed below

numpy_ready_ms = window.performance.now()


async def falken_worker(spec):
    """Falken's models trained in a PyScript worker, as the app's trainer runs them."""
    from pyscript import create_named_worker
    spec["manifest"] = str(window.URL.new(spec["manifest"], window.location.href))
    worker = await create_named_worker("./peers_falken.py", "falken", config="./page.toml")
    return json.loads(await worker.run(json.dumps(spec)))


async def measure():
    query = dict(p.split("=", 1) for p in str(window.location.search).lstrip("?").split("&") if "=" in p)
    if query.get("peers"):
        from urllib.parse import unquote
        return await falken_worker(json.loads(unquote(query["peers"])))
    runs, seconds = int(query.get("runs", 5)), float(query.get("seconds", 0.5))
    import numpy as np
    out = {"numpy": np.__version__, "python": sys.version.split()[0],
           "flops_per_sample": k.mlp_flops_per_sample(),
           "python_ready_ms": python_ready_ms, "numpy_ready_ms": numpy_ready_ms}
    if query.get("boot"):
        return out
    for batch in (32, 128):
        body.dataset.progress = f"matmul b{batch}"
        await asyncio.sleep(0)
        out[f"matmul_b{batch}"] = k.matmul_gflops(batch, runs, seconds)
        out[f"einsum_b{batch}"] = k.matmul_gflops(batch, runs, seconds, kernel=k.einsum_matmul)
        body.dataset.progress = f"mlp b{batch}"
        await asyncio.sleep(0)
        out[f"mlp_b{batch}"] = k.mlp_rates(batch, runs, seconds)
    body.dataset.progress = "inference"
    await asyncio.sleep(0)
    out["inference_ms"] = [k.inference_ms(100) for _ in range(runs)]
    body.dataset.progress = "ttt"
    await asyncio.sleep(0)
    out["ttt_choose_ms"] = [k.ttt_choose_ms(50, seed=r) for r in range(runs)]
    return out


try:
    body.dataset.bench = json.dumps(await measure())  # noqa: F704 -- PyScript top-level await
except Exception as error:
    import traceback
    body.dataset.bench = json.dumps({"error": f"{error}", "traceback": traceback.format_exc()})
