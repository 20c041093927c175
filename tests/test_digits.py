"""Digits: the MLP (gradients, batch-1 fast path, API), drawing preprocessing, shipped file."""
from pathlib import Path

import numpy as np
import pytest

from models import knowledge as K
from models.mlp import MLP
from models.preprocess import drawing_to_mnist, is_empty, resize

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "static" / "data" / "mnist"
needs_data = pytest.mark.skipif(not (DATA / "manifest.json").exists(),
                                reason="MNIST blocks not built: run `make data`")


def mlp64(hidden=5, seed=0):
    m = MLP(hidden=hidden, seed=seed, dtype=np.float64)
    for k in m.params:                         # non-zero biases so every path is exercised
        m.params[k] += np.random.default_rng(1).standard_normal(m.params[k].shape) * 0.1
    return m


@pytest.mark.parametrize("n", [1, 4])
def test_mlp_gradients_match_finite_differences(n):
    m = mlp64()
    rng = np.random.default_rng(n)
    x, y = rng.random((n, 784)), rng.integers(0, 10, n)
    m.loss_and_grads(x, y)
    grads = {k: g.copy() for k, g in m.grads.items()}
    for k, p in m.params.items():
        idx = rng.choice(p.size, min(p.size, 40), replace=False)   # W1 is big: a random sample
        for i in idx:
            j = np.unravel_index(i, p.shape)
            old = p[j]
            p[j] = old + 1e-6
            lp = m.loss_and_grads(x, y)
            p[j] = old - 1e-6
            lm = m.loss_and_grads(x, y)
            p[j] = old
            num = (lp - lm) / 2e-6
            assert abs(num - grads[k][j]) <= 1e-5 * max(abs(num) + abs(grads[k][j]), 1e-7), (k, j)


def test_batch_one_fast_path_equals_the_general_path():
    m = mlp64()
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 784)), np.array([3, 3])
    m.loss_and_grads(x[:1], y[:1])
    one = {k: g.copy() for k, g in m.grads.items()}
    m.loss_and_grads(np.repeat(x[:1], 2, axis=0), y)       # same sample twice: same mean gradient
    for k in one:
        assert np.allclose(one[k], m.grads[k]), k



@pytest.mark.parametrize("n", [1, 32])
def test_skipping_a_batchs_blank_pixels_gives_the_dense_loss_and_gradients(monkeypatch, n):
    """The path Pyodide takes (no BLAS): only the batch's inked pixels enter both W1 products."""
    import models.mlp
    rng = np.random.default_rng(4)
    x = rng.random((n, 784)) * (rng.random((n, 784)) < 0.05)    # most pixels blank
    x[:, :100] = 0                                              # and a border no sample inks
    y = rng.integers(0, 10, n)
    m = mlp64()
    dense_loss = m.loss_and_grads(x, y)
    dense = {k: g.copy() for k, g in m.grads.items()}
    m.loss_and_grads(rng.random((n, 784)) + 0.01, y)            # a step that wrote every row: stale
    monkeypatch.setattr(models.mlp, "SKIP_BLANK", True)
    assert m._batch_ink(x) is not None
    assert m.loss_and_grads(x, y) == pytest.approx(dense_loss, rel=1e-12)
    for k in dense:
        assert np.allclose(m.grads[k], dense[k], rtol=1e-10, atol=1e-14), k
    assert not m.grads["W1"][:100].any()
    full = rng.random((n, 784)) + 0.01                          # every pixel inked: dense products
    assert m._batch_ink(full) is None

def twice(x, y):
    """The batch with every sample twice: the same mean gradient, and never the batch-1 path."""
    return np.repeat(x, 2, axis=0), np.repeat(y, 2)


def dense_twin(model, monkeypatch):
    """`model`, set to take the dense products (BLAS's path beyond batch 1) from now on."""
    import models.mlp
    monkeypatch.setattr(models.mlp, "SKIP_BLANK", False)
    return model


def test_the_rows_the_optimiser_is_told_of_are_the_only_nonzero_rows_step_after_step(monkeypatch):
    """Skipping blank pixels, each step writes only its inked rows of dW1 and clears the last
    step's: the gradient is still the dense one, and grad_rows names exactly its nonzero rows."""
    import models.mlp
    rng = np.random.default_rng(5)
    monkeypatch.setattr(models.mlp, "SKIP_BLANK", True)
    m, dense = mlp64(), mlp64()
    for step in range(4):                               # a different ink every step
        x = rng.random((1, 784)) * (rng.random((1, 784)) < 0.2)
        y = rng.integers(0, 10, 1)
        m.loss_and_grads(x, y)
        dense_twin(dense, monkeypatch).loss_and_grads(*twice(x, y))
        assert dense.grad_rows is None
        for k in dense.grads:
            assert np.allclose(m.grads[k], dense.grads[k], rtol=1e-10, atol=1e-14), (step, k)
        shape, rows = m.grad_rows["flat"]
        assert shape == (784, 5) and rows.tolist() == np.flatnonzero(x[0]).tolist()
        outside = np.ones(784, bool)
        outside[rows] = False
        assert not m.grads["W1"][outside].any()


