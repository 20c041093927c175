"""Every hand-written backward pass against central finite differences (float64, rel err < 1e-5)."""
import numpy as np
import pytest

from models import layers as L
from models.lstm import init_lstm, lstm_backward, lstm_forward
from models.rnn import rnn_backward, rnn_forward

RTOL = 1e-5


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f() w.r.t. every element of x (perturbed in place)."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def rel_error(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max() + np.abs(b).max(), 1e-12)


def check(analytic, f, x):
    num = numeric_grad(f, x)
    err = rel_error(analytic, num)
    assert err < RTOL, f"relative error {err:.2e}"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_dense(rng):
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    R = rng.standard_normal((4, 3))                    # random projection makes a scalar loss
    f = lambda: float((L.dense_forward(x, W, b)[0] * R).sum())
    dx, dW, db = L.dense_backward(R, x, W)
    check(dx, f, x)
    check(dW, f, W)
    check(db, f, b)


def test_dense_batch_one_uses_outer_product(rng):
    x, W, b = rng.standard_normal((1, 6)), rng.standard_normal((6, 2)), rng.standard_normal(2)
    R = rng.standard_normal((1, 2))
    f = lambda: float((L.dense_forward(x, W, b)[0] * R).sum())
    dx, dW, db = L.dense_backward(R, x, W)
    check(dW, f, W)
    check(dx, f, x)


def test_relu(rng):
    x = rng.standard_normal((5, 7))
    x[np.abs(x) < 1e-3] = 0.5                          # keep away from the kink
    R = rng.standard_normal((5, 7))
    f = lambda: float((L.relu_forward(x) * R).sum())
    check(L.relu_backward(R, L.relu_forward(x)), f, x)


def test_log_softmax_nll(rng):
    z = rng.standard_normal((6, 10)) * 3
    y = rng.integers(0, 10, 6)
    f = lambda: L.nll_loss(L.log_softmax(z), y)
    check(L.log_softmax_nll_backward(L.log_softmax(z), y), f, z)
    # and the loss itself is right: log-softmax rows are normalised log-probabilities
    assert np.allclose(np.exp(L.log_softmax(z)).sum(axis=1), 1)


def test_set_nll(rng):
    z = rng.standard_normal((5, 9))
    mask = rng.random((5, 9)) < 0.4
    mask[:, 0] = True
    f = lambda: L.set_nll_loss(L.log_softmax(z), mask)
    check(L.set_nll_backward(L.log_softmax(z), mask), f, z)


def test_lstm_sequence(rng):
    T, B, D, H = 4, 3, 5, 6
    X = rng.standard_normal((T, B, D))
    Wx, Wh, b = init_lstm(D, H, rng, np.float64)
    b += rng.standard_normal(4 * H) * 0.1
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    R = rng.standard_normal((T, B, H))
    f = lambda: float((lstm_forward(X, Wx, Wh, b, h0, c0)[0] * R).sum())
    Hs, cache = lstm_forward(X, Wx, Wh, b, h0, c0)
    dX, dWx, dWh, db, dh0, dc0 = lstm_backward(R, cache)
    for analytic, x in ((dX, X), (dWx, Wx), (dWh, Wh), (db, b), (dh0, h0), (dc0, c0)):
        check(analytic, f, x)


def test_lstm_sequence_on_integer_ids(rng):
    """Ids in place of one-hot rows (the char-LSTM's input): the same maths, dWx scattered."""
    T, B, V, H = 5, 3, 4, 3
    ids = rng.integers(0, V, (T, B))
    ids[0] = 2                                         # repeated ids: the scatter must add
    Wx, Wh, b = init_lstm(V, H, rng, np.float64)
    Wx += rng.standard_normal(Wx.shape) * 0.3
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    R = rng.standard_normal((T, B, H))
    f = lambda: float((lstm_forward(ids, Wx, Wh, b, h0, c0)[0] * R).sum())
    Hs, cache = lstm_forward(ids, Wx, Wh, b, h0, c0)
    assert np.allclose(Hs, lstm_forward(np.eye(V)[ids], Wx, Wh, b, h0, c0)[0])
    dX, dWx, dWh, db, dh0, dc0 = lstm_backward(R, cache)
    assert dX is None
    for analytic, x in ((dWx, Wx), (dWh, Wh), (db, b), (dh0, h0), (dc0, c0)):
        check(analytic, f, x)


