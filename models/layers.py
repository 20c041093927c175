"""Stateless building blocks: dense layer, ReLU, log-softmax + negative log-likelihood.

Each op is a pair forward(...) -> (out, cache) / backward(dout, cache) -> grads, like the
hand-written backprop in min-char-rnn. They work in whatever float dtype the inputs have
(float32 for speed, float64 for gradient checks) and never up-cast.
"""
import numpy as np


# dense: y = x @ W + b ----------------------------------------------------------------------
def dense_forward(x, W, b):
    return x @ W + b, x


def dense_backward(dy, x, W):
    """Returns dx, dW, db. With a single sample the weight gradient is an outer product."""
    dW = np.outer(x, dy) if x.shape[0] == 1 else x.T @ dy
    return dy @ W.T, dW.reshape(W.shape), dy.sum(axis=0)


# ReLU ----------------------------------------------------------------------------------------
def relu_forward(x):
    return np.maximum(x, 0, dtype=x.dtype)


def relu_backward(dy, y):
    """y is the ReLU output; the gradient passes where it was positive."""
    return dy * (y > 0)


# log-softmax + NLL ---------------------------------------------------------------------------
def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax(z):
    """exp(log_softmax(z)) in three passes fewer: inference wants probabilities, not their logs."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def nll_loss(logp, y):
    """Mean negative log-likelihood of integer labels y under log-probabilities logp."""
    return -float(logp[np.arange(len(y)), y].mean())


def log_softmax_nll_backward(logp, y):
    """d(mean NLL)/d(logits) = (softmax - onehot) / N, computed without a one-hot matrix."""
    g = np.exp(logp)
    g[np.arange(len(y)), y] -= 1
    g /= len(y)
    return g


def set_nll_loss(logp, target_mask):
    """-mean log of the total probability on a SET of acceptable classes (target_mask bool).

    Used by tic-tac-toe, where every minimax-optimal move is a right answer."""
    m = logp.max(axis=-1, keepdims=True)
    p_ok = (np.exp(logp - m) * target_mask).sum(axis=-1)
    return -float((np.log(p_ok) + m[:, 0]).mean())


def set_nll_backward(logp, target_mask):
    """Gradient of set_nll_loss w.r.t. the logits: softmax - (softmax restricted to the set)."""
    p = np.exp(logp)
    q = p * target_mask
    q /= q.sum(axis=-1, keepdims=True)
    return (p - q) / len(logp)
