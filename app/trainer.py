"""The `trainer` web worker: trains models off the main thread so the page never freezes.

The page calls the exported functions (each returns at once; long work runs as a task). The
worker reports back through `pyscript.sync` functions the page registered: `report_digits` and
`report_text` (kind, JSON text or bytes). Without cross-origin isolation those calls are
fire-and-forget, which is all a progress report needs.
"""
import json

from pyscript import sync

try:
    import numpy
except ImportError:
    numpy = None

digits = None   # DigitsSession, made on first use (it needs the manifest)
text = None     # TextSession


def ping():
    """Prove the worker is alive and computing with numpy (JSON: plain data crosses threads)."""
    if numpy is None:
        return json.dumps({"pong": True, "numpy": None})
    return json.dumps({"pong": True, "numpy": numpy.__version__, "check": float(numpy.arange(10.0).sum())})


def reporter(channel):
    """A report(kind, payload) that forwards to the page: bytes as they are, the rest as JSON."""
    def report(kind, payload):
        if not isinstance(payload, (bytes, bytearray)):
            payload = json.dumps(payload)
        getattr(sync, channel)(kind, payload)
    return report


async def fetch_bytes(url):
    from pyodide.http import pyfetch

    from app.cache import FetchError
    try:
        response = await pyfetch(url)
    except Exception as error:
        raise FetchError(f"{url}: {error}", kind="network") from None
    if not response.ok:
        raise FetchError(f"{url}: HTTP {response.status}", status=response.status)
    return await response.bytes()


# -- digits ----------------------------------------------------------------------------------
async def digits_open(manifest_url, kind):
    """Read the manifest and make the session for a `kind` model (the page's choice); returns ""
    or a plain error for #errors."""
    global digits
    import pyodide_http

    from app.digits_session import DigitsSession
    from models.blocks import read_manifest
    pyodide_http.patch_all()     # the same urllib call reads the manifest here and in CPython
    try:
        manifest = read_manifest(manifest_url)
    except Exception as error:
        return f"The training data index {manifest_url} could not be read ({error})."
    if digits is not None:
        await digits.reset()
    digits = DigitsSession(manifest, manifest_url, fetch_bytes, reporter("report_digits"), kind=kind)
    digits.send_status()
    return ""


def digits_start():
    digits.start()


async def digits_pause():
    await digits.pause()


async def digits_reset():
    await digits.reset()


async def digits_choose(kind):
    await digits.choose(kind)


def digits_set(name, value):
    {"lr": digits.set_lr, "batch_size": digits.set_batch_size, "cache_size": digits.set_cache_size}[name](value)
    digits.send_status()


def set_stop_rule(session, kind, value):
    """Train until this rule says stop (app/stop_rules.py); returns "" or why the rule was refused."""
    from app.stop_rules import StopRuleError
    try:
        session.set_rule(kind, value)
    except StopRuleError as error:
        return str(error)
    session.send_status()
    return ""


def digits_stop_rule(kind, value):
    return set_stop_rule(digits, kind, value)


async def digits_load(data):
    """Continue training from uploaded knowledge bytes (already validated by the page)."""
    from models import knowledge
    await digits.reset(knowledge.load(data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)))


# -- text ----------------------------------------------------------------------------------
async def text_open(knowledge_bytes, corpus):
    """Start a text session from the shipped knowledge and a training text."""
    global text
    from app.text_session import TextSession
    from models import knowledge
    data = knowledge_bytes.to_bytes() if hasattr(knowledge_bytes, "to_bytes") else bytes(knowledge_bytes)
    if text is not None:
        await text.pause()
    text = TextSession(knowledge.load(data), corpus, reporter("report_text"))
    text.send_status()


def text_start():
    text.start()


async def text_pause():
    await text.pause()


def text_stop_rule(kind, value):
    return set_stop_rule(text, kind, value)


def text_sample(prefix, length, temperature, seed):
    """Write with the model as it is now, between two training steps."""
    return text.sample(prefix, length, temperature, seed)


__export__ = ["ping", "digits_open", "digits_start", "digits_pause", "digits_reset", "digits_choose", "digits_set", "digits_stop_rule", "digits_load",
              "text_open", "text_start", "text_pause", "text_stop_rule", "text_sample"]
