"""Weights kept as views into one flat float32 array, shared by the digits models.

The optimiser makes one call per operation on `flat`, and the worker ships the raw bytes of
`flat` to the page, which copies them into a model it reuses. A model using this sets
`self.flat`, `self.flat_grad` and `self.params` (name -> view into flat), and defines
`loss_and_grads(x, y)`, which fills flat_grad (and may set `grad_rows`, below).
"""
import numpy as np

from .optim import SGD, Adam


class FlatWeights:
    # Set by loss_and_grads where the gradient it left is 0 outside some rows of the matrix at
    # the start of flat_grad: {"flat": ((rows, columns), indices of the rows that are not)}; the
    # optimiser then spends nothing on the zero ones (models.optim.Adam.step).
    grad_rows = None

    def load_flat(self, data):
        """Overwrite every weight in place from the bytes of a same-sized model's `flat`."""
        incoming = np.frombuffer(data, self.flat.dtype)
        if incoming.size != self.flat.size:
            raise ValueError(f"expected {self.flat.size} weights, got {incoming.size}")
        self.flat[:] = incoming

    def n_params(self):
        return sum(p.size for p in self.params.values())

    def get_params(self):
        """Copies of the weights (to ship from the worker to the main thread)."""
        return {k: p.copy() for k, p in self.params.items()}

    def set_params(self, params):
        """Overwrite weights in place (the optimiser keeps pointing at the same arrays)."""
        for k, p in self.params.items():
            p[...] = np.asarray(params[k], p.dtype).reshape(p.shape)

    def train_step(self, x, y, lr=None):
        """One optimiser step on a batch (any size, may change between calls). Returns loss."""
        if lr is not None:
            self.opt.lr = float(lr)
        loss = self.loss_and_grads(x, np.asarray(y, np.int64).reshape(-1))
        self.opt.step({"flat": self.flat_grad}, rows=self.grad_rows)
        return loss

    def set_optimizer(self, name="adam", lr=1e-3):
        if name == "adam":
            self.opt = Adam({"flat": self.flat}, lr=lr)
        elif name == "sgd":
            self.opt = SGD({"flat": self.flat}, lr=lr, momentum=0.9)
        else:
            raise ValueError(f"unknown optimizer {name!r}")
        self.optimizer = name

    @property
    def lr(self):
        return self.opt.lr

    @lr.setter
    def lr(self, value):
        self.opt.lr = float(value)
