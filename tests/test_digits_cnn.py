"""Digits CNN: the MLP's interface (float32, in-place steps, flat weights), its dev-kit run, shipped file.

Its gradients are checked in tests/test_models_gradcheck.py, its Pyodide agreement in
tests/test_models_pyodide.py, its knowledge files in tests/test_knowledge*.py."""
from pathlib import Path

import numpy as np
import pytest

from models import knowledge as K
from models.cnn import CNN
from models.mlp import MLP

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "static" / "data" / "mnist"
SHIPPED = ROOT / "knowledge" / "digits-cnn.npz"
needs_data = pytest.mark.skipif(not (DATA / "manifest.json").exists(),
                                reason="MNIST blocks not built: run `make data`")


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)).astype(np.float32), rng.integers(0, 10, n)


def test_float32_throughout_and_in_place_updates():
    m = CNN(conv1=4, conv2=6)
    refs = dict(m.params)
    x, y = batch()
    for lr in (1e-3, 5e-4):
        m.train_step(x, y, lr=lr)
    assert m.lr == 5e-4
    for k, p in m.params.items():
        assert p is refs[k] and p.dtype == np.float32
        assert np.shares_memory(p, m.flat)
    assert m.predict_proba(x).dtype == np.float32


def test_train_step_learns_any_batch_size_and_optimizer():
    x, y = batch(32)
    img = x.reshape(32, 28, 28) * 0.3
    for i, label in enumerate(y):
        img[i, 2 + 2 * label:4 + 2 * label] = 1           # a bar at the height the label says
    x = img.reshape(32, 784)
    for opt, lr in (("adam", 3e-3), ("sgd", 0.05)):
        m = CNN(conv1=4, conv2=8, optimizer=opt, lr=lr)
        first = m.train_step(x, y)
        for bs in (1, 7, 32) * 10:                        # batch size may change between steps
            m.train_step(x[:bs], y[:bs])
        assert m.train_step(x, y) < first / 2, opt
    with pytest.raises(ValueError):
        CNN(optimizer="lbfgs")


def test_the_same_calls_as_the_mlp():
    """What the app's predictor, trainer and files use, by the same names and meanings."""
    x, y = batch(5)
    cnn, mlp = CNN(seed=1), MLP(seed=1)
    for m in (cnn, mlp):
        p = m.predict_proba(x)
        assert p.shape == (5, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5) and (p >= 0).all()
        assert m.evaluate(x, p.argmax(axis=1)) == 1.0 and m.evaluate(x, (p.argmax(axis=1) + 1) % 10) == 0.0
        assert isinstance(m.train_step(x, y), float) and m.KIND.startswith("mnist-")
        m.set_optimizer("adam", 1e-3)
    twin = CNN.from_flat(cnn.flat.tobytes())              # weights between threads as raw bytes
    assert np.array_equal(twin.predict_proba(x), cnn.predict_proba(x))
    other = CNN(seed=2)
    other.set_params(cnn.get_params())
    assert np.array_equal(other.predict_proba(x), cnn.predict_proba(x))
    with pytest.raises(ValueError, match="expected"):
        CNN.from_flat(mlp.flat.tobytes())


def test_sizes_params_and_flops():
    m = CNN()                                             # 16 and 32 channels
    assert m.n_params() == (25 * 16 + 16) + (25 * 16 * 32 + 32) + (4 * 4 * 32 * 10 + 10) == 18_378
    assert m.flops_per_sample() == 2 * (24 * 24 * 25 * 16 + 8 * 8 * 25 * 16 * 32 + 512 * 10)


def test_prediction_in_chunks_equals_one_at_a_time():
    m = CNN(conv1=4, conv2=6, seed=3)
    x, _ = batch(600)                                     # more than one inference chunk
    whole = m.predict_proba(x)
    assert np.allclose(whole[[0, 299, 599]], np.concatenate([m.predict_proba(x[i:i + 1]) for i in (0, 299, 599)]),
                       atol=1e-6)
    assert m.predict_proba(np.zeros((0, 784))).shape == (0, 10)


def test_affine_augmentation():
    from devkit.train import affine_batch
    img = np.zeros((3, 28, 28), np.uint8)
    img[:, 10:18, 12:15] = 200
    assert np.array_equal(affine_batch(img, np.random.default_rng(0), 0, 0, 0), img)   # nothing asked
    turned = affine_batch(img, np.random.default_rng(0), 0, 15, 0.15)
    assert turned.dtype == np.uint8 and not np.array_equal(turned, img)
    assert abs(turned.sum(dtype=int) / img.sum(dtype=int) - 1) < 0.3  # ink moves, it is not lost
    # a pure shift moves the ink's centre of mass by the (tx, ty) the generator hands out
    moved = affine_batch(img, np.random.default_rng(5), 2, 0, 0).astype(float)
    rng = np.random.default_rng(5)
    rng.uniform(0, 0, 3), rng.uniform(0, 0, 3)           # the angle and scale draws
    tx, ty = rng.uniform(-2, 2, (2, 3))
    rows, cols = np.arange(28)[:, None], np.arange(28)[None, :]
    mass = lambda im: ((im * rows).sum() / im.sum(), (im * cols).sum() / im.sum())
    for k in range(3):
        (r0, c0), (r1, c1) = mass(img[k].astype(float)), mass(moved[k])
        assert abs(r1 - r0 - ty[k]) < 0.1 and abs(c1 - c0 - tx[k]) < 0.1
    # an elastic bend (no shift) changes the strokes' shape; it moves them by about its RMS
    bent = affine_batch(img, np.random.default_rng(2), 0, 0, 0, elastic=1.0)
    assert not np.array_equal(bent, img) and abs(bent.sum(dtype=int) / img.sum(dtype=int) - 1) < 0.3
    for k in range(3):
        assert np.hypot(*np.subtract(mass(bent[k].astype(float)), mass(img[k].astype(float)))) < 3   # 3 x the RMS


@needs_data
def test_a_short_cnn_run_learns_digits_and_evaluates(tmp_path, capsys):
    from devkit import evaluate as ev
    from devkit import train
    out = tmp_path / "c.npz"
    m = train.train_digits(str(DATA), epochs=2, lr=3e-3, seed=1, quiet=True, limit=3000,
                           model_kind="cnn", conv=(4, 8), rotate=5, scale=0.05)
    assert m.metrics["train_count"] == 3000 and m.metrics["rotate"] == 5
    K.save(m, out)
    figures = ev.main([str(out)])
    assert figures["test_accuracy"] > 0.85 and figures["test_count"] == 2000
    assert K.load(out).KIND == "mnist-cnn" and "test_accuracy:" in capsys.readouterr().out


@needs_data
def test_shipped_cnn_file_meets_its_figure():
    from models import blocks
    m = K.load(SHIPPED)
    xt, yt = blocks.load_split(str(DATA), "test")
    acc = m.evaluate(xt.reshape(len(xt), -1) / 255.0, yt)
    assert acc >= 0.99 and m.KIND == "mnist-cnn"
    assert acc == pytest.approx(m.knowledge_meta["metrics"]["test_accuracy"], abs=1e-9)
    assert m.knowledge_meta["metrics"]["test_count"] == len(yt) == 2000
    assert SHIPPED.stat().st_size < 1_000_000
