"""Knowledge files: a model's weights + JSON meta in an .npz, saved and loaded safely.

Format (DESIGN.md §3): a zip of .npy members, one per parameter, plus `meta.npy`, a 0-d
unicode array holding JSON {"format": "falken-knowledge", "version": 1, "kind", "shapes",
"hyper", "metrics", ...}. Files come from strangers (uploads), so load() trusts nothing:
it never unpickles, checks every member's declared size and .npy header against the shapes
the model kind implies BEFORE reading data, reads at most the declared bytes, and rejects
NaN/inf. Whatever goes wrong, the caller gets a KnowledgeError with a readable message.
"""
import importlib
import io
import json
import os
import zipfile

import numpy as np

FORMAT, VERSION = "falken-knowledge", 1
MAX_FILE_BYTES = 8 * 1024 * 1024      # shipped files are <= 4 MB; uploads beyond this are refused
MAX_META_BYTES = 1024 * 1024          # the JSON meta (char-rnn/-lstm vocab included) is small
MAX_PARAMS = 2_000_000                # total float32 values a file may declare
DTYPE = np.dtype("<f4")               # every parameter is stored as little-endian float32

# kind -> (module, class); imported lazily so loading a tic-tac-toe file needs no MLP code
KINDS = {
    "tictactoe-lstm": ("models.ttt_player", "TicTacToeLSTM"),
    "mnist-mlp": ("models.mlp", "MLP"),
    "mnist-cnn": ("models.cnn", "CNN"),
    "char-rnn": ("models.charrnn", "CharRNN"),
    "char-lstm": ("models.charlstm", "CharLSTM"),
}


class KnowledgeError(Exception):
    """A knowledge file could not be used; str(e) says why, in words a person understands."""


def _model_class(kind):
    if kind not in KINDS:
        raise KnowledgeError(f"unknown model kind {kind!r}; expected one of {sorted(KINDS)}")
    mod, name = KINDS[kind]
    return getattr(importlib.import_module(mod), name)


# saving ------------------------------------------------------------------------------------
def to_bytes(model):
    """Serialise a model (anything with KIND, params, hyper, metrics) to .npz bytes."""
    meta = {"format": FORMAT, "version": VERSION, "kind": model.KIND,
            "shapes": {k: list(v.shape) for k, v in model.params.items()},
            "hyper": model.hyper, "metrics": getattr(model, "metrics", {})}
    meta.update(getattr(model, "extra_meta", lambda: {})())
    arrays = {k: np.ascontiguousarray(v, dtype=DTYPE) for k, v in model.params.items()}
    if "meta" in arrays:
        raise ValueError("a parameter may not be called 'meta'")
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return buf.getvalue()


def save(model, path_or_file):
    """Write a knowledge file to a path or a binary file object (e.g. io.BytesIO)."""
    data = to_bytes(model)
    if hasattr(path_or_file, "write"):
        path_or_file.write(data)
    else:
        with open(path_or_file, "wb") as f:
            f.write(data)


# loading -----------------------------------------------------------------------------------
def load(path_or_bytes):
    """Load a knowledge file (path, bytes-like or binary file object) into its model."""
    data = _read_source(path_or_bytes)
    try:
        return _parse(data)
    except KnowledgeError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged zip can fail in many library-specific ways
        raise KnowledgeError(f"the file is damaged or not a knowledge file ({type(e).__name__}: {e})") from None


def read_meta(path_or_bytes):
    """Only the validated meta dict (for `evaluate` and the app's file pickers)."""
    return load(path_or_bytes).knowledge_meta


