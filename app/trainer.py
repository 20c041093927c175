"""The `trainer` web worker: trains models off the main thread so the page never freezes.

The page calls the exported functions (each returns at once; long work runs as a task). The
worker reports back through `pyscript.sync` functions the page registered: `report_digits` and
`report_text` (kind, JSON text or bytes). Without cross-origin isolation those calls are
fire-and-forget, which is all a progress report needs. Checkpoints go to the page as bytes to
keep, and come back through digits_restore / text_restore on the next visit.
"""
import json

from pyscript import sync

from app.wording import sentence

try:
    import numpy
except ImportError:
    numpy = None

digits = None   # DigitsSession, made on first use (it needs the manifest)
text = None     # TextSession
OFFLINE_HEADER = "X-Falken-Offline"   # the service worker's answer for a block it does not have


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

    from app.cache import OFFLINE, FetchError
    try:
        response = await pyfetch(url)
    except Exception as error:
        raise FetchError(f"{url}: {error}", kind="network") from None
    if response.status == 503 and response.headers.get(OFFLINE_HEADER.lower()):   # static/js/offline-worker.js
        raise FetchError(f"{url.rsplit('/', 1)[-1]} is not on this device and there is no connection", kind=OFFLINE)
    if not response.ok:
        raise FetchError(f"{url}: HTTP {response.status}", status=response.status)
    return await digested(await response.buffer())


async def digested(buffer):
    """A fetched body's bytes with their sha256 from WebCrypto (models.blocks.DigestedBytes), or
    plain bytes where WebCrypto is missing (no secure context: plain-HTTP hosting), for hashlib."""
    import js

    from models.blocks import DigestedBytes
    data = buffer.to_bytes()
    subtle = getattr(getattr(js, "crypto", None), "subtle", None)
    if not subtle:
        return data
    digest = await subtle.digest("SHA-256", buffer)
    return DigestedBytes(data, digest.to_bytes().hex())


def hang():
    """Test hook (tests/test_app_watchdog.py): block this worker's thread, as a step that never
    ends would; only the page's watchdog, ending the worker, stops it."""
    import asyncio
    import time

    def forever():
        while True:
            time.monotonic()
    asyncio.get_event_loop().call_soon(forever)


def as_bytes(data):
    """Bytes from the page arrive as a JS Uint8Array (a Python bytes in CPython)."""
    return data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)


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


async def digits_restore(data):
    """Go on from checkpoint bytes the page kept; returns "" or a plain reason they were refused."""
    from models.checkpoint import CheckpointError
    try:
        await digits.restore(as_bytes(data))
    except CheckpointError as error:
        return sentence(f"Your saved digits training could not be used: {error}")
    return ""


async def digits_score(described, data):
    """Send the gallery of the page's own model (JSON {"kind", "hyper"} and its raw `flat` bytes)."""
    from app.digits_session import model_from_flat
    await digits.score(model_from_flat(json.loads(described), as_bytes(data)))


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
    await digits.reset(knowledge.load(as_bytes(data)))


def digits_fine_tune(knowledge_bytes, samples_bytes):
    """Fine-tune the page's predictor (knowledge bytes) on its taught samples (a data block, both
    already validated by the page); progress comes back as "teach" reports."""
    import asyncio

    from models import knowledge
    from models.blocks import decode_block
    model = knowledge.load(as_bytes(knowledge_bytes))
    images, labels = decode_block(as_bytes(samples_bytes))
    asyncio.ensure_future(digits.fine_tune(model, images, labels))


# -- text ----------------------------------------------------------------------------------
async def text_open(knowledge_bytes, corpus):
    """Start a text session from the shipped knowledge and a training text."""
    global text
    from app.text_session import TextSession
    from models import knowledge
    data = as_bytes(knowledge_bytes)
    if text is not None:
        await text.pause()
    text = TextSession(knowledge.load(data), corpus, reporter("report_text"))
    text.send_status()


async def text_restore(data):
    """A text session paused where the checkpoint bytes the page kept left off; returns "" or a
    plain reason they were refused."""
    global text
    from app.text_session import TextSession
    from models.checkpoint import CheckpointError
    if text is not None:
        await text.pause()
    try:
        text = TextSession.from_checkpoint(as_bytes(data), reporter("report_text"))
    except CheckpointError as error:
        return sentence(f"Your saved text training could not be used: {error}")
    text.send_status()
    return ""


def text_start():
    text.start()


async def text_pause():
    await text.pause()


def text_stop_rule(kind, value):
    return set_stop_rule(text, kind, value)


def text_sample(prefix, length, temperature, seed):
    """Write with the model as it is now, between two training steps."""
    return text.sample(prefix, length, temperature, seed)


__export__ = ["ping", "hang", "digits_open", "digits_start", "digits_pause", "digits_reset", "digits_choose", "digits_set",
              "digits_stop_rule", "digits_score", "digits_load", "digits_fine_tune", "digits_restore", "text_open",
              "text_restore", "text_start", "text_pause", "text_stop_rule", "text_sample"]
