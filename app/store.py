"""Saved state in the browser: bytes and JSON under string keys, in IndexedDB (static/js/store.js).

Every Falken feature that keeps something across visits (training checkpoints, the chosen
level, uploaded knowledge, taught digits, past runs) goes through these four calls. What comes
back is untrusted input — another version of Falken, a damaged disk, a hand-edited database —
so callers read it with the same strict loaders as an upload. A store that cannot be used
raises StoreUnavailable with a sentence the page can show; the caller carries on without it.
"""
import json

from pyscript import window
from pyscript.ffi import to_js


class StoreUnavailable(Exception):
    """The browser will not keep state for this page (private window, quota, blocked)."""


def _store():
    store = getattr(window, "falkenStore", None)
    if store is None:
        raise StoreUnavailable("saved state is unavailable: static/js/store.js did not load")
    return store


async def _call(name, *args):
    try:
        return await getattr(_store(), name)(*args)
    except StoreUnavailable:
        raise
    except Exception as error:
        # A JS rejection arrives as pyodide's JsException; its message is the sentence store.js wrote.
        raise StoreUnavailable(str(getattr(error, "message", None) or error)) from None


async def put_bytes(key, data):
    await _call("put", key, to_js(bytes(data)))


async def get_bytes(key):
    """The bytes saved under key, or None if nothing (or nothing binary) is."""
    value = await _call("get", key)
    if not hasattr(value, "byteLength"):    # undefined, null, a string: not a saved file
        return None
    return bytes(value.to_py())


async def put_json(key, value):
    await _call("put", key, json.dumps(value))


async def get_json(key):
    """The JSON value saved under key, or None if nothing is; anything unreadable is None too."""
    value = await _call("get", key)
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


async def remove(key):
    await _call("remove", key)


async def keys():
    return [str(key) for key in (await _call("keys")).to_py()]