@pytest.mark.parametrize("n", [1, 16])
def test_training_told_the_nonzero_rows_follows_dense_training(monkeypatch, n):
    """Adam spends nothing on the zero rows it is told of: the weights go where they go when it
    is told nothing, up to rounding, over enough steps for the moments to be folded many times."""
    import models.mlp
    rng = np.random.default_rng(6)
    told, dense = mlp64(), mlp64()
    told.set_optimizer("adam", 1e-2)
    dense.set_optimizer("adam", 1e-2)
    for _ in range(300):
        x = rng.random((n, 784)) * (rng.random((n, 784)) < 0.2 / n)      # a batch inks ~20%
        y = rng.integers(0, 10, n)
        monkeypatch.setattr(models.mlp, "SKIP_BLANK", True)
        told.train_step(x, y)
        assert told.grad_rows is not None
        dense_twin(dense, monkeypatch).train_step(*twice(x, y))
    assert np.allclose(told.flat, dense.flat, rtol=1e-9, atol=1e-12)
    assert np.abs(told.flat - mlp64().flat).max() > 0.1           # and both moved a long way


def test_float32_throughout_and_in_place_updates():
    m = MLP()
    refs = {k: p for k, p in m.params.items()}
    x = np.random.default_rng(0).random((8, 784)).astype(np.float32)
    for lr in (1e-3, 5e-4):
        m.train_step(x, np.arange(8), lr=lr)
    assert m.lr == 5e-4
    for k, p in m.params.items():
        assert p is refs[k] and p.dtype == np.float32
    assert m.predict_proba(x).dtype == np.float32


def test_train_step_learns_any_batch_size_and_optimizer():
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 784)).astype(np.float32), rng.integers(0, 10, 32)
    for opt, lr in (("adam", 1e-3), ("sgd", 0.05)):
        m = MLP(optimizer=opt, lr=lr)
        first = m.train_step(x, y)
        for bs in (1, 7, 32) * 10:                        # batch size may change between steps
            m.train_step(x[:bs], y[:bs])
        assert m.train_step(x, y) < first / 2, opt
    with pytest.raises(ValueError):
        MLP(optimizer="lbfgs")


def test_predict_proba_and_params_round_trip():
    m, other = MLP(seed=1), MLP(seed=2)
    x = np.random.default_rng(0).random((5, 784))
    p = m.predict_proba(x)
    assert p.shape == (5, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5) and (p >= 0).all()
    other.set_params(m.get_params())
    assert np.array_equal(other.predict_proba(x), p)
    assert m.n_params() == 784 * 128 + 128 + 128 * 10 + 10 == 101_770
    assert m.evaluate(x, p.argmax(axis=1)) == 1.0 and m.evaluate(x, (p.argmax(axis=1) + 1) % 10) == 0.0


def test_one_drawing_sums_only_its_inked_pixels_and_gets_the_batch_answer():
    """A single input skips W1's rows under background pixels: the same probabilities as the
    dense product of a batch, for digit-like inputs, an all-background one and an all-ink one."""
    m = MLP(seed=4)
    rng = np.random.default_rng(5)
    x = (rng.random((4, 784)) < 0.2) * rng.random((4, 784))
    x[2], x[3] = 0, 1
    whole = m.predict_proba(x)
    for i in range(4):
        one = m.predict_proba(x[i:i + 1])
        assert one.shape == (1, 10) and np.allclose(one[0], whole[i], atol=1e-6)
        assert np.allclose(m.hidden(x[i]), m.hidden(x)[i], atol=1e-5)
    assert np.array_equal(m.predict(x[:1]), whole[:1].argmax(axis=1))


# drawing preprocessing ----------------------------------------------------------------------
def ink_box(img):
    r, c = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return r[0], r[-1], c[0], c[-1]


def centre_of_mass(img):
    t = img.sum()
    return (img.sum(axis=1) @ np.arange(28)) / t, (img.sum(axis=0) @ np.arange(28)) / t


def test_a_stroke_in_a_corner_of_a_big_canvas_is_cropped_scaled_and_centred():
    canvas = np.zeros((280, 280))
    canvas[10:110, 200:250] = 1                            # tall bar, top-right corner
    out = drawing_to_mnist(canvas)
    assert out.shape == (784,) and out.dtype == np.float32 and out.max() == pytest.approx(1)
    img = out.reshape(28, 28)
    r0, r1, c0, c1 = ink_box(img > 0.01)
    assert r1 - r0 + 1 == 20 and c1 - c0 + 1 == 10       # longer side 20, aspect 2:1 kept
    cy, cx = centre_of_mass(img)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5


def test_centre_of_mass_not_box_centre_decides_placement():
    g = np.zeros((28, 28))
    g[2:22, 2:4] = 1                                       # an L: heavy vertical stroke ...
    g[20:22, 2:22] = 1                                     # ... and a long foot
    img = drawing_to_mnist(g).reshape(28, 28)
    cy, cx = centre_of_mass(img)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    r0, r1, c0, c1 = ink_box(img > 0.01)
    assert (r0 + r1) / 2 != 13.5 or (c0 + c1) / 2 != 13.5


