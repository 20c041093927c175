"""The digits model: an MLP 784-128-10 with ReLU and log-softmax, trained in float32.

Built for one-step-at-a-time training in a worker: train_step(x, y, lr) does forward,
backward and an in-place optimiser update, reusing buffers per batch size so a step
allocates almost nothing. At batch 1 the weight gradients are outer products.

Under Pyodide numpy has no BLAS: the two big products, x·W1 and xᵀ·dh, go through
models.products.dot, which picks np.einsum's faster kernel for their shapes there; CPython
keeps BLAS. Same maths and layouts either way.
"""
import numpy as np

from .layers import softmax
from .flat import FlatWeights
from .products import NO_BLAS, dot as _dot

SIZES = (784, 128, 10)
DTYPE = np.float32
SKIP_BLANK = False          # skip a batch's blank pixels with BLAS too (tests set it to check the sums)
INK_WORTH = 0.85            # the share of inked pixels above which dense products are cheaper
INK_CHUNK = 256             # inputs per product when scoring many: fewer inputs ink fewer pixels
ROWS_WORTH = 0.6            # the share of dW1's rows below which Adam's row-wise update is cheaper
                            # (Node: a batch of 32 inks ~57%, 2% faster so; of 128 ~66%, 2% slower)


def _few_inked(x):
    """The pixels any of the inputs x inks, if few enough to skip the rest; else None."""
    ink = x.any(axis=0)
    return ink if np.count_nonzero(ink) <= INK_WORTH * x.shape[1] else None


