"""Optimisers that update a dict of parameter arrays IN PLACE from a dict of gradients.

In place matters: the browser worker and the models hold references to the same arrays, and
allocating fresh weights every step is what makes small-batch numpy training slow.
"""
import numpy as np


class SGD:
    """Plain SGD with (optional) classical momentum: v = mu*v - lr*g; p += v."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.tmp = {k: np.empty_like(p) for k, p in params.items()}   # no allocation per step

    def step(self, grads):
        for k, p in self.params.items():
            v, tmp = self.v[k], self.tmp[k]
            np.multiply(grads[k], self.lr, out=tmp)
            v *= self.momentum
            v -= tmp
            p += v


class Adam:
    """Adam (Kingma & Ba), with its moving averages kept unnormalised to save passes.

    u = m / (1 - b1) and w = v / (1 - b2) obey u <- b1 u + g and w <- b2 w + g*g, one pass
    fewer each than m and v; the constants come back in the step size and epsilon, so the update
    a * m / (sqrt(v) + eps) is the same. Every operation writes into preallocated buffers: a step
    allocates nothing, which keeps small-batch training fast.

    A weight whose gradient is 0 for a while (the row of a pixel no recent digit inked) sees u
    shrink by b1 every step, into float32's subnormal range after about 800 steps. Arithmetic on
    subnormals takes a slow path on x86, and wasm may not flush them to zero: an Adam step with
    them was 14x slower in Pyodide (12.2 ms against 0.86). So every FLUSH_EVERY steps the moments
    below TINY are set to 0, long before any can reach the subnormals (u needs ~175 steps from
    TINY to there). The step they stood for is below 1e-26: nothing a float32 weight can show."""

    FLUSH_EVERY = 64
    TINY = 1e-30

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, beta1, beta2, eps
        self.u = {k: np.zeros_like(p) for k, p in params.items()}
        self.w = {k: np.zeros_like(p) for k, p in params.items()}
        self.tmp = {k: np.empty_like(p) for k, p in params.items()}
        self.t = 0

    def step(self, grads):
        self.t += 1
        b1, b2 = self.b1, self.b2
        root = np.sqrt(1 - b2)
        # Python floats, not np.float64: the update stays in float32 loops
        a = float(self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t) * (1 - b1) / root)
        eps = float(self.eps / root)
        for k, p in self.params.items():
            g, u, w, tmp = grads[k], self.u[k], self.w[k], self.tmp[k]
            u *= b1                               # u = b1 u + g
            u += g
            w *= b2                               # w = b2 w + g*g
            np.multiply(g, g, out=tmp)
            w += tmp
            np.sqrt(w, out=tmp)                   # p -= a * u / (sqrt(w) + eps)
            tmp += eps
            np.divide(u, tmp, out=tmp)
            tmp *= a
            p -= tmp
            if self.t % self.FLUSH_EVERY == 0:
                self.flush_tiny(u, w, tmp)

    def flush_tiny(self, u, w, tmp):
        """Moments too small to move a weight become 0 (w is never negative)."""
        np.abs(u, out=tmp)
        np.copyto(u, 0, where=tmp < self.TINY)
        np.copyto(w, 0, where=w < self.TINY)


class Adagrad:
    """Adagrad as in min-char-rnn: per-weight step shrinks with the sum of squared gradients."""

    def __init__(self, params, lr=0.1, eps=1e-8):
        self.params, self.lr, self.eps = params, lr, eps
        self.mem = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads):
        for k, p in self.params.items():
            g, mem = grads[k], self.mem[k]
            mem += g * g
            p -= self.lr * g / np.sqrt(mem + self.eps)


def clip_grads(grads, limit):
    """Clip every gradient element to [-limit, limit] in place (exploding RNN gradients)."""
    for g in grads.values():
        np.clip(g, -limit, limit, out=g)