def test_empty_and_odd_drawings():
    assert is_empty(np.zeros((28, 28))) and not drawing_to_mnist(np.zeros((50, 40))).any()
    assert is_empty(np.zeros((0, 0)))
    dot = np.zeros((28, 28))
    dot[0, 27] = 1
    img = drawing_to_mnist(dot).reshape(28, 28)
    assert img.sum() > 0 and img.max() == pytest.approx(1)
    with pytest.raises(ValueError):
        drawing_to_mnist(np.zeros(784))


def reference_mnist(grid):
    """drawing_to_mnist spelled out: an ink mask's box, the reference area matrices, float64."""
    ink = grid > 0.05
    r0, r1, c0, c1 = ink_box(ink)
    g = np.clip(grid[r0:r1 + 1, c0:c1 + 1].astype(float), 0, 1)
    h, w = g.shape
    nh, nw = max(1, round(h * 20 / max(h, w))), max(1, round(w * 20 / max(h, w)))
    g = area_matrix(h, nh) @ g @ area_matrix(w, nw).T
    g /= g.max()
    cy, cx = (g.sum(axis=1) @ np.arange(nh)) / g.sum(), (g.sum(axis=0) @ np.arange(nw)) / g.sum()
    top, left = min(max(round(13.5 - cy), 0), 28 - nh), min(max(round(13.5 - cx), 0), 28 - nw)
    out = np.zeros((28, 28))
    out[top:top + nh, left:left + nw] = g
    return out.reshape(-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_preprocessing_matches_the_reference_on_random_drawings(dtype):
    rng = np.random.default_rng(11)
    for _ in range(60):
        h, w = rng.integers(1, 300, 2)
        grid = np.zeros((h, w))
        r, c = sorted(rng.integers(0, h, 2)), sorted(rng.integers(0, w, 2))
        grid[r[0]:r[1] + 1, c[0]:c[1] + 1] = rng.random((r[1] - r[0] + 1, c[1] - c[0] + 1)) * 1.3 - 0.1
        grid[rng.integers(0, h), rng.integers(0, w)] = 0.9           # at least one inked pixel
        got = drawing_to_mnist(grid.astype(dtype))
        assert got.dtype == np.float32
        assert np.allclose(got, reference_mnist(grid.astype(dtype)), atol=2e-6)
        grid[rng.integers(0, h), rng.integers(0, w)] = rng.choice([np.nan, np.inf])
        assert is_empty(grid) and not drawing_to_mnist(grid.astype(dtype)).any()


def area_matrix(n_in, n_out):
    """The reference: (n_out, n_in) weights of each input cell in each output cell, by overlap."""
    M = np.zeros((n_out, n_in))
    for r in range(n_out):
        lo, hi = r * n_in / n_out, (r + 1) * n_in / n_out
        for i in range(n_in):
            M[r, i] = max(0.0, min(hi, i + 1) - max(lo, i)) / (hi - lo)
    return M


def test_resize_averages_areas():
    a = np.arange(16.0).reshape(4, 4)
    assert np.allclose(resize(a, 2, 2), [[2.5, 4.5], [10.5, 12.5]])
    assert np.allclose(resize(np.ones((7, 3)), 20, 9), 1)
    rng = np.random.default_rng(3)
    for h, w, nh, nw in [(200, 160, 20, 16), (13, 7, 20, 11), (1, 45, 1, 20), (97, 3, 20, 1)]:
        img = rng.random((h, w)).astype(np.float32)
        want = area_matrix(h, nh) @ img.astype(float) @ area_matrix(w, nw).T
        assert np.allclose(resize(img, nh, nw), want, atol=1e-6)


# training + shipped file ---------------------------------------------------------------------
@needs_data
def test_a_short_training_run_learns_digits():
    from devkit.train import train_digits
    m = train_digits(str(DATA), epochs=2, batch=32, limit=3000, quiet=True)
    assert m.metrics["test_accuracy"] > 0.85 and m.metrics["train_count"] == 3000


@needs_data
def test_shipped_digits_file_meets_its_figure():
    from models import blocks
    m = K.load(ROOT / "knowledge" / "digits.npz")
    xt, yt = blocks.load_split(str(DATA), "test")
    acc = m.evaluate(xt.reshape(len(xt), -1) / 255.0, yt)
    assert acc >= 0.97
    assert acc == pytest.approx(m.knowledge_meta["metrics"]["test_accuracy"], abs=1e-9)
    assert m.knowledge_meta["metrics"]["test_count"] == len(yt) == 2000
    assert (ROOT / "knowledge" / "digits.npz").stat().st_size < 1_000_000


@needs_data
def test_shipped_model_reads_preprocessed_test_digits():
    """Drawings go through drawing_to_mnist; MNIST digits put through it must still be read."""
    from models import blocks
    m = K.load(ROOT / "knowledge" / "digits.npz")
    xt, yt = blocks.load_split(str(DATA), "test")
    x = np.stack([drawing_to_mnist(im / 255.0) for im in xt[:300]])
    assert m.evaluate(x, yt[:300]) >= 0.9
