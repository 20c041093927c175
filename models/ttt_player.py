"""A tic-tac-toe player that is an LSTM reading the move history.

Input at each step is a one-hot of (cell, who played it) — 18 values — plus a start token,
so the empty history is one step long. The last hidden state goes through a dense layer to 9
logits; occupied cells are masked out, so the move is the argmax among LEGAL cells.
Training target: the SET of minimax-optimal moves (loss = -log of their total probability).
"""
import numpy as np

from . import tictactoe as ttt
from .layers import log_softmax, set_nll_backward, set_nll_loss
from .lstm import init_lstm, lstm_backward, lstm_forward

IN = 19          # 9 cells x 2 players + start token
START = 18


def encode(histories):
    """Histories of equal length k -> one-hot inputs (k+1, B, 19) and legal-move mask (B, 9)."""
    B, k = len(histories), len(histories[0]) if len(histories) else 0
    idx = np.full((B, k + 1), START, np.int64)
    if k:
        h = np.asarray(histories, np.int64).reshape(B, k)
        idx[:, 1:] = h + 9 * (np.arange(k) % 2)          # O's moves use the second 9 slots
    X = np.zeros((k + 1, B, IN), np.float32)
    X[np.arange(k + 1)[:, None], np.arange(B)[None, :], idx.T] = 1
    legal = np.ones((B, 9), bool)
    if k:
        legal[np.arange(B)[:, None], h] = False
    return X, legal


class TicTacToeLSTM:
    KIND = "tictactoe-lstm"

    def __init__(self, hidden=64, seed=0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        Wx, Wh, b = init_lstm(IN, hidden, rng, dtype)
        self.params = {"Wx": Wx, "Wh": Wh, "b": b,
                       "Wy": (rng.standard_normal((hidden, 9)) / np.sqrt(hidden)).astype(dtype),
                       "by": np.zeros(9, dtype)}
        self.hyper = {"hidden": hidden}
        self.metrics = {}

    @staticmethod
    def shapes(hyper):
        """Parameter shapes implied by the hyper-parameters (validated: files are untrusted)."""
        H = hyper["hidden"]
        if not isinstance(H, int) or not 1 <= H <= 512:
            raise ValueError("hidden must be an integer in 1..512")
        return {"Wx": (IN, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,), "Wy": (H, 9), "by": (9,)}

    @classmethod
    def from_knowledge(cls, meta, arrays):
        model = cls(hidden=meta["hyper"]["hidden"])
        model.params.update(arrays)
        model.metrics = dict(meta["metrics"])
        return model

    def n_params(self):
        return sum(p.size for p in self.params.values())

    # forward ------------------------------------------------------------------------------
    def log_probs(self, histories):
        """Masked log-probabilities (B, 9) over cells for equal-length histories."""
        return self._forward(histories)[0]

    def _forward(self, histories):
        p = self.params
        X, legal = encode(histories)
        X = X.astype(p["Wx"].dtype, copy=False)
        Hs, cache = lstm_forward(X, p["Wx"], p["Wh"], p["b"])
        z = Hs[-1] @ p["Wy"] + p["by"]
        z[~legal] = -np.inf                                  # illegal cells get probability 0
        return log_softmax(z), Hs, cache, legal

    def choose_batch(self, histories):
        return self.log_probs(histories).argmax(axis=1)

    def move_probabilities(self, moves):
        """(9,) float64: the probability the LSTM gives each cell after `moves` (cell indices, in
        order) for the side to move; 0 on taken cells, so it sums to 1 over the empty ones."""
        moves = [int(m) for m in moves]
        board = ttt.board_of(moves)                          # raises ValueError if illegal
        if ttt.is_terminal(board):
            raise ValueError("the game is over: no move to choose")
        p = np.exp(self.log_probs([moves])[0].astype(np.float64))
        return p / p.sum()                                   # float32 log-probs sum to 1 only to ~1e-7

    def choose(self, moves):
        """The move to play after `moves` (a list of cell indices): a legal empty cell."""
        return int(np.argmax(self.move_probabilities(moves)))

    # training -----------------------------------------------------------------------------
    def loss_and_grads(self, histories, target_mask):
        """Set-NLL of the optimal moves and gradients for all parameters."""
        p = self.params
        logp, Hs, cache, _ = self._forward(histories)
        loss = set_nll_loss(logp, target_mask)
        dz = set_nll_backward(logp, target_mask).astype(Hs.dtype)
        dz[~np.isfinite(logp)] = 0
        hT = Hs[-1]
        dHs = np.zeros_like(Hs)
        dHs[-1] = dz @ p["Wy"].T
        _, dWx, dWh, db, _, _ = lstm_backward(dHs, cache)
        grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": hT.T @ dz, "by": dz.sum(axis=0)}
        return loss, grads


class Positions:
    """Every reachable non-terminal history, grouped by length, with optimal-move masks."""

    def __init__(self):
        by_len = {}
        for h in ttt.all_histories():
            by_len.setdefault(len(h), []).append(h)
        self.groups = []
        for k in sorted(by_len):
            hs = by_len[k]
            arr = np.asarray(hs, np.int8).reshape(len(hs), k)
            mask = np.zeros((len(hs), 9), bool)
            for j, h in enumerate(hs):
                mask[j, list(ttt.optimal_moves_on(ttt.board_of(h)))] = True
            self.groups.append((arr, mask))
        self.count = sum(len(a) for a, _ in self.groups)

    def batches(self, batch_size, rng):
        """One epoch of shuffled minibatches, each of histories of the same length."""
        out = []
        for arr, mask in self.groups:
            sel = rng.permutation(len(arr))
            for s in range(0, len(sel), batch_size):
                j = sel[s:s + batch_size]
                out.append((arr[j], mask[j]))
        rng.shuffle(out)
        return out

    def evaluate(self, model, chunk=16384):
        """Fraction of histories where the model's move is optimal, and per-group wrong masks."""
        wrong = []
        for arr, mask in self.groups:
            w = np.zeros(len(arr), bool)
            for s in range(0, len(arr), chunk):
                a = arr[s:s + chunk]
                m = model.choose_batch(a if a.shape[1] else [()] * len(a))
                w[s:s + chunk] = ~mask[s:s + chunk][np.arange(len(a)), m]
            wrong.append(w)
        n_wrong = sum(int(w.sum()) for w in wrong)
        return 1 - n_wrong / self.count, wrong

    def choices(self, model, chunk=16384):
        """dict history-tuple -> the model's move, for every history (for full play-outs)."""
        out = {}
        for arr, _ in self.groups:
            for s in range(0, len(arr), chunk):
                a = arr[s:s + chunk]
                m = model.choose_batch(a if a.shape[1] else [()] * len(a))
                for h, mv in zip(a.tolist(), m.tolist()):
                    out[tuple(h)] = mv
        return out
