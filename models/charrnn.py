"""Character-level RNN in the min-char-rnn lineage, batched, with a step-at-a-time trainer.

data: text -> integer ids over a vocabulary saved with the model
params: Wx (V,H), Wh (H,H), b (H,), Wy (H,V), by (V,)
loss: mean negative log-likelihood of the next character, in nats per character
sample: feed the prefix, then draw one character at a time from softmax(logits / temperature)
"""
import numpy as np

from .layers import log_softmax, log_softmax_nll_backward, nll_loss
from .optim import Adam, clip_grads
from .rnn import rnn_backward, rnn_forward

SEQ_LEN = 25       # characters per truncated-BPTT window (min-char-rnn's value)
BATCH = 4          # parallel streams: 4 x 25 chars keeps a step ~30 ms in Pyodide (no BLAS);
                   # the dev kit trains the shipped file with 32 x 50 (models/train.py)
LR = 2e-3          # Adam step size
CLIP = 5.0         # gradient clipping (exploding RNN gradients)
VAL_FRACTION = 0.1  # the last 10% of the text is held out for the loss per character


class CharRNN:
    KIND = "char-rnn"

    def __init__(self, vocab, hidden=256, seed=0, dtype=np.float32):
        vocab = "".join(vocab)
        if len(set(vocab)) != len(vocab) or not vocab:
            raise ValueError("the vocabulary must be a non-empty string of distinct characters")
        self.vocab, V, H = vocab, len(vocab), hidden
        self.index = {c: i for i, c in enumerate(vocab)}
        rng = np.random.default_rng(seed)
        self.params = {
            "Wx": (rng.standard_normal((V, H)) * 0.01).astype(dtype),
            "Wh": (np.linalg.qr(rng.standard_normal((H, H)))[0] * 0.9).astype(dtype),  # near-orthogonal keeps early gradients alive
            "b": np.zeros(H, dtype),
            "Wy": (rng.standard_normal((H, V)) * 0.01).astype(dtype),
            "by": np.zeros(V, dtype),
        }
        self.hyper = {"hidden": H, "vocab_size": V}
        self.metrics = {}

    @staticmethod
    def shapes(hyper):
        H, V = hyper["hidden"], hyper["vocab_size"]
        for name, v, top in (("hidden", H, 2048), ("vocab_size", V, 4096)):
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= top:
                raise ValueError(f"{name} must be an integer in 1..{top}")
        return {"Wx": (V, H), "Wh": (H, H), "b": (H,), "Wy": (H, V), "by": (V,)}

    @classmethod
    def from_knowledge(cls, meta, arrays):
        vocab = meta.get("vocab")
        if not isinstance(vocab, str) or len(vocab) != meta["hyper"]["vocab_size"]:
            raise ValueError("meta.vocab must be a string with vocab_size characters")
        model = cls(vocab, hidden=meta["hyper"]["hidden"])
        model.params.update(arrays)
        model.metrics = dict(meta["metrics"])
        return model

    def extra_meta(self):
        return {"vocab": self.vocab}

    def n_params(self):
        return sum(p.size for p in self.params.values())

    def encode(self, text):
        """Text -> int ids; characters outside the vocabulary are dropped."""
        return np.array([self.index[c] for c in text if c in self.index], np.int64)

    # forward + backward on a (T, B) window ----------------------------------------------
    def loss_and_grads(self, inputs, targets, h0):
        """inputs/targets (T, B) ids, h0 (B, H). Returns loss, grads, last hidden state."""
        p = self.params
        T, B = inputs.shape
        Hs, cache = rnn_forward(inputs, p["Wx"], p["Wh"], p["b"], h0)   # ids: row lookups
        hflat = Hs.reshape(T * B, -1)
        logp = log_softmax(hflat @ p["Wy"] + p["by"])
        y = targets.reshape(-1)
        loss = nll_loss(logp, y)
        dz = log_softmax_nll_backward(logp, y)
        dHs = (dz @ p["Wy"].T).reshape(Hs.shape)
        _, dWx, dWh, db, _ = rnn_backward(dHs, cache)
        grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": hflat.T @ dz, "by": dz.sum(axis=0)}
        return loss, grads, Hs[-1].copy()

    def loss_on(self, ids, chunk=1000):
        """Mean nats per character of predicting ids[1:] from what came before (one stream)."""
        p = self.params
        h = np.zeros((1, p["Wh"].shape[0]), p["Wh"].dtype)
        total, n = 0.0, 0
        for s in range(0, len(ids) - 1, chunk):
            x, y = ids[s:s + chunk + 1][:-1], ids[s + 1:s + chunk + 1]
            Hs, _ = rnn_forward(x[:, None], p["Wx"], p["Wh"], p["b"], h)
            h = Hs[-1]
            logp = log_softmax(Hs[:, 0] @ p["Wy"] + p["by"])
            total += nll_loss(logp, y) * len(y)
            n += len(y)
        return total / max(n, 1)

    # sampling -----------------------------------------------------------------------------
    def sample(self, prefix="", length=200, temperature=1.0, seed=None):
        """Continue `prefix` by `length` characters (returned WITHOUT the prefix).

        temperature < 1 is more conservative, > 1 wilder; seed makes it reproducible."""
        p = self.params
        rng = np.random.default_rng(seed)
        temperature = max(float(temperature), 1e-3)
        H = p["Wh"].shape[0]
        h = np.zeros(H, np.float64)
        Wx, Wh, b, Wy, by = (p[k].astype(np.float64) for k in ("Wx", "Wh", "b", "Wy", "by"))
        ids = list(self.encode(prefix)) or [self.index.get("\n", 0)]
        for i in ids:                                         # warm the state on the prefix
            h = np.tanh(Wx[i] + h @ Wh + b)
        out = []
        for _ in range(int(length)):
            z = (h @ Wy + by) / temperature
            z = np.exp(z - z.max())
            i = int(rng.choice(len(z), p=z / z.sum()))
            out.append(self.vocab[i])
            h = np.tanh(Wx[i] + h @ Wh + b)
        return "".join(out)


