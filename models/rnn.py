"""Plain tanh RNN over a sequence (the min-char-rnn recurrence), batched.

h_t = tanh(x_t Wx + h_{t-1} Wh + b). Shapes: X (T, B, D), Wx (D, H), Wh (H, H), b (H,).
X may also be integer ids (T, B): then x_t Wx is a row lookup Wx[ids] (a one-hot input
without building the one-hot matrix or multiplying by it — a fifth of a char-RNN step).
"""
import numpy as np


def rnn_forward(X, Wx, Wh, b, h0):
    T, B = X.shape[:2]
    H = Wh.shape[0]
    if X.dtype.kind in "iu":
        Hs = Wx[X]                                      # one-hot input = row lookup
    else:
        Hs = (X.reshape(T * B, -1) @ Wx).reshape(T, B, H)   # input part of every step at once
    Hs += b
    h = h0
    for t in range(T):
        a = Hs[t]
        a += h @ Wh
        h = np.tanh(a, out=a)
    return Hs, (X, Wx, Wh, h0, Hs)


def rnn_backward(dHs, cache):
    """Returns dX, dWx, dWh, db, dh0 given the loss gradient w.r.t. every hidden state
    (dX is None for integer-id inputs)."""
    X, Wx, Wh, h0, Hs = cache
    T, B, H = Hs.shape
    dA = np.empty_like(Hs)
    dh_next = np.zeros((B, H), Hs.dtype)
    for t in range(T - 1, -1, -1):
        dh = dHs[t] + dh_next
        da = dA[t]
        np.multiply(dh, 1 - Hs[t] * Hs[t], out=da)      # through tanh
        dh_next = da @ Wh.T
    dA2 = dA.reshape(T * B, H)
    h_prev = np.concatenate([h0[None], Hs[:-1]], axis=0).reshape(T * B, H)
    dWh = h_prev.T @ dA2
    db = dA2.sum(axis=0)
    if X.dtype.kind in "iu":
        dWx = np.zeros_like(Wx)
        np.add.at(dWx, X.reshape(-1), dA2)              # scatter-add rows of the used ids
        return None, dWx, dWh, db, dh_next
    dWx = X.reshape(T * B, -1).T @ dA2
    dX = (dA2 @ Wx.T).reshape(X.shape)
    return dX, dWx, dWh, db, dh_next
