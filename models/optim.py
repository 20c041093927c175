"""Optimisers that update a dict of parameter arrays IN PLACE from a dict of gradients.

In place matters: the browser worker and the models hold references to the same arrays, and
allocating fresh weights every step is what makes small-batch numpy training slow.
"""
import math

import numpy as np


class SGD:
    """Plain SGD with (optional) classical momentum: v = mu*v - lr*g; p += v."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.tmp = {k: np.empty_like(p) for k, p in params.items()}   # no allocation per step

    def step(self, grads, rows=None):
        """`rows` (which gradient rows are not 0, see Adam.step) changes nothing here."""
        for k, p in self.params.items():
            v, tmp = self.v[k], self.tmp[k]
            np.multiply(grads[k], self.lr, out=tmp)
            v *= self.momentum
            v -= tmp
            p += v


class Adam:
    """Adam (Kingma & Ba), with its moving averages kept unnormalised and decayed lazily.

    u = m / (1 - b1) and w = v / (1 - b2) obey u <- b1 u + g and w <- b2 w + g*g, one pass
    fewer each than m and v; the constants come back in the step size and epsilon. And the
    arrays hold u / d1 and w / d2, where d1 = b1^k, d2 = b2^k are the decays of the k steps since
    they were last folded in: a step adds g / d1 and g*g / d2, and
        a u / (sqrt(w) + eps) = (a d1 / sqrt(d2)) (u / d1) / (sqrt(w / d2) + eps / sqrt(d2)).
    So a weight whose gradient is 0 costs its moments nothing, and the square root of w / d2,
    kept too, changes only where w does. A gradient that is 0 outside some rows of a matrix (an
    MLP's first layer at batch 1: the rows of the pixels a digit inks, a fifth of them) updates
    moments and roots in those rows only (`rows`); what every weight costs is then four cheap
    passes, where decaying eagerly (as a step without `rows` does) makes ten with a square
    root. Every operation writes into preallocated buffers: a step allocates nothing, which
    keeps small-batch training fast.
    Reading `u` or `w` folds the decay in first, so they are the moments themselves.

    A weight whose gradient is 0 for a while (the row of a pixel no recent digit inked) sees u
    shrink by b1 every step, into float32's subnormal range after about 800 steps. Arithmetic on
    subnormals takes a slow path on x86, and wasm may not flush them to zero: an Adam step with
    them was 14x slower in Pyodide (12.2 ms against 0.86). So every FLUSH_EVERY steps the decay
    is folded in and the moments below TINY are set to 0, long before any can reach the
    subnormals (u needs ~175 steps from TINY to there). The step they stood for is below 1e-26:
    nothing a float32 weight can show."""

    FLUSH_EVERY = 64
    TINY = 1e-30
    MIN_DECAY = 1e-3        # folded in before d1 or d2 gets smaller: g / d stays well in range
    BETAS = (MIN_DECAY, 1 - 2 ** -30)       # the betas this can run (a checkpoint's are checked)

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, beta1, beta2, eps
        self._u = {k: np.zeros_like(p) for k, p in params.items()}
        self._w = {k: np.zeros_like(p) for k, p in params.items()}
        self._roots = {k: np.zeros_like(p) for k, p in params.items()}    # sqrt(self._w)
        self.tmp = {k: np.empty_like(p) for k, p in params.items()}
        self.t = 0
        self.k = 0              # steps whose decay is not folded into the arrays yet
        self._roots_stale = False

    @property
    def u(self):
        self.fold()
        return self._u

    @property
    def w(self):
        """The second moments; the caller may write into them (a checkpoint restored)."""
        self.fold()
        self._roots_stale = True
        return self._w

    def fold(self):
        """Make the arrays hold the moments themselves (k = 0)."""
        if self.k:
            d1, d2 = self.b1 ** self.k, self.b2 ** self.k
            for k in self.params:
                self._u[k] *= d1
                self._w[k] *= d2
            self.k, self._roots_stale = 0, True

    def step(self, grads, rows=None):
        """grads: name -> gradient. rows: name -> (shape, touched) where that gradient, its first
        shape[0] * shape[1] entries seen as a matrix of `shape`, is 0 outside the rows `touched`
        (an index array; the entries after the matrix are any). Without `rows` the decay is
        applied at once: where every gradient is dense, the ten passes cost less unscaled."""
        if rows:
            self._step_lazily(grads, rows)
        else:
            self._step_eagerly(grads)
        if self.t % self.FLUSH_EVERY == 0:
            self.fold()
            for k in self.params:
                self.flush_tiny(self._u[k], self._w[k], self.tmp[k])
            self._roots_stale = True

    def _step_eagerly(self, grads):
        self.fold()
        self.t += 1
        b1, b2 = self.b1, self.b2
        a, eps = self._step_size()
        for k, p in self.params.items():
            g, u, w, tmp = grads[k], self._u[k], self._w[k], self.tmp[k]
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
        self._roots_stale = True

    def _step_lazily(self, grads, rows):
        if self.k and min(self.b1, self.b2) ** (self.k + 1) < self.MIN_DECAY:
            self.fold()
        if self._roots_stale:
            for k in self.params:
                np.sqrt(self._w[k], out=self._roots[k])
            self._roots_stale = False
        self.t += 1
        self.k += 1
        d1, d2 = self.b1 ** self.k, self.b2 ** self.k
        a, eps = self._step_size()
        a, eps = a * d1 / math.sqrt(d2), eps / math.sqrt(d2)      # for the scaled arrays
        for k, p in self.params.items():
            g, u, w, roots, tmp = grads[k], self._u[k], self._w[k], self._roots[k], self.tmp[k]
            sparse = rows.get(k)
            if sparse is None:
                self._accumulate(g, u, w, roots, tmp, 1 / d1, 1 / d2)
            else:
                (height, width), touched = sparse
                n = height * width
                self._accumulate(g[n:], u[n:], w[n:], roots[n:], tmp[n:], 1 / d1, 1 / d2)
                G, U, W, R = (array[:n].reshape(height, width) for array in (g, u, w, roots))
                g_rows = G[touched]
                U[touched] += g_rows * (1 / d1)
                g_rows *= g_rows
                g_rows *= 1 / d2
                w_rows = W[touched]
                w_rows += g_rows
                W[touched] = w_rows
                R[touched] = np.sqrt(w_rows, out=w_rows)
            np.add(roots, eps, out=tmp)           # p -= a * u / (sqrt(w) + eps), all scaled
            np.divide(u, tmp, out=tmp)
            tmp *= a
            p -= tmp

    def _step_size(self):
        """(a, eps) of p -= a u / (sqrt(w) + eps) at step t, for the moments themselves. Python
        floats, not np.float64: the update stays in float32 loops."""
        b1, b2, t = self.b1, self.b2, self.t
        root = math.sqrt(1 - b2)
        return self.lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * (1 - b1) / root, self.eps / root

    @staticmethod
    def _accumulate(g, u, w, roots, tmp, c1, c2):
        """u += c1 g; w += c2 g*g; roots = sqrt(w)"""
        np.multiply(g, c1, out=tmp)
        u += tmp
        np.multiply(g, g, out=tmp)
        tmp *= c2
        w += tmp
        np.sqrt(w, out=roots)

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