class MLP(FlatWeights):
    KIND = "mnist-mlp"

    def __init__(self, hidden=128, seed=0, optimizer="adam", lr=1e-3, dtype=DTYPE):
        rng = np.random.default_rng(seed)
        D, H, K = SIZES[0], hidden, SIZES[2]
        # every weight is a view into ONE flat array, every gradient into another, so the
        # optimiser makes a dozen numpy calls per step instead of four dozen (batch-1 speed)
        shapes = self.shapes({"hidden": hidden})
        size = sum(int(np.prod(s)) for s in shapes.values())
        self.flat, self.flat_grad = np.zeros(size, dtype), np.zeros(size, dtype)
        self.params, self.grads, at = {}, {}, 0
        for k, shape in shapes.items():
            n = int(np.prod(shape))
            self.params[k] = self.flat[at:at + n].reshape(shape)
            self.grads[k] = self.flat_grad[at:at + n].reshape(shape)
            at += n
        self.params["W1"][...] = rng.standard_normal((D, H)) * np.sqrt(2.0 / D)   # He init for ReLU
        self.params["W2"][...] = rng.standard_normal((H, K)) * np.sqrt(1.0 / H)
        self.hyper = {"hidden": hidden}
        self.metrics = {}
        self.set_optimizer(optimizer, lr)
        self._buf = {}
        self._written_rows = None   # the rows of W1's gradient the last step wrote (None: any)

    # knowledge-file protocol --------------------------------------------------------------
    @staticmethod
    def shapes(hyper):
        H = hyper["hidden"]
        if not isinstance(H, int) or isinstance(H, bool) or not 1 <= H <= 2048:
            raise ValueError("hidden must be an integer in 1..2048")
        return {"W1": (784, H), "b1": (H,), "W2": (H, 10), "b2": (10,)}

    @classmethod
    def from_knowledge(cls, meta, arrays):
        model = cls(hidden=meta["hyper"]["hidden"])
        model.set_params(arrays)
        model.metrics = dict(meta["metrics"])
        return model

    # weights between threads: the raw bytes of `flat`, with no file to build or parse ----------
    @classmethod
    def from_flat(cls, data):
        """A model holding a copy of `data`, the bytes of another MLP's `flat` weights."""
        size = len(data) // DTYPE().itemsize
        hidden, extra = divmod(size - SIZES[2], SIZES[0] + 1 + SIZES[2])
        if extra or hidden < 1:
            raise ValueError(f"{len(data)} bytes are not the weights of a {SIZES[0]}-H-{SIZES[2]} MLP")
        model = cls(hidden=hidden)
        model.load_flat(data)
        return model


    # inference ----------------------------------------------------------------------------
    def hidden(self, x):
        """The hidden units' ReLU activations for (N, 784) inputs: (N, H) (the insight panel's too).

        Most pixels of a digit are background, and a 0 pixel's row of W1 adds nothing: each chunk
        of inputs sums only the rows of the pixels it inks (a fifth of the products for one
        drawing, about 70% for a chunk of 256 MNIST digits), the same sums up to float rounding.
        (A boolean mask and compress: np.nonzero alone costs a dense product's third in Pyodide.)"""
        p = self.params
        x = np.asarray(x, p["W1"].dtype).reshape(-1, SIZES[0])
        h = np.empty((len(x), p["b1"].size), p["W1"].dtype)
        for start in range(0, len(x), INK_CHUNK):
            part = x[start:start + INK_CHUNK]
            ink = _few_inked(part)
            if ink is not None:
                _dot(part.compress(ink, axis=1), p["W1"].compress(ink, axis=0), out=h[start:start + INK_CHUNK])
            else:
                _dot(part, p["W1"], out=h[start:start + INK_CHUNK])
        h += p["b1"]
        return np.maximum(h, 0, out=h)

    def logits(self, x):
        p = self.params
        z = self.hidden(x) @ p["W2"]
        z += p["b2"]
        return z

    def predict_proba(self, x):
        """x: (N, 784) floats in [0, 1] (white ink on black) -> (N, 10) probabilities."""
        return softmax(self.logits(x))

    def predict(self, x):
        return self.logits(x).argmax(axis=1)

    def evaluate(self, x, y, chunk=2000):
        """Accuracy on (N, 784) inputs and integer labels."""
        y = np.asarray(y).reshape(-1)
        hits = sum(int((self.predict(x[s:s + chunk]) == y[s:s + chunk]).sum())
                   for s in range(0, len(y), chunk))
        return hits / max(len(y), 1)

    # training -----------------------------------------------------------------------------
    def _buffers(self, n):
        b = self._buf.get(n)
        if b is None:
            H, K, dt = self.params["b1"].size, self.params["b2"].size, self.params["W1"].dtype
            b = self._buf[n] = {"h": np.empty((n, H), dt), "z": np.empty((n, K), dt),
                                "dh": np.empty((n, H), dt), "rows": np.arange(n)}
            if len(self._buf) > 8:                         # batch sizes come and go: stay small
                self._buf = {n: b}
        return b

    @staticmethod
    def _batch_ink(x):
        """Where numpy has no BLAS, or at batch 1: the pixels inked anywhere in the batch, if few
        enough to be worth the copies (else None). MNIST leaves most pixels blank: a batch of 32
        inks about 450 of the 784, of 128 about 520. A blank pixel adds nothing to x·W1 and has a
        zero row in xᵀ·dh, so both products need only the inked columns: the same sums, about a
        third fewer multiply-adds (`make bench`: in-page bare train_step). At batch 1 a digit inks
        a fifth of the rows, and Adam then updates only those rows' moments (grad_rows), which
        pays with BLAS too (CPython: a batch-1 step 8% faster)."""
        if not NO_BLAS and not SKIP_BLANK and len(x) > 1:
            return None
        return _few_inked(x)

    def loss_and_grads(self, x, y):
        """Mean NLL over the batch; fills self.grads in place and returns the loss."""
        p, g = self.params, self.grads
        n = len(y)
        x = np.asarray(x, p["W1"].dtype).reshape(n, SIZES[0])
        b = self._buffers(n)
        h, z, dh, rows = b["h"], b["z"], b["dh"], b["rows"]
        # forward: h = relu(x W1 + b1); z = h W2 + b2; log-softmax in place in z
        ink = self._batch_ink(x)
        x_ink, W1 = (x, p["W1"]) if ink is None else (x.compress(ink, axis=1), p["W1"].compress(ink, axis=0))
        if n == 1 and not NO_BLAS:                          # vector-matrix products at batch 1
            np.dot(x_ink[0], W1, out=h[0])
        else:
            _dot(x_ink, W1, out=h)
        h += p["b1"]
        np.maximum(h, 0, out=h)
        if n == 1:
            np.dot(h[0], p["W2"], out=z[0])
        else:
            np.matmul(h, p["W2"], out=z)
        z += p["b2"]
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)                   # z now holds softmax probabilities
        loss = -float(np.log(np.maximum(z[rows, y], 1e-30)).mean())
        # backward: dz = (softmax - onehot) / n, written over z
        z[rows, y] -= 1
        z /= n
        if n == 1:                                          # outer products: no (1,k) matmuls
            np.outer(h[0], z[0], out=g["W2"])
            g["b2"][...] = z[0]
            np.matmul(p["W2"], z[0], out=dh[0])
        else:
            np.matmul(h.T, z, out=g["W2"])
            z.sum(axis=0, out=g["b2"])
            np.matmul(z, p["W2"].T, out=dh)
        dh *= h > 0
        if ink is not None:
            # A blank pixel's row of dW1 is 0: only the inked rows are written (and the rows
            # the last step wrote cleared), and the optimiser is told which rows those are.
            rows = np.flatnonzero(ink)
            if self._written_rows is None:
                g["W1"].fill(0)
            else:
                g["W1"][self._written_rows] = 0
            g["W1"][rows] = _dot(x_ink.T, dh)
            self._written_rows = rows
            self.grad_rows = {"flat": (g["W1"].shape, rows)} if len(rows) <= ROWS_WORTH * len(ink) else None
        else:
            if n == 1:
                np.outer(x[0], dh[0], out=g["W1"])
            else:
                _dot(x.T, dh, out=g["W1"])
            self._written_rows = self.grad_rows = None
        dh.sum(axis=0, out=g["b1"])
        return loss

