"""The digits CNN: conv 5x5 -> ReLU -> max-pool 2, twice, then dense to 10, trained in float32.

    28x28x1 -conv 5x5-> 24x24xC1 -pool-> 12x12xC1 -conv 5x5-> 8x8xC2 -pool-> 4x4xC2 -dense-> 10

Images are NHWC. A convolution is im2col + one matrix product: every 5x5xC patch becomes a row
(a strided window view, copied once), multiplied by the kernel seen as a (25 C, F) matrix. The
products go through models.products.dot, so under Pyodide (numpy without BLAS) they take the
einsum kernel that suits their shapes, as the MLP's do, and CPython keeps BLAS. ReLU and a 2x2
max-pool commute, so the pool comes first and the ReLU touches a quarter of the values.

Same interface as models.mlp.MLP (train_step, predict_proba, flat weights, optimisers), so the
predictor, the trainer and the knowledge files treat both kinds alike.
"""
import numpy as np

from .layers import log_softmax, softmax
from .products import dot as _dot
from .flat import FlatWeights

SIDE, CLASSES, KERNEL = 28, 10, 5
CONV1, CONV2 = 16, 32               # default channel counts
DTYPE = np.float32
CHUNK = 256                         # inference in chunks: im2col of 2,000 digits at once is 100+ MB


def _out_sides():
    s1 = SIDE - KERNEL + 1          # 24 after conv1
    p1 = s1 // 2                    # 12 after pool1
    s2 = p1 - KERNEL + 1            # 8 after conv2
    return s1, p1, s2, s2 // 2      # 4 after pool2


# the three ops, forward and backward ---------------------------------------------------------
def im2col(x, k):
    """(N, H, W, C) -> (N*Ho*Wo, k*k*C) rows of patches, feature order (kh, kw, c)."""
    n, h, w, c = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))  # N,Ho,Wo,C,k,k
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * (h - k + 1) * (w - k + 1), k * k * c)


def col2im(dcols, shape, k):
    """Adjoint of im2col: scatter-add patch gradients back onto an (N, H, W, C) image."""
    n, h, w, c = shape
    ho, wo = h - k + 1, w - k + 1
    d = dcols.reshape(n, ho, wo, k, k, c)
    dx = np.zeros(shape, dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i:i + ho, j:j + wo, :] += d[:, :, :, i, j, :]
    return dx


def pool_forward(z):
    """2x2 max-pool of (N, H, W, C), H and W even."""
    return np.maximum(np.maximum(z[:, 0::2, 0::2], z[:, 0::2, 1::2]),
                      np.maximum(z[:, 1::2, 0::2], z[:, 1::2, 1::2]))


def pool_backward(dm, z, m):
    """The gradient goes to the FIRST maximum of each window: blank image regions give conv
    outputs that tie exactly (the bias alone), and routing to every tie would count it 4x."""
    dz = np.zeros_like(z)
    taken = np.zeros(m.shape, bool)
    for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)):
        hit = z[:, i::2, j::2] == m
        hit &= ~taken
        taken |= hit
        dz[:, i::2, j::2] = dm * hit
    return dz


