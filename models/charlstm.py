"""Character-level LSTM: the char-RNN with its tanh recurrence swapped for models/lstm.py.

Everything around the recurrence — vocabulary, output layer, loss, nats_per_char, sampling,
knowledge meta and the CharTrainer — is the char-RNN's (models/charrnn.py); this module only
says how a window runs forward and backward and how one character steps the state.

params: Wx (V,4H) one row per character (a one-hot input as a row lookup), Wh (H,4H), b (4H,)
with gates [input | forget | output | candidate], Wy (H,V), by (V,)
state: (h, c), each (B, H)
"""
import numpy as np

from .charrnn import CharRNN
from .lstm import init_lstm, lstm_backward, lstm_forward, sigmoid
from .products import NO_BLAS


class CharLSTM(CharRNN):
    KIND = "char-lstm"

    def __init__(self, vocab, hidden=384, seed=0, dtype=np.float32):
        super().__init__(vocab, hidden=hidden, seed=seed, dtype=dtype)

    @staticmethod
    def init_params(V, H, rng, dtype):
        Wx, Wh, b = init_lstm(V, H, rng, dtype)
        return {"Wx": Wx, "Wh": Wh, "b": b,
                "Wy": (rng.standard_normal((H, V)) / np.sqrt(H)).astype(dtype),
                "by": np.zeros(V, dtype)}

    @staticmethod
    def shapes(hyper):
        H, V = CharRNN.shapes(hyper)["Wh"][0], hyper["vocab_size"]
        return {"Wx": (V, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,), "Wy": (H, V), "by": (V,)}

    def init_state(self, batch):
        z = np.zeros((batch, self.hyper["hidden"]), self.params["Wh"].dtype)
        return z, z.copy()

    def forward(self, ids, state):
        p = self.params
        Hs, cache = lstm_forward(ids, p["Wx"], p["Wh"], p["b"], *state)
        Cs = cache[6]
        return Hs, cache, (Hs[-1].copy(), Cs[-1].copy())

    def backward(self, dHs, cache):
        _, dWx, dWh, db, _, _ = lstm_backward(dHs, cache)
        return {"Wx": dWx, "Wh": dWh, "b": db}

    def sampler(self):
        """One character at a time in float32 (the page's writer; float32 halves the bytes the
        recurrent product reads); through einsum where numpy has no BLAS (see models/products.py)."""
        Wx, Wh, b = (self.params[k] for k in ("Wx", "Wh", "b"))
        H = self.hyper["hidden"]

        def step(i, state):
            h, c = state
            a = np.einsum("j,jk->k", h, Wh) if NO_BLAS else h @ Wh
            a += Wx[i]
            a += b
            g = np.empty_like(a)
            sigmoid(a[:3 * H], out=g[:3 * H])
            np.tanh(a[3 * H:], out=g[3 * H:])
            c = g[H:2 * H] * c + g[:H] * g[3 * H:]
            h = g[2 * H:3 * H] * np.tanh(c)
            return h.astype(np.float64), (h, c)
        z = np.zeros(H, np.float32)
        return (z, z.copy()), step