class CharTrainer:
    """One Adam step per call over BATCH parallel streams, carrying the hidden state
    between windows (truncated BPTT, as min-char-rnn does). `lr` may change between steps."""

    def __init__(self, model, text, seq_len=SEQ_LEN, batch=BATCH, lr=LR, seed=0):
        self.model, self.seq_len, self.batch = model, seq_len, batch
        ids = model.encode(text)
        n_val = int(len(ids) * VAL_FRACTION)
        self.train_ids, self.val_ids = ids[:len(ids) - n_val], ids[len(ids) - n_val:]
        if len(self.train_ids) < batch * (seq_len + 1):
            raise ValueError("the text is too short for this batch size and sequence length")
        self.opt = Adam(model.params, lr=lr)
        span = len(self.train_ids) // batch
        self.starts = np.arange(batch) * span                 # each stream reads its own slice
        self.offset = int(np.random.default_rng(seed).integers(0, seq_len))
        self.span = span
        self.h = np.zeros((batch, model.params["Wh"].shape[0]), model.params["Wh"].dtype)
        self.steps = 0

    @property
    def lr(self):
        return self.opt.lr

    @lr.setter
    def lr(self, value):
        self.opt.lr = float(value)

    def step(self):
        """One training step; returns the window's loss in nats per character."""
        T = self.seq_len
        if self.offset + T + 1 > self.span:                   # end of the slices: start over
            self.offset = 0
            self.h[:] = 0
        pos = self.starts[:, None] + self.offset + np.arange(T + 1)[None, :]
        win = self.train_ids[pos].T                           # (T+1, B)
        loss, grads, self.h = self.model.loss_and_grads(win[:-1], win[1:], self.h)
        clip_grads(grads, CLIP)
        self.opt.step(grads)
        self.offset += T
        self.steps += 1
        return loss

    def val_loss(self):
        return self.model.loss_on(self.val_ids)


def vocabulary(text):
    """Sorted distinct characters of a text: the model's vocabulary."""
    return "".join(sorted(set(text)))
