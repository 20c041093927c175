"""Optimisers: each matches its textbook update, works in place, and minimises a quadratic."""
import numpy as np
import pytest

from models.optim import SGD, Adagrad, Adam, clip_grads


def quad_grads(params, target):
    return {k: 2 * (p - target[k]) for k, p in params.items()}


def fresh(seed=0):
    rng = np.random.default_rng(seed)
    return {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}


def test_sgd_momentum_matches_the_formula():
    p = fresh()
    ref = {k: v.copy() for k, v in p.items()}
    vel = {k: np.zeros_like(v) for k, v in p.items()}
    opt = SGD(p, lr=0.1, momentum=0.9)
    rng = np.random.default_rng(1)
    for _ in range(5):
        g = {k: rng.standard_normal(v.shape) for k, v in p.items()}
        opt.step(g)
        for k in ref:
            vel[k] = 0.9 * vel[k] - 0.1 * g[k]
            ref[k] = ref[k] + vel[k]
            assert np.allclose(p[k], ref[k])


def test_adam_matches_the_formula():
    p = fresh()
    ref = {k: v.copy() for k, v in p.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    opt = Adam(p, lr=0.01, eps=0.0)            # eps placement aside, Adam is exactly this
    rng = np.random.default_rng(2)
    for t in range(1, 6):
        g = {k: rng.standard_normal(v.shape) for k, v in p.items()}
        opt.step(g)
        for k in ref:
            m[k] = 0.9 * m[k] + 0.1 * g[k]
            v2[k] = 0.999 * v2[k] + 0.001 * g[k] ** 2
            mh, vh = m[k] / (1 - 0.9 ** t), v2[k] / (1 - 0.999 ** t)
            ref[k] = ref[k] - 0.01 * mh / np.sqrt(vh)
            assert np.allclose(p[k], ref[k])



def eager_adam(p, g, m, v, t, lr, b1, b2, eps):
    """The textbook update in Kingma & Ba's efficient form (epsilon added to sqrt(v), not to
    the bias-corrected sqrt(v-hat), as TensorFlow's), in float64: p, m, v after step t."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return p - step * m / (np.sqrt(v) + eps), m, v


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.99), (0.05, 0.9)])
def test_adam_told_which_rows_are_nonzero_follows_the_textbook_over_many_folds(betas):
    """The lazily decayed moments, the rows hint and folding on read change nothing but rounding:
    a parameter whose first 6x4 entries get a gradient in a few rows only, 400 steps."""
    b1, b2 = betas
    rng = np.random.default_rng(7)
    start = rng.standard_normal(30)
    told, plain, mixed = {"flat": start.copy()}, {"flat": start.copy()}, {"flat": start.copy()}
    opt, opt_plain, opt_mixed = (Adam(p, lr=0.01, beta1=b1, beta2=b2) for p in (told, plain, mixed))
    ref, m, v = start.copy(), np.zeros(30), np.zeros(30)
    for t in range(1, 401):
        g = np.zeros(30)
        rows = np.flatnonzero(rng.random(6) < 0.3)
        g[:24].reshape(6, 4)[rows] = rng.standard_normal((len(rows), 4))
        g[24:] = rng.standard_normal(6)
        opt.step({"flat": g}, rows={"flat": ((6, 4), rows)})
        opt_plain.step({"flat": g})
        # not told in runs of steps, told in others (a batch that inks every pixel, then batch 1)
        opt_mixed.step({"flat": g}, rows={"flat": ((6, 4), rows)} if (t // 25) % 2 else None)
        ref, m, v = eager_adam(ref, g, m, v, t, 0.01, b1, b2, 1e-8)
        if t % 37 == 0:          # reading the moments folds the decay in: they are the textbook's
            assert np.allclose(opt.u["flat"], m / (1 - b1), rtol=1e-9, atol=1e-300)
            assert np.allclose(opt.w["flat"], v / (1 - b2), rtol=1e-9, atol=1e-300)
    assert np.allclose(told["flat"], ref, rtol=1e-9, atol=1e-12)
    assert np.allclose(plain["flat"], ref, rtol=1e-9, atol=1e-12)
    assert np.allclose(mixed["flat"], ref, rtol=1e-9, atol=1e-12)
    assert np.abs(ref - start).max() > 0.2          # 400 steps of up to lr each: it moved


def test_adam_keeps_its_moments_out_of_the_subnormals_and_its_steps_as_they_were():
    """Weights whose gradient stays 0 (a pixel no digit inks for a while): their moments decay
    towards 0 and are flushed before float32's subnormals; the weights move as without it.
    What the arithmetic touches is checked: the arrays as stored (decay not folded in) and the
    step, every step, without reading `u` (which would fold)."""
    rng = np.random.default_rng(3)
    steps, n = 3000, 400
    weights = {"flat": rng.standard_normal(n).astype(np.float32)}
    unflushed = {"flat": weights["flat"].copy()}
    opt, plain = Adam(weights), Adam(unflushed)
    plain.FLUSH_EVERY = 10**9
    ever_subnormal = False
    tiny = np.finfo(np.float32).tiny
    for t in range(steps):
        g = np.zeros(n, np.float32)
        live = rng.random(n) < (0.5 if t < 100 else 0.002)     # most gradients die out after step 100
        g[live] = rng.standard_normal(int(live.sum()))
        opt.step({"flat": g})
        plain.step({"flat": g})
        for stored in (opt._u["flat"], opt._w["flat"], opt.tmp["flat"]):
            ever_subnormal |= bool(((stored != 0) & (np.abs(stored) < tiny)).any())
    assert not ever_subnormal
    u = plain.u["flat"]
    assert ((u != 0) & (np.abs(u) < tiny)).any()             # without the flush they get there
    assert np.abs(weights["flat"] - unflushed["flat"]).max() < 1e-6
    assert (opt.u["flat"] == 0).sum() > (u == 0).sum()       # what was flushed is exactly 0


def test_adagrad_matches_the_formula():
    p = fresh()
    ref = {k: v.copy() for k, v in p.items()}
    mem = {k: np.zeros_like(v) for k, v in p.items()}
    opt = Adagrad(p, lr=0.1)
    rng = np.random.default_rng(3)
    for _ in range(5):
        g = {k: rng.standard_normal(v.shape) for k, v in p.items()}
        opt.step(g)
        for k in ref:
            mem[k] += g[k] ** 2
            ref[k] = ref[k] - 0.1 * g[k] / np.sqrt(mem[k] + 1e-8)
            assert np.allclose(p[k], ref[k])


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.05, momentum=0.9),
                                  lambda p: Adam(p, lr=0.05), lambda p: Adagrad(p, lr=0.5)],
                         ids=["sgd", "adam", "adagrad"])
def test_optimisers_minimise_a_quadratic_in_place(make):
    p, target = fresh(0), fresh(1)
    ids = {k: id(v) for k, v in p.items()}
    opt = make(p)
    start = sum(((p[k] - target[k]) ** 2).sum() for k in p)
    for _ in range(300):
        opt.step(quad_grads(p, target))
    end = sum(((p[k] - target[k]) ** 2).sum() for k in p)
    assert end < start * 1e-3
    assert {k: id(v) for k, v in p.items()} == ids      # the same arrays were updated


def test_clip_grads_in_place():
    g = {"a": np.array([-10.0, 0.5, 7.0])}
    clip_grads(g, 5)
    assert g["a"].tolist() == [-5.0, 0.5, 5.0]
