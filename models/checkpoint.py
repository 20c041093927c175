"""Training checkpoints: a model, its Adam state and a session's progress, in one .npz.

Written by a training session in the worker, kept by the page in IndexedDB, read back on the
next visit — so read like an upload: a saved checkpoint may come from another version of
Falken, a damaged disk or a hand-edited database. The layout is a knowledge file's (DESIGN.md
§3) with more members:

  meta            0-d unicode JSON {"format": "falken-checkpoint", "version": 1, "session",
                  "saved_at" (Unix seconds), "model": {"kind", "hyper", "metrics", "vocab"?},
                  "optimizer": {"t", "lr", "beta1", "beta2", "eps"}, "progress": {...},
                  "extra": {name: [dtype, shape]}}
  model.<name>    the model's parameters, float32, shapes implied by kind + hyper
  adam.u.<name>   Adam's two moving averages, one per array the optimiser updates (the flat
  adam.w.<name>   buffer of the digits models, each parameter of the text models)
  extra.<name>    session-specific arrays (chart series, recurrent state, the training text),
                  each declared in meta.extra and allowed by the session's reader

decode() checks everything against what the session's reader declares before reading data,
never unpickles, and rejects NaN/inf; whatever is wrong comes out as a CheckpointError.
"""
import io
import json
import math
import time
import zipfile

import numpy as np

from .flat import FlatWeights
from .knowledge import MAX_PARAMS, KnowledgeError, _model_class, _open_npy, _read_array, _read_exact
from .optim import Adam

FORMAT, VERSION = "falken-checkpoint", 1
MAX_BYTES = 48 * 1024 * 1024      # the largest, a char-LSTM with its text, is ~12 MB
MAX_META_BYTES = 1024 * 1024
SESSIONS = {"digits": ("mnist-mlp", "mnist-cnn"), "text": ("char-rnn", "char-lstm")}
DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8"), "int64": np.dtype("<i8"),
          "uint8": np.dtype("|u1")}


class CheckpointError(KnowledgeError):
    """A saved checkpoint could not be used; str(e) says why in plain words."""


class Checkpoint:
    """What decode() found: meta, the model (weights in place), Adam's state, progress, extras."""

    def __init__(self, meta, model, adam, extra):
        self.meta, self.model, self.adam, self.extra = meta, model, adam, extra
        self.progress = meta["progress"]
        self.saved_at = meta["saved_at"]

    def restore_adam(self, optimizer):
        """Put the saved step count, step size and moving averages into `optimizer` (in place:
        the model's arrays and the optimiser's stay the same objects)."""
        if set(optimizer.u) != set(self.adam["u"]):
            raise CheckpointError("the saved optimiser state does not fit this model")
        for k in optimizer.u:
            optimizer.u[k][...] = self.adam["u"][k]
            optimizer.w[k][...] = self.adam["w"][k]
        optimizer.t, optimizer.lr = self.adam["t"], self.adam["lr"]
        optimizer.b1, optimizer.b2, optimizer.eps = self.adam["beta1"], self.adam["beta2"], self.adam["eps"]