def test_lstm_single_step_matches_cell_equations(rng):
    D, H = 3, 2
    x = rng.standard_normal((1, 1, D))
    Wx, Wh, b = init_lstm(D, H, rng, np.float64)
    a = x[0] @ Wx + b
    sig = lambda v: 1 / (1 + np.exp(-v))
    i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    Hs, _ = lstm_forward(x, Wx, Wh, b)
    assert np.allclose(Hs[0], o * np.tanh(i * g))


def test_rnn_sequence(rng):
    T, B, D, H = 5, 2, 4, 3
    X = rng.standard_normal((T, B, D))
    Wx, Wh, b = rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H)
    h0 = rng.standard_normal((B, H))
    R = rng.standard_normal((T, B, H))
    f = lambda: float((rnn_forward(X, Wx, Wh, b, h0)[0] * R).sum())
    _, cache = rnn_forward(X, Wx, Wh, b, h0)
    dX, dWx, dWh, db, dh0 = rnn_backward(R, cache)
    for analytic, x in ((dX, X), (dWx, Wx), (dWh, Wh), (db, b), (dh0, h0)):
        check(analytic, f, x)


def test_gradcheck_catches_a_wrong_gradient(rng):
    """The checker itself must be able to fail."""
    x = rng.standard_normal((3, 3))
    with pytest.raises(AssertionError):
        check(2 * x + 1e-3, lambda: float((x * x).sum()), x)


# the digits CNN: its ops one by one, then the whole net ------------------------------------------
def test_im2col_col2im_are_adjoint_and_im2col_is_a_convolution(rng):
    from models.cnn import col2im, im2col
    x = rng.standard_normal((2, 7, 6, 3))
    cols = im2col(x, 3)
    assert cols.shape == (2 * 5 * 4, 27)
    K = rng.standard_normal((3, 3, 3, 4))
    direct = np.zeros((2, 5, 4, 4))                    # the convolution written out as loops
    for i in range(5):
        for j in range(4):
            direct[:, i, j] = np.einsum("nhwc,hwcf->nf", x[:, i:i + 3, j:j + 3], K)
    assert np.allclose(cols @ K.reshape(27, 4), direct.reshape(-1, 4))
    R = rng.standard_normal(cols.shape)                # <im2col x, R> = <x, col2im R>
    assert np.isclose((cols * R).sum(), (x * col2im(R, x.shape, 3)).sum())


def test_max_pool_sends_the_gradient_to_the_first_maximum_only(rng):
    from models.cnn import pool_backward, pool_forward
    z = rng.standard_normal((2, 4, 6, 3))
    R = rng.standard_normal((2, 2, 3, 3))
    f = lambda: float((pool_forward(z) * R).sum())
    check(pool_backward(R, z, pool_forward(z)), f, z)
    tied = np.full((1, 2, 2, 1), 0.25)                 # a blank region: all four equal
    d = pool_backward(np.ones((1, 1, 1, 1)), tied, pool_forward(tied))
    assert d.ravel().tolist() == [1, 0, 0, 0]


@pytest.mark.parametrize("n", [1, 3])
def test_cnn_loss_gradient_every_parameter(rng, n):
    from models.cnn import CNN
    m = CNN(conv1=3, conv2=4, seed=1, dtype=np.float64)
    m.params["b1"][...] = rng.standard_normal(3) * 0.1
    m.params["b2"][...] = rng.standard_normal(4) * 0.1
    x, y = rng.random((n, 784)), rng.integers(0, 10, n)
    x[:, :200] = 0                                     # blank rows: ties in the pools, as in digits
    m.loss_and_grads(x, y)
    analytic = dict((k, g.copy()) for k, g in m.grads.items())
    for name, p in m.params.items():
        # every weight of the biases and the first kernel; 60 sampled ones of the larger arrays
        f = lambda: m.loss_and_grads(x, y)
        if p.size <= 80:
            check(analytic[name], f, p)
            continue
        flat, idx = p.reshape(-1), rng.choice(p.size, 60, replace=False)
        num = np.empty(len(idx))
        for t, i in enumerate(idx):
            old = flat[i]
            flat[i] = old + 1e-6
            fp = f()
            flat[i] = old - 1e-6
            fm = f()
            flat[i] = old
            num[t] = (fp - fm) / 2e-6
        err = rel_error(analytic[name].reshape(-1)[idx], num)
        assert err < RTOL, f"{name}: relative error {err:.2e}"