def _read_source(src):
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
    elif isinstance(src, (str, os.PathLike)):
        try:
            with open(src, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise KnowledgeError(f"cannot read {os.fspath(src)!r}: {e.strerror or e}") from None
    elif hasattr(src, "read"):
        data = src.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise KnowledgeError("the file object must be opened in binary mode")
        data = bytes(data)
    else:
        raise KnowledgeError(f"expected a path, bytes or a binary file, got {type(src).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise KnowledgeError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB; knowledge files are small")
    if len(data) == 0:
        raise KnowledgeError("the file is empty")
    if not data.startswith(b"PK"):
        raise KnowledgeError("this is not a knowledge file (.npz): it is not a zip archive")
    return data


def _parse(data):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise KnowledgeError("this is not a knowledge file (.npz): the zip archive is damaged or truncated") from None
    infos = {}
    for info in zf.infolist():
        if info.filename in infos:
            raise KnowledgeError(f"the file holds {info.filename!r} twice")
        infos[info.filename] = info
    if "meta.npy" not in infos:
        raise KnowledgeError("the file has no 'meta' entry, so it is not a Falken knowledge file")
    meta = _read_meta(zf, infos["meta.npy"])
    cls = _model_class(meta["kind"])
    try:
        expected = {k: tuple(int(d) for d in v) for k, v in cls.shapes(meta["hyper"]).items()}
    except (KeyError, TypeError, ValueError) as e:
        raise KnowledgeError(f"the hyper-parameters in meta are invalid for {meta['kind']}: {e}") from None
    if sum(int(np.prod(s)) for s in expected.values()) > MAX_PARAMS:
        raise KnowledgeError(f"the model declares more than {MAX_PARAMS:,} parameters")
    declared = meta["shapes"]
    if not isinstance(declared, dict) or {k: _as_shape(v) for k, v in declared.items()} != expected:
        raise KnowledgeError(f"the shapes in meta do not match a {meta['kind']} model with these hyper-parameters")
    present = {n[:-4] for n in infos if n != "meta.npy" and n.endswith(".npy")}
    others = [n for n in infos if n != "meta.npy" and not n.endswith(".npy")]
    missing, extra = sorted(set(expected) - present), sorted(present - set(expected)) + others
    if missing:
        raise KnowledgeError(f"the file lacks the array(s) {', '.join(missing)}")
    if extra:
        raise KnowledgeError(f"the file holds unexpected entries: {', '.join(extra)}")
    arrays = {k: _read_array(zf, infos[k + ".npy"], k, shape) for k, shape in expected.items()}
    try:
        model = cls.from_knowledge(meta, arrays)
    except (KeyError, TypeError, ValueError) as e:
        raise KnowledgeError(f"the file's contents do not make a valid {meta['kind']} model: {e}") from None
    model.knowledge_meta = meta
    return model


def _as_shape(v):
    if not isinstance(v, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in v):
        return None
    return tuple(v)


def _open_npy(zf, info, name, max_data):
    """Open a member, check its declared size, parse its .npy header. Returns (f, dtype, shape)."""
    if info.file_size > max_data + 4096:
        raise KnowledgeError(f"'{name}' is larger than its declared shape allows")
    f = zf.open(info)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise KnowledgeError(f"'{name}' uses an unsupported .npy version {version}")
    except ValueError as e:
        raise KnowledgeError(f"'{name}' is not a valid .npy array: {e}") from None
    if dtype.hasobject:
        raise KnowledgeError(f"'{name}' holds Python objects (pickled data), which are never loaded")
    if fortran:
        raise KnowledgeError(f"'{name}' is stored in Fortran order; expected C order")
    return f, dtype, shape


def _read_exact(f, n, name):
    data = f.read(n + 1)          # one byte more reveals trailing junk; EOF also checks the CRC
    if len(data) != n:
        raise KnowledgeError(f"'{name}' is {'truncated' if len(data) < n else 'longer than its header says'}")
    return data


def _read_meta(zf, info):
    f, dtype, shape = _open_npy(zf, info, "meta", MAX_META_BYTES)
    if dtype.kind != "U" or shape != ():
        raise KnowledgeError("'meta' must be a single unicode string of JSON")
    if dtype.itemsize > MAX_META_BYTES:
        raise KnowledgeError("'meta' is too large")
    raw = _read_exact(f, dtype.itemsize, "meta")
    text = str(np.frombuffer(raw, dtype)[0])
    try:
        meta = json.loads(text)
    except ValueError:
        raise KnowledgeError("'meta' is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise KnowledgeError("this .npz is not a Falken knowledge file (meta.format is missing or wrong)")
    if meta.get("version") != VERSION:
        raise KnowledgeError(f"knowledge format version {meta.get('version')!r} is not supported (this app reads version {VERSION})")
    if not isinstance(meta.get("kind"), str):
        raise KnowledgeError("meta.kind is missing")
    for key in ("shapes", "hyper", "metrics"):
        if not isinstance(meta.get(key), dict):
            raise KnowledgeError(f"meta.{key} is missing or not an object")
    return meta


def _read_array(zf, info, name, shape, expected_dtype=DTYPE):
    """A member of exactly `shape` and `expected_dtype` (models/checkpoint.py reads more than float32)."""
    n = int(np.prod(shape)) * expected_dtype.itemsize
    f, dtype, got_shape = _open_npy(zf, info, name, n)
    if dtype != expected_dtype:
        raise KnowledgeError(f"'{name}' has dtype {dtype}; expected {expected_dtype.name}")
    if tuple(got_shape) != shape:
        raise KnowledgeError(f"'{name}' has shape {tuple(got_shape)}; expected {shape}")
    arr = np.frombuffer(_read_exact(f, n, name), expected_dtype).reshape(shape).astype(expected_dtype.newbyteorder("="))
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise KnowledgeError(f"'{name}' contains NaN or infinite values")
    return arr
