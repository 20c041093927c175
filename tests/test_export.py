"""devkit.export: the shipped knowledge files as ONNX, run in onnxruntime, agree with Falken."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from devkit import export, train
from models import blocks, knowledge as K
from models.layers import log_softmax
from models.rnn import rnn_forward
from models.ttt_player import Positions, encode
from tests.support.data import build_embedded

ROOT = Path(__file__).resolve().parent.parent
HAMLET = ROOT / "static/data/text/hamlet.txt"
ATOL = 1e-5


def run_export(src, out):
    return subprocess.run([sys.executable, "-m", "devkit.export", str(src), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def session(knowledge_file, tmp_path):
    out = tmp_path / (Path(knowledge_file).stem + ".onnx")
    r = run_export(knowledge_file, out)
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stdout and onnx.load(str(out)).opset_import[0].version == export.OPSET
    return ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def held_out_digits(tmp_path_factory):
    images, labels = blocks.load_split(build_embedded(tmp_path_factory.mktemp("mnist") / "mnist"), "test")
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255), labels


def test_digits_mlp_gives_falkens_probabilities_on_every_held_out_digit(tmp_path, held_out_digits):
    x, y = held_out_digits
    model = K.load(ROOT / "knowledge/digits.npz")
    got = session(ROOT / "knowledge/digits.npz", tmp_path).run(["probabilities"], {"x": x})[0]
    want = model.predict_proba(x)
    assert got.shape == (len(y), 10) and len(y) == 2000
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    assert (got.argmax(1) == y).mean() == model.evaluate(x, y)


@pytest.fixture(scope="module")
def cnn_file(tmp_path_factory, held_out_digits):
    """The shipped CNN when there is one, else a briefly trained one (real weights either way)."""
    shipped = ROOT / "knowledge/digits-cnn.npz"
    if shipped.exists():
        return shipped
    folder = tmp_path_factory.mktemp("cnn")
    model = train.train_digits(str(build_embedded(folder / "mnist")), epochs=1, model_kind="cnn",
                               conv=(8, 16), limit=2000, quiet=True)
    K.save(model, folder / "digits-cnn.npz")
    return folder / "digits-cnn.npz"


def test_digits_cnn_gives_falkens_probabilities_on_every_held_out_digit(tmp_path, held_out_digits, cnn_file):
    x, y = held_out_digits
    model = K.load(cnn_file)
    got = session(cnn_file, tmp_path).run(["probabilities"], {"x": x})[0]
    np.testing.assert_allclose(got, model.predict_proba(x), rtol=0, atol=ATOL)
    assert (got.argmax(1) == y).mean() == model.evaluate(x, y) > 0.5


def test_tictactoe_lstm_gives_falkens_move_probabilities_on_every_history(tmp_path):
    model = K.load(ROOT / "knowledge/tictactoe-hard.npz")
    sess = session(ROOT / "knowledge/tictactoe-hard.npz", tmp_path)
    positions = Positions()
    for arr, _ in positions.groups:                          # one group per history length
        histories = arr if arr.shape[1] else [()] * len(arr)
        x, legal = encode(histories)
        got = sess.run(["probabilities"], {"x": x, "legal": legal})[0]
        np.testing.assert_allclose(got, np.exp(model.log_probs(histories)), rtol=0, atol=ATOL)
        assert (got[~legal] == 0).all()


def falken_char_probs(model, ids, h0):
    """Falken's next-character probabilities after each id of (T, N) streams (its own forward)."""
    p = model.params
    hs, _ = rnn_forward(ids, p["Wx"], p["Wh"], p["b"], h0)
    return np.exp(log_softmax(hs @ p["Wy"] + p["by"])), hs[-1]


def check_char_rnn(sess, model, text):
    ids = model.encode(text)
    H = model.params["Wh"].shape[0]
    got, h = sess.run(None, {"ids": ids[:, None], "h0": np.zeros((1, 1, H), np.float32)})
    want, h_want = falken_char_probs(model, ids[:, None], np.zeros((1, H), np.float32))
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
    np.testing.assert_allclose(h[0], h_want, rtol=0, atol=ATOL)
    nats = -np.log(got[:-1, 0][np.arange(len(ids) - 1), ids[1:]]).mean()
    assert abs(nats - model.loss_on(ids)) < 1e-4             # the held-out figure, from ONNX
    return nats


def test_char_rnn_gives_falkens_next_character_probabilities_on_real_text(tmp_path):
    model = K.load(ROOT / "knowledge/text.npz")
    sess = session(ROOT / "knowledge/text.npz", tmp_path)
    check_char_rnn(sess, model, (ROOT / "README.md").read_text(encoding="utf-8"))
    # several streams at once, carrying a state in: h0 means what Falken's h0 means
    ids = model.encode((ROOT / "knowledge/README.md").read_text(encoding="utf-8"))[:4 * 300]
    streams = ids.reshape(4, 300).T
    _, h_mid = falken_char_probs(model, streams[:150], np.zeros((4, model.hyper["hidden"]), np.float32))
    got, _ = sess.run(None, {"ids": streams[150:], "h0": h_mid[None]})
    np.testing.assert_allclose(got, falken_char_probs(model, streams[150:], h_mid)[0], rtol=0, atol=ATOL)
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "text.onnx")).metadata_props}
    assert props["falken_kind"] == "char-rnn" and json.loads(props["falken_meta"])["vocab"] == model.vocab


@pytest.mark.skipif(not HAMLET.exists(), reason="run `make data` for static/data/text/hamlet.txt")
def test_char_rnn_on_the_held_out_tail_of_hamlet(tmp_path):
    model = K.load(ROOT / "knowledge/text.npz")
    text = HAMLET.read_text(encoding="utf-8")
    nats = check_char_rnn(session(ROOT / "knowledge/text.npz", tmp_path), model,
                          text[len(text) - len(text) // 10:])
    assert abs(nats - model.metrics["val_loss_per_char"]) < 0.01


def test_a_bad_input_file_gets_the_loaders_message(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"definitely not a zip")
    r = run_export(bad, tmp_path / "bad.onnx")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert f"{bad}: this is not a knowledge file (.npz): it is not a zip archive" in r.stderr
    assert not (tmp_path / "bad.onnx").exists()
    r = run_export(tmp_path / "missing.npz", tmp_path / "x.onnx")
    assert r.returncode != 0 and "cannot read" in r.stderr and "Traceback" not in r.stderr


def test_an_unwritable_output_gets_a_clear_message(tmp_path):
    r = run_export(ROOT / "knowledge/digits.npz", tmp_path / "no-such-folder" / "d.onnx")
    assert r.returncode != 0 and "cannot write it" in r.stderr and "Traceback" not in r.stderr


def test_a_kind_without_an_exporter_is_refused_by_name():
    class Other:
        KIND = "char-lstm"
    with pytest.raises(export.ExportError, match="'char-lstm' has no ONNX export"):
        export.to_onnx(Other())