# writing -------------------------------------------------------------------------------------
def encode(session, model, optimizer, progress, extra=None, saved_at=None):
    """Checkpoint bytes for `model` trained by `optimizer` (an Adam) in a `session` ("digits"
    or "text"); `progress` is JSON-able, `extra` maps names to arrays of a DTYPES type."""
    extra = {k: np.ascontiguousarray(v) for k, v in (extra or {}).items()}
    names = {v: k for k, v in DTYPES.items()}
    meta = {"format": FORMAT, "version": VERSION, "session": session,
            "saved_at": time.time() if saved_at is None else saved_at,
            "model": {"kind": model.KIND, "hyper": model.hyper, "metrics": getattr(model, "metrics", {}),
                      **getattr(model, "extra_meta", dict)()},
            "optimizer": {"t": optimizer.t, "lr": float(optimizer.lr), "beta1": optimizer.b1,
                          "beta2": optimizer.b2, "eps": optimizer.eps},
            "progress": progress,
            "extra": {k: [names[v.dtype], list(v.shape)] for k, v in extra.items()}}
    arrays = {f"model.{k}": v for k, v in model.params.items()}
    arrays.update({f"adam.u.{k}": v for k, v in optimizer.u.items()})
    arrays.update({f"adam.w.{k}": v for k, v in optimizer.w.items()})
    arrays.update({f"extra.{k}": v for k, v in extra.items()})
    buffer = io.BytesIO()
    # Stored, not deflated: weights and moments barely compress, and a save every few seconds
    # should cost a copy, not a compression of megabytes.
    np.savez(buffer, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return buffer.getvalue()


# reading -------------------------------------------------------------------------------------
def decode(data, session, allowed_extra):
    """The Checkpoint in `data` for `session`, or CheckpointError. `allowed_extra` maps each
    extra array the session may keep to (dtype name, shape); see _check_extra."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise CheckpointError("the saved training is empty")
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"the saved training is larger than {MAX_BYTES // 2**20} MB")
    try:
        return _parse(bytes(data), session, allowed_extra)
    except KnowledgeError as error:
        raise CheckpointError(str(error)) from None
    except Exception as error:  # noqa: BLE001 - a damaged zip fails in many library-specific ways
        raise CheckpointError(f"the saved training is damaged ({type(error).__name__}: {error})") from None


def _parse(data, session, allowed_extra):
    if not data.startswith(b"PK"):
        raise CheckpointError("the saved training is not a Falken checkpoint (not a zip archive)")
    zf = zipfile.ZipFile(io.BytesIO(data))
    infos = {}
    for info in zf.infolist():
        if info.filename in infos:
            raise CheckpointError(f"the saved training holds {info.filename!r} twice")
        infos[info.filename] = info
    if "meta.npy" not in infos:
        raise CheckpointError("the saved training has no 'meta' entry")
    meta = _read_meta(zf, infos["meta.npy"], session)
    model_meta = meta["model"]
    cls = _model_class(model_meta["kind"])
    try:
        shapes = {k: tuple(int(d) for d in v) for k, v in cls.shapes(model_meta["hyper"]).items()}
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"the saved hyper-parameters are invalid for {model_meta['kind']}: {error}") from None
    if sum(math.prod(s) for s in shapes.values()) > MAX_PARAMS:
        raise CheckpointError(f"the saved model declares more than {MAX_PARAMS:,} parameters")
    params = {k: _read_array(zf, _member(infos, f"model.{k}"), k, s) for k, s in shapes.items()}
    try:
        model = cls.from_knowledge({"hyper": model_meta["hyper"], "metrics": model_meta["metrics"],
                                    "vocab": model_meta.get("vocab")}, params)
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"the saved model is not a valid {model_meta['kind']}: {error}") from None
    # What the optimiser updates: the one flat buffer of a digits model, else each parameter.
    updated = {"flat": model.flat.shape} if isinstance(model, FlatWeights) else shapes
    adam = dict(meta["optimizer"])
    for which in ("u", "w"):
        adam[which] = {k: _read_array(zf, _member(infos, f"adam.{which}.{k}"), f"adam {which} {k}", s)
                       for k, s in updated.items()}
    if any((w < 0).any() for w in adam["w"].values()):
        raise CheckpointError("the saved optimiser state has a negative second moment")
    extra = {}
    for name, (dtype_name, shape) in meta["extra"].items():
        _check_extra(name, dtype_name, shape, allowed_extra)
        extra[name] = _read_array(zf, _member(infos, f"extra.{name}"), name, tuple(shape), DTYPES[dtype_name])
    expected = {"meta.npy"} | {f"model.{k}.npy" for k in shapes} | {f"extra.{k}.npy" for k in extra} \
        | {f"adam.{w}.{k}.npy" for w in "uw" for k in updated}
    unexpected = sorted(set(infos) - expected)
    if unexpected:
        raise CheckpointError(f"the saved training holds unexpected entries: {', '.join(unexpected)}")
    return Checkpoint(meta, model, adam, extra)


def _member(infos, name):
    info = infos.get(name + ".npy")
    if info is None:
        raise CheckpointError(f"the saved training lacks {name}")
    return info


def _check_extra(name, dtype_name, shape, allowed):
    """allowed[name] = (dtype name, shape): each dimension an int it must equal, or a
    (lo, hi) range it must fall in."""
    if name not in allowed:
        raise CheckpointError(f"the saved training holds an array {name!r} this session does not keep")
    want_dtype, want_shape = allowed[name]
    if dtype_name != want_dtype:
        raise CheckpointError(f"the saved {name} has type {dtype_name!r}; expected {want_dtype}")
    if not isinstance(shape, list) or len(shape) != len(want_shape) or not all(
            _is_int(d) and (d == want if _is_int(want) else want[0] <= d <= want[1])
            for d, want in zip(shape, want_shape)):
        raise CheckpointError(f"the saved {name} has the shape {shape}, which this session does not use")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _read_meta(zf, info, session):
    f, dtype, shape = _open_npy(zf, info, "meta", MAX_META_BYTES)
    if dtype.kind != "U" or shape != () or dtype.itemsize > MAX_META_BYTES:
        raise CheckpointError("the saved training's 'meta' is not a single string of JSON")
    text = str(np.frombuffer(_read_exact(f, dtype.itemsize, "meta"), dtype)[0])
    try:
        meta = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise CheckpointError("the saved training's 'meta' is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError("this is not a Falken training checkpoint (meta.format is missing or wrong)")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {meta.get('version')!r} is not supported "
                              f"(this Falken reads version {VERSION})")
    if meta.get("session") != session:
        raise CheckpointError(f"this checkpoint is of {meta.get('session')!r} training, not {session}")
    model = meta.get("model")
    if not isinstance(model, dict) or model.get("kind") not in SESSIONS[session]:
        raise CheckpointError(f"the saved model kind is not one of {', '.join(SESSIONS[session])}")
    for key in ("hyper", "metrics"):
        if not isinstance(model.get(key), dict):
            raise CheckpointError(f"the saved model's {key} is missing")
    for key in ("progress", "extra", "optimizer"):
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(f"meta.{key} is missing or not an object")
    number(meta, "saved_at", 0, 1e11)
    adam = meta["optimizer"]
    number(adam, "t", 0, 10**12, integer=True)
    number(adam, "lr", 0, 10)
    number(adam, "beta1", *Adam.BETAS)
    number(adam, "beta2", *Adam.BETAS)
    number(adam, "eps", 0, 1)
    return meta


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number")


def number(values, key, lo, hi, integer=False, optional=False):
    """values[key] if it is a number in [lo, hi] (an int where `integer`; None where
    `optional`), else CheckpointError naming it: progress a session reads back goes through this."""
    value = values.get(key) if isinstance(values, dict) else None
    if value is None and optional:
        return None
    kinds = (int,) if integer else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or not math.isfinite(value) or not lo <= value <= hi:
        raise CheckpointError(f"the saved {key} is missing or out of range")
    return value

