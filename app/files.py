"""Bytes in and out of the page: fetch a site file, read an upload, offer a download."""
import importlib

from pyscript import fetch, window
from pyscript.ffi import to_js

from app.errors import show_error
from app.wording import sentence

MAX_UPLOAD_BYTES = 20 * 1024 * 1024   # no knowledge file or text we accept comes near this
_download_url = None                  # the last download's object URL, freed by the next one


class FileProblem(Exception):
    """A file could not be had; the message says which and why, in plain words."""


async def fetch_bytes(url):
    try:
        response = await fetch(url)
    except Exception as error:
        raise FileProblem(f"could not download {url}: {error}") from None
    if not response.ok:
        raise FileProblem(f"could not download {url}: the server answered HTTP {response.status}")
    # arrayBuffer(), not bytearray(): PyScript's bytearray() copies byte by byte through the FFI
    # (~15 ms per 100 kB here), a long task on the page's thread for any knowledge file.
    return bytes(await response.arrayBuffer())


async def read_upload(input_element):
    """(file name, bytes) of the file chosen in an <input type=file>, or None if none is.

    The input is emptied, so choosing the same file again fires `change` again."""
    files = input_element.files
    if not files or files.length == 0:
        return None
    chosen = files.item(0)
    input_element.value = ""
    if chosen.size > MAX_UPLOAD_BYTES:
        raise FileProblem(f"{chosen.name} is {chosen.size / 1e6:.1f} MB; files over "
                          f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB are not accepted")
    buffer = await chosen.arrayBuffer()
    return chosen.name, buffer.to_bytes()


def offer_download(data, file_name, content_type="application/octet-stream"):
    """Let the visitor save `data` (bytes) as `file_name`."""
    array = window.Uint8Array.new(len(data))
    array.assign(data)
    blob = window.Blob.new(to_js([array]), to_js({"type": content_type}))
    global _download_url
    if _download_url:
        window.URL.revokeObjectURL(_download_url)
    url = _download_url = window.URL.createObjectURL(blob)
    link = window.document.createElement("a")
    link.href = url
    link.download = file_name
    window.document.body.append(link)
    link.click()
    link.remove()


KIND_NAMES = {"tictactoe-lstm": "tic-tac-toe", "mnist-mlp": "digits", "mnist-cnn": "digits (CNN)",
              "char-rnn": "text (RNN)", "char-lstm": "text (LSTM)"}


def knowledge_from_bytes(data, name, kind):
    """The model in a knowledge file's bytes, if it is of `kind` (one kind, or a tuple of the kinds
    accepted); else FileProblem saying why."""
    from models.knowledge import KnowledgeError, load

    try:
        model = load(data)
    except KnowledgeError as error:
        raise FileProblem(f"{name} is not a usable knowledge file: {error}") from None
    kinds = (kind,) if isinstance(kind, str) else kind
    if model.KIND not in kinds:
        needed = " or ".join(KIND_NAMES[k] for k in kinds)
        raise FileProblem(f"{name} holds {KIND_NAMES.get(model.KIND, model.KIND)} knowledge, "
                          f"but this needs {needed} knowledge")
    return model


async def knowledge_upload(input_element, kind, still_true):
    """(name, bytes, model) of the knowledge file chosen in `input_element`, or None: nothing was
    chosen, or the file was refused, and then #errors says why and that `still_true` holds."""
    chosen = await read_upload(input_element)
    if chosen is None:
        return None
    name, data = chosen
    try:
        return name, data, knowledge_from_bytes(data, name, kind)
    except FileProblem as problem:
        show_error(f"{sentence(problem)} {still_true}")
        return None


async def knowledge_from_url(url, kind):
    # The model's code is imported before the download, not with the parse after it: a view shown
    # for the first time while training runs then costs two short tasks instead of one long one.
    from models.knowledge import KINDS
    importlib.import_module(KINDS[kind][0])
    return knowledge_from_bytes(await fetch_bytes(url), url.rsplit("/", 1)[-1], kind)
