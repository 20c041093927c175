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
        self.params = self.init_params(V, H, np.random.default_rng(seed), dtype)
        self.hyper = {"hidden": H, "vocab_size": V}
        self.metrics = {}

    @staticmethod
    def init_params(V, H, rng, dtype):
        return {
            "Wx": (rng.standard_normal((V, H)) * 0.01).astype(dtype),
            "Wh": (np.linalg.qr(rng.standard_normal((H, H)))[0] * 0.9).astype(dtype),  # near-orthogonal keeps early gradients alive
            "b": np.zeros(H, dtype),
            "Wy": (rng.standard_normal((H, V)) * 0.01).astype(dtype),
            "by": np.zeros(V, dtype),
        }

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

    # the recurrence: what CharLSTM replaces ----------------------------------------------
    def init_state(self, batch):
        """The recurrent state of `batch` fresh streams (for the RNN, just h)."""
        return np.zeros((batch, self.hyper["hidden"]), self.params["Wh"].dtype)

    def forward(self, ids, state):
        """ids (T, B) -> hidden states Hs (T, B, H), a cache for backward, the last state."""
        p = self.params
        Hs, cache = rnn_forward(ids, p["Wx"], p["Wh"], p["b"], state)   # ids: row lookups
        return Hs, cache, Hs[-1].copy()

    def backward(self, dHs, cache):
        _, dWx, dWh, db, _ = rnn_backward(dHs, cache)
        return {"Wx": dWx, "Wh": dWh, "b": db}

    def sampler(self):
        """(state, step) in float64 for one stream: step(id, state) -> (h, state)."""
        Wx, Wh, b = (self.params[k].astype(np.float64) for k in ("Wx", "Wh", "b"))

        def step(i, h):
            h = np.tanh(Wx[i] + h @ Wh + b)
            return h, h
        return np.zeros(self.hyper["hidden"]), step

    # shared by the char-RNN and the char-LSTM: output layer, loss, sampling --------------
    def loss_and_grads(self, inputs, targets, state):
        """inputs/targets (T, B) ids. Returns loss, grads, the last recurrent state."""
        p = self.params
        Hs, cache, state = self.forward(inputs, state)
        hflat = Hs.reshape(-1, Hs.shape[-1])
        logp = log_softmax(hflat @ p["Wy"] + p["by"])
        y = targets.reshape(-1)
        loss = nll_loss(logp, y)
        dz = log_softmax_nll_backward(logp, y)
        grads = self.backward((dz @ p["Wy"].T).reshape(Hs.shape), cache)
        grads.update(Wy=hflat.T @ dz, by=dz.sum(axis=0))
        return loss, grads, state

    def loss_on(self, ids, chunk=1000, streams=1):
        """Mean nats per character of predicting ids[1:] from what came before.

        streams > 1 cuts the ids into that many contiguous slices run side by side (faster;
        each slice starts from a fresh state, so slightly higher than one stream)."""
        p = self.params
        span = (len(ids) - 1) // streams
        if span < 1:
            return 0.0
        pos = np.arange(streams)[:, None] * span                   # (S, 1) slice starts
        state = self.init_state(streams)
        total, n = 0.0, 0
        for s in range(0, span, chunk):
            steps = np.arange(s, min(s + chunk, span))[None, :]
            x, y = ids[(pos + steps).T], ids[(pos + steps + 1).T]  # (T, S)
            Hs, _, state = self.forward(x, state)
            logp = log_softmax(Hs.reshape(-1, Hs.shape[-1]) @ p["Wy"] + p["by"])
            total += nll_loss(logp, y.reshape(-1)) * y.size
            n += y.size
        return total / n

    def nats_per_char(self, text):
        """Mean negative log-likelihood per character of `text` (characters outside the
        vocabulary are dropped), read as one stream from a fresh state."""
        return self.loss_on(self.encode(text))

    def sample(self, prefix="", length=200, temperature=1.0, seed=None):
        """Continue `prefix` by `length` characters (returned WITHOUT the prefix).

        temperature < 1 is more conservative, > 1 wilder; seed makes it reproducible."""
        return self.sample_with_probabilities(prefix, length, temperature, seed)[0]

    def sample_with_probabilities(self, prefix="", length=200, temperature=1.0, seed=None):
        """sample(), plus what the model believed: (text, p_each (length,), p_next (V,)).

        p_each[t] is the probability the model gave the t-th written character and p_next its
        distribution over the character after the text, both at temperature 1 (the model's own
        belief; the temperature only bends the draw)."""
        rng = np.random.default_rng(seed)
        temperature = max(float(temperature), 1e-3)
        Wy, by = (self.params[k].astype(np.float64) for k in ("Wy", "by"))
        state, step = self.sampler()
        ids = list(self.encode(prefix)) or [self.index.get("\n", 0)]
        for i in ids:                                         # warm the state on the prefix
            h, state = step(i, state)
        out, p_each = [], np.empty(int(length))
        for t in range(int(length)):
            logits = h @ Wy + by
            z = logits / temperature
            z = np.exp(z - z.max())
            i = int(rng.choice(len(z), p=z / z.sum()))
            p_each[t] = np.exp(log_softmax(logits)[i])
            out.append(self.vocab[i])
            h, state = step(i, state)
        return "".join(out), p_each, np.exp(log_softmax(h @ Wy + by))


class CharTrainer:
    """One Adam step per call over BATCH parallel streams, carrying the hidden state
    between windows (truncated BPTT, as min-char-rnn does). `lr` may change between steps."""

    def __init__(self, model, text, seq_len=SEQ_LEN, batch=BATCH, lr=LR, seed=0, held_out=False):
        """held_out=True: the caller scores its own held-out text, so all of `text` trains."""
        self.model, self.seq_len, self.batch = model, seq_len, batch
        ids = model.encode(text)
        n_val = 0 if held_out else int(len(ids) * VAL_FRACTION)
        self.train_ids, self.val_ids = ids[:len(ids) - n_val], ids[len(ids) - n_val:]
        if len(self.train_ids) < batch * (seq_len + 1):
            raise ValueError("the text is too short for this batch size and sequence length")
        self.opt = Adam(model.params, lr=lr)
        span = len(self.train_ids) // batch
        self.starts = np.arange(batch) * span                 # each stream reads its own slice
        self.offset = int(np.random.default_rng(seed).integers(0, seq_len))
        self.span = span
        self.state = model.init_state(batch)
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
            self.state = self.model.init_state(self.batch)
        pos = self.starts[:, None] + self.offset + np.arange(T + 1)[None, :]
        win = self.train_ids[pos].T                           # (T+1, B)
        loss, grads, self.state = self.model.loss_and_grads(win[:-1], win[1:], self.state)
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