class CNN(FlatWeights):
    KIND = "mnist-cnn"

    def __init__(self, conv1=CONV1, conv2=CONV2, seed=0, optimizer="adam", lr=1e-3, dtype=DTYPE):
        rng = np.random.default_rng(seed)
        self.hyper = {"conv1": conv1, "conv2": conv2, "kernel": KERNEL}
        shapes = self.shapes(self.hyper)
        # one flat weight array and one flat gradient array, every parameter a view (as the MLP)
        size = sum(int(np.prod(s)) for s in shapes.values())
        self.flat, self.flat_grad = np.zeros(size, dtype), np.zeros(size, dtype)
        self.params, self.grads, at = {}, {}, 0
        for name, shape in shapes.items():
            n = int(np.prod(shape))
            self.params[name] = self.flat[at:at + n].reshape(shape)
            self.grads[name] = self.flat_grad[at:at + n].reshape(shape)
            at += n
        for name in ("K1", "K2", "W3"):                 # He init over each layer's fan-in
            w = self.params[name]
            fan_in = w.size // w.shape[-1]
            w[...] = rng.standard_normal(w.shape) * np.sqrt((1.0 if name == "W3" else 2.0) / fan_in)
        self.metrics = {}
        self.set_optimizer(optimizer, lr)

    # knowledge-file protocol --------------------------------------------------------------
    @staticmethod
    def shapes(hyper):
        c1, c2, k = hyper["conv1"], hyper["conv2"], hyper["kernel"]
        for name, v in (("conv1", c1), ("conv2", c2)):
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 256:
                raise ValueError(f"{name} must be an integer in 1..256")
        if k != KERNEL or isinstance(k, bool):
            raise ValueError(f"kernel must be {KERNEL}")
        side = _out_sides()[3]
        return {"K1": (k, k, 1, c1), "b1": (c1,), "K2": (k, k, c1, c2), "b2": (c2,),
                "W3": (side * side * c2, CLASSES), "b3": (CLASSES,)}

    @classmethod
    def from_knowledge(cls, meta, arrays):
        model = cls(conv1=meta["hyper"]["conv1"], conv2=meta["hyper"]["conv2"])
        model.set_params(arrays)
        model.metrics = dict(meta["metrics"])
        return model

    # weights between threads: the raw bytes of `flat` --------------------------------------
    @classmethod
    def from_flat(cls, data, conv1=CONV1, conv2=CONV2):
        """A model holding a copy of `data`, the bytes of another CNN's `flat` weights. Unlike the
        MLP's hidden size, the two channel counts cannot be told from the byte count: pass them."""
        model = cls(conv1=conv1, conv2=conv2)
        model.load_flat(data)
        return model


    def flops_per_sample(self):
        """Multiply-adds x 2 of one forward pass (the products; pools and ReLUs not counted)."""
        s1, _, s2, _ = _out_sides()
        c1, c2 = self.hyper["conv1"], self.hyper["conv2"]
        return 2 * (s1 * s1 * KERNEL * KERNEL * c1 + s2 * s2 * KERNEL * KERNEL * c1 * c2
                    + self.params["W3"].size)

    # forward / backward -------------------------------------------------------------------
    def _conv1(self, x):
        """The first layer before its ReLU for (N, 784) inputs: its patches and (N, 24, 24, C1)."""
        n, k, c1, s1 = len(x), KERNEL, self.hyper["conv1"], _out_sides()[0]
        cols1 = im2col(x.reshape(n, SIDE, SIDE, 1), k)
        z1 = _dot(cols1, self.params["K1"].reshape(k * k, c1)).reshape(n, s1, s1, c1)
        z1 += self.params["b1"]
        return cols1, z1

    def feature_maps(self, x):
        """The first layer's ReLU feature maps of (N, 784) inputs: (N, 24, 24, C1)."""
        return np.maximum(self._conv1(np.asarray(x, self.flat.dtype).reshape(-1, SIDE * SIDE))[1], 0)

    def _forward(self, x):
        """Logits of (N, 784) inputs, and what the backward pass needs."""
        p = self.params
        n = len(x)
        k, c1, c2 = KERNEL, self.hyper["conv1"], self.hyper["conv2"]
        _, _, s2, p2 = _out_sides()
        cols1, z1 = self._conv1(x)
        m1 = pool_forward(z1)
        a1 = np.maximum(m1, 0)
        cols2 = im2col(a1, k)
        z2 = _dot(cols2, p["K2"].reshape(k * k * c1, c2)).reshape(n, s2, s2, c2)
        z2 += p["b2"]
        m2 = pool_forward(z2)
        a2 = np.maximum(m2, 0).reshape(n, p2 * p2 * c2)
        logits = _dot(a2, p["W3"])
        logits += p["b3"]
        return logits, (cols1, z1, m1, a1, cols2, z2, m2, a2)

    def loss_and_grads(self, x, y):
        """Mean NLL over the batch; fills self.grads in place and returns the loss."""
        p, g = self.params, self.grads
        n = len(y)
        k, c1, c2 = KERNEL, self.hyper["conv1"], self.hyper["conv2"]
        x = np.asarray(x, self.flat.dtype).reshape(n, SIDE * SIDE)
        logits, (cols1, z1, m1, a1, cols2, z2, m2, a2) = self._forward(x)
        logp = log_softmax(logits)
        rows = np.arange(n)
        loss = -float(logp[rows, y].mean())
        d = np.exp(logp)                                # dlogits = (softmax - onehot) / n
        d[rows, y] -= 1
        d /= n
        _dot(a2.T, d, out=g["W3"])
        d.sum(axis=0, out=g["b3"])
        da2 = _dot(d, p["W3"].T).reshape(m2.shape)
        da2 *= m2 > 0
        dz2 = pool_backward(da2, z2, m2).reshape(-1, c2)
        dz2.sum(axis=0, out=g["b2"])
        _dot(cols2.T, dz2, out=g["K2"].reshape(k * k * c1, c2))
        da1 = col2im(_dot(dz2, p["K2"].reshape(k * k * c1, c2).T), a1.shape, k)
        da1 *= m1 > 0
        dz1 = pool_backward(da1, z1, m1).reshape(-1, c1)
        dz1.sum(axis=0, out=g["b1"])
        _dot(cols1.T, dz1, out=g["K1"].reshape(k * k, c1))
        return loss

    # inference ----------------------------------------------------------------------------
    def logits(self, x):
        x = np.asarray(x, self.flat.dtype).reshape(-1, SIDE * SIDE)
        if not len(x):
            return np.zeros((0, CLASSES), x.dtype)
        return np.concatenate([self._forward(x[s:s + CHUNK])[0] for s in range(0, len(x), CHUNK)])

    def predict_proba(self, x):
        """x: (N, 784) floats in [0, 1] (white ink on black) -> (N, 10) probabilities."""
        return softmax(self.logits(x))

    def predict(self, x):
        return self.logits(x).argmax(axis=1)

    def evaluate(self, x, y):
        """Accuracy on (N, 784) inputs and integer labels."""
        y = np.asarray(y).reshape(-1)
        return float((self.predict(x) == y).sum()) / max(len(y), 1)
