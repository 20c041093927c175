"""LSTM over a whole sequence, with the four gate matmuls fused into one.

Shapes: X (T, B, D) inputs, Wx (D, 4H), Wh (H, 4H), b (4H,). Gates are laid out
[input | forget | output | candidate] along the last axis, so one (B,H)@(H,4H) matmul per step
serves all four gates, and the input part of every step is one big (T*B,D)@(D,4H) matmul done
before the loop. That is the "fuse the gate matmuls" step the LSTM benchmark asks for.
X may also be integer ids (T, B), as in rnn.py: the input part is then the row lookup Wx[ids]
(a one-hot input without the one-hot matrix), which is what the char-LSTM feeds it.
"""
import numpy as np


def sigmoid(x, out=None):
    # tanh form is stable for large |x| and avoids exp overflow warnings
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def init_lstm(D, H, rng, dtype=np.float32):
    """Uniform(-1/sqrt(H), 1/sqrt(H)) like torch; forget-gate bias 1 so memory starts open."""
    s = 1.0 / np.sqrt(H)
    Wx = rng.uniform(-s, s, (D, 4 * H)).astype(dtype)
    Wh = rng.uniform(-s, s, (H, 4 * H)).astype(dtype)
    b = np.zeros(4 * H, dtype)
    b[H:2 * H] = 1
    return Wx, Wh, b


def lstm_forward(X, Wx, Wh, b, h0=None, c0=None):
    """Run the LSTM over X. Returns Hs (T, B, H) and a cache for lstm_backward."""
    T, B = X.shape[:2]
    H = Wh.shape[0]
    dt = Wh.dtype
    if X.dtype.kind in "iu":
        A = Wx[X]                           # one-hot input = row lookup (a fresh copy)
    else:                                   # input contribution of every step: one large matmul
        A = (X.reshape(T * B, -1) @ Wx).reshape(T, B, 4 * H)
    A += b
    G = np.empty((T, B, 4 * H), dt)        # activated gates per step
    Cs = np.empty((T, B, H), dt)           # cell states
    Hs = np.empty((T, B, H), dt)           # hidden states
    h = np.zeros((B, H), dt) if h0 is None else h0
    c = np.zeros((B, H), dt) if c0 is None else c0
    for t in range(T):
        a = A[t]
        a += h @ Wh                         # the one recurrent matmul for all four gates
        g = G[t]
        sigmoid(a[:, :3 * H], out=g[:, :3 * H])
        np.tanh(a[:, 3 * H:], out=g[:, 3 * H:])
        i, f, o, u = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
        c = np.multiply(f, c, out=Cs[t])
        c += i * u
        h = np.tanh(c, out=Hs[t])
        h *= o
    return Hs, (X, Wx, Wh, h0, c0, G, Cs, Hs)


def lstm_backward(dHs, cache):
    """Backprop through time. dHs (T, B, H) is the loss gradient w.r.t. every hidden state
    (zeros where a step has no loss). Returns dX, dWx, dWh, db, dh0, dc0 (dX is None for
    integer-id inputs)."""
    X, Wx, Wh, h0, c0, G, Cs, Hs = cache
    T, B, H = Hs.shape
    dA = np.empty_like(G)
    dh_next = np.zeros((B, H), Hs.dtype)
    dc_next = np.zeros((B, H), Hs.dtype)
    for t in range(T - 1, -1, -1):
        g = G[t]
        i, f, o, u = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
        tc = np.tanh(Cs[t])
        dh = dHs[t] + dh_next
        dc = dc_next + dh * o * (1 - tc * tc)
        if t > 0:
            c_prev = Cs[t - 1]
        else:
            c_prev = np.zeros((B, H), Hs.dtype) if c0 is None else c0
        da = dA[t]
        da[:, :H] = dc * u * i * (1 - i)                 # input gate
        da[:, H:2 * H] = dc * c_prev * f * (1 - f)       # forget gate
        da[:, 2 * H:3 * H] = dh * tc * o * (1 - o)       # output gate
        da[:, 3 * H:] = dc * i * (1 - u * u)             # candidate
        dh_next = da @ Wh.T
        dc_next = dc * f
    # weight gradients for all steps at once (again one large matmul each)
    dA2 = dA.reshape(T * B, 4 * H)
    h_prev = np.empty_like(Hs)
    h_prev[0] = 0 if h0 is None else h0
    h_prev[1:] = Hs[:-1]
    dWh = h_prev.reshape(T * B, H).T @ dA2
    db = dA2.sum(axis=0)
    if X.dtype.kind in "iu":
        dWx = np.zeros_like(Wx)
        np.add.at(dWx, X.reshape(-1), dA2)              # scatter-add rows of the used ids
        return None, dWx, dWh, db, dh_next, dc_next
    dWx = X.reshape(T * B, -1).T @ dA2
    dX = (dA2 @ Wx.T).reshape(X.shape)
    return dX, dWx, dWh, db, dh_next, dc_next
