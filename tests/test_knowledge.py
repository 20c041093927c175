"""Knowledge files: round trips for every kind, and strict, readable refusal of bad files."""
import io
import json
import zipfile

import numpy as np
import pytest

from models import knowledge as K
from models.charrnn import CharRNN
from models.cnn import CNN
from models.mlp import MLP
from models.ttt_player import TicTacToeLSTM


def small_models():
    return [TicTacToeLSTM(hidden=8, seed=1), MLP(hidden=16, seed=1), CharRNN("ab c\n", hidden=8, seed=1),
            CNN(conv1=3, conv2=5, seed=1)]


def craft(arrays, meta, allow_pickle=False, compress=zipfile.ZIP_DEFLATED):
    """An .npz built by hand so each test can break exactly one thing."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        for name, arr in {"meta": np.array(json.dumps(meta)), **arrays}.items():
            with zf.open(name + ".npy", "w") as f:
                np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=allow_pickle)
    return buf.getvalue()


def parts(model):
    """(arrays, meta) of a valid file for this model."""
    z = np.load(io.BytesIO(K.to_bytes(model)), allow_pickle=False)
    arrays = {k: z[k] for k in z.files if k != "meta"}
    return arrays, json.loads(str(z["meta"]))


def refused(data, *words):
    with pytest.raises(K.KnowledgeError) as e:
        K.load(data)
    msg = str(e.value)
    for w in words:
        assert w.lower() in msg.lower(), msg
    return msg


# round trips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model", small_models(), ids=lambda m: m.KIND)
def test_round_trip_through_bytes_bytesio_and_path(model, tmp_path):
    model.metrics = {"note": "hello", "rate": 0.5}
    data = K.to_bytes(model)
    buf = io.BytesIO()
    K.save(model, buf)
    K.save(model, tmp_path / "m.npz")
    assert buf.getvalue() == data == (tmp_path / "m.npz").read_bytes()
    for src in (data, bytearray(data), memoryview(data), io.BytesIO(data), tmp_path / "m.npz", str(tmp_path / "m.npz")):
        back = K.load(src)
        assert type(back) is type(model) and back.hyper == model.hyper and back.metrics == model.metrics
        for k, p in model.params.items():
            assert back.params[k].dtype == np.float32 and np.array_equal(back.params[k], p)
    meta = back.knowledge_meta
    assert meta["format"] == "falken-knowledge" and meta["version"] == 1 and meta["kind"] == model.KIND
    # numpy itself opens it without pickle
    assert "meta" in np.load(io.BytesIO(data), allow_pickle=False).files


def test_loaded_models_predict_the_same():
    t, m, c, n = small_models()
    assert K.load(K.to_bytes(t)).choose([4, 0]) == t.choose([4, 0])
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    assert np.array_equal(K.load(K.to_bytes(m)).predict_proba(x), m.predict_proba(x))
    assert np.array_equal(K.load(K.to_bytes(n)).predict_proba(x), n.predict_proba(x))
    back = K.load(K.to_bytes(c))
    assert back.vocab == c.vocab and back.sample("a", 30, 0.8, 5) == c.sample("a", 30, 0.8, 5)


# refusals ------------------------------------------------------------------------------------
def test_not_a_zip_empty_and_wrong_source_types(tmp_path):
    refused(b"", "empty")
    refused(b"hello world, I am text", "not a zip")
    refused(b"\x93NUMPY\x01\x00", "not a zip")
    refused(b"PK\x03\x04" + b"\0" * 40, "damaged")
    refused(tmp_path / "missing.npz", "cannot read")
    refused(12345, "expected a path")
    refused(io.StringIO("PK"), "binary")


def test_truncated_files_are_refused():
    data = K.to_bytes(small_models()[0])
    for cut in (4, 30, len(data) // 2, len(data) - 22, len(data) - 1):
        refused(data[:cut])


def test_oversized_file_is_refused_without_parsing():
    refused(b"PK" + b"\0" * K.MAX_FILE_BYTES, "larger than")


def test_wrong_format_version_and_kind():
    arrays, meta = parts(small_models()[0])
    refused(craft(arrays, {**meta, "version": 2}), "version 2")
    refused(craft(arrays, {**meta, "format": "other"}), "not a falken knowledge file")
    refused(craft(arrays, {**meta, "kind": "chess-transformer"}), "unknown model kind", "chess-transformer")
    refused(craft(arrays, {k: v for k, v in meta.items() if k != "hyper"}), "meta.hyper")
    refused(craft(arrays, {**meta, "hyper": {"hidden": -3}}), "hyper-parameters")
    refused(craft(arrays, {**meta, "hyper": {"hidden": 10**9}}), "hyper-parameters")


def test_meta_must_be_json_in_a_unicode_scalar():
    arrays, meta = parts(small_models()[0])
    good = craft(arrays, meta)
    assert K.load(good)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array("{not json"), **arrays)
    refused(buf.getvalue(), "not valid json")
    buf = io.BytesIO()
    np.savez(buf, meta=np.zeros(3, np.float32), **arrays)
    refused(buf.getvalue(), "unicode string")
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    refused(buf.getvalue(), "no 'meta'")


def test_missing_and_extra_arrays():
    arrays, meta = parts(small_models()[1])
    refused(craft({k: v for k, v in arrays.items() if k != "W2"}, meta), "lacks", "W2")
    refused(craft({**arrays, "W3": np.zeros(3, np.float32)}, meta), "unexpected", "W3")


def test_wrong_shapes_in_meta_or_in_the_arrays():
    arrays, meta = parts(small_models()[1])
    refused(craft(arrays, {**meta, "shapes": {**meta["shapes"], "b1": [17]}}), "shapes in meta")
    refused(craft({**arrays, "b1": np.zeros(17, np.float32)}, meta), "b1", "shape")
    refused(craft({**arrays, "W1": arrays["W1"].T.copy()}, meta), "W1", "shape")


def test_wrong_dtypes_and_fortran_order():
    arrays, meta = parts(small_models()[1])
    refused(craft({**arrays, "b1": arrays["b1"].astype(np.float64)}, meta), "b1", "float32")
    refused(craft({**arrays, "b2": arrays["b2"].astype(">f4")}, meta), "b2", "float32")
    refused(craft({**arrays, "b2": np.zeros(10, np.int32)}, meta), "b2", "float32")
    refused(craft({**arrays, "W2": np.asfortranarray(arrays["W2"])}, meta), "fortran")


def test_object_arrays_are_never_unpickled(monkeypatch):
    import pickle
    arrays, meta = parts(small_models()[1])
    called = []
    monkeypatch.setattr(pickle, "load", lambda *a, **k: called.append(1))
    obj = np.empty(10, object)
    refused(craft({**arrays, "b2": obj}, meta, allow_pickle=True), "pickled")
    refused(_pickled_meta(arrays, meta), "pickled")
    assert not called


def _pickled_meta(arrays, meta):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        with zf.open("meta.npy", "w") as f:
            np.lib.format.write_array(f, np.array([meta], dtype=object), allow_pickle=True)
        for k, v in arrays.items():
            with zf.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, v)
    return buf.getvalue()


def test_nan_and_inf_are_refused():
    arrays, meta = parts(small_models()[1])
    for bad in (np.nan, np.inf, -np.inf):
        b1 = arrays["b1"].copy()
        b1[3] = bad
        refused(craft({**arrays, "b1": b1}, meta), "b1", "nan or infinite")


def test_member_sizes_are_checked_before_reading():
    """A member that decompresses to far more than its shape allows (a zip bomb) is refused
    from the zip directory alone; one shorter than its header says is 'truncated'."""
    arrays, meta = parts(small_models()[1])
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arrays["b1"])
    header_and_data = buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.npy", _npy(np.array(json.dumps(meta))))
        for k, v in arrays.items():
            if k == "b1":
                zf.writestr("b1.npy", header_and_data + b"\0" * 50_000_000)   # ~50 MB of zeros
            else:
                zf.writestr(k + ".npy", _npy(v))
    assert len(out.getvalue()) < 200_000
    refused(out.getvalue(), "b1", "larger than its declared shape")
    short = io.BytesIO()
    with zipfile.ZipFile(short, "w") as zf:
        zf.writestr("meta.npy", _npy(np.array(json.dumps(meta))))
        for k, v in arrays.items():
            zf.writestr(k + ".npy", _npy(v)[:-8] if k == "W1" else _npy(v))
    refused(short.getvalue(), "W1", "truncated")


def _npy(a):
    b = io.BytesIO()
    np.lib.format.write_array(b, a)
    return b.getvalue()


def test_duplicate_members_are_refused():
    arrays, meta = parts(small_models()[0])
    data = craft(arrays, meta)
    out = io.BytesIO(data)
    with pytest.warns(UserWarning), zipfile.ZipFile(out, "a") as zf:
        zf.writestr("by.npy", _npy(arrays["by"]))
    refused(out.getvalue(), "twice")


def test_char_rnn_vocabulary_is_checked():
    arrays, meta = parts(small_models()[2])
    refused(craft(arrays, {**meta, "vocab": "abcd"}), "vocab")
    refused(craft(arrays, {**meta, "vocab": "aabc\n"}), "distinct")
    refused(craft(arrays, {k: v for k, v in meta.items() if k != "vocab"}), "vocab")


def test_cnn_hyper_shapes_and_values_are_checked():
    arrays, meta = parts(small_models()[3])
    for hyper, word in (({**meta["hyper"], "kernel": 3}, "kernel"), ({**meta["hyper"], "conv1": 0}, "conv1"),
                        ({**meta["hyper"], "conv2": 10**6}, "conv2"), ({**meta["hyper"], "conv1": True}, "conv1"),
                        ({"conv1": 3, "kernel": 5}, "conv2")):
        refused(craft(arrays, {**meta, "hyper": hyper}), "hyper-parameters", word)
    refused(craft(arrays, {**meta, "hyper": {**meta["hyper"], "conv2": 6}}), "shapes in meta")
    refused(craft({**arrays, "K2": arrays["K2"].reshape(-1, 5).copy()}, meta), "K2", "shape")
    refused(craft({k: v for k, v in arrays.items() if k != "W3"}, meta), "lacks", "W3")
    K2 = arrays["K2"].copy()
    K2[1, 2, 0, 4] = np.nan
    refused(craft({**arrays, "K2": K2}, meta), "K2", "nan or infinite")
