"""Char-RNN: gradients, sampling, the step-at-a-time trainer, and the shipped file."""
import re
from pathlib import Path

import numpy as np
import pytest

from models import knowledge as K
from models.charlstm import CharLSTM
from models.charrnn import CharRNN, CharTrainer, vocabulary

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "static" / "data" / "text" / "hamlet.txt"
needs_corpus = pytest.mark.skipif(not CORPUS.exists(), reason="corpus not built: run `make data`")


@pytest.mark.parametrize("cls", [CharRNN, CharLSTM])
def test_char_model_gradients_match_finite_differences(cls):
    m = cls("abcd\n", hidden=6, seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    for p in m.params.values():
        p += rng.standard_normal(p.shape) * 0.3
    inp, tgt = rng.integers(0, 5, (4, 3)), rng.integers(0, 5, (4, 3))
    h0 = m.init_state(3)                                  # h, or (h, c) for the LSTM
    for s in (h0 if isinstance(h0, tuple) else (h0,)):
        s += rng.standard_normal(s.shape) * 0.5
    _, grads, _ = m.loss_and_grads(inp, tgt, h0)
    for k, p in m.params.items():
        num = np.zeros_like(p)
        for j in np.ndindex(p.shape):
            old = p[j]
            p[j] = old + 1e-6
            lp = m.loss_and_grads(inp, tgt, h0)[0]
            p[j] = old - 1e-6
            lm = m.loss_and_grads(inp, tgt, h0)[0]
            p[j] = old
            num[j] = (lp - lm) / 2e-6
        err = np.abs(num - grads[k]).max() / (np.abs(num).max() + np.abs(grads[k]).max())
        assert err < 1e-5, (k, err)


def test_vocabulary_and_encoding():
    assert vocabulary("hello\n") == "\nehlo"
    m = CharRNN(vocabulary("hello\n"), hidden=4)
    assert m.encode("hex!").tolist() == [m.index["h"], m.index["e"]]        # unknown chars dropped
    with pytest.raises(ValueError):
        CharRNN("aab")


def test_sample_is_reproducible_and_uses_the_vocabulary():
    m = CharRNN(vocabulary("the cat sat\n"), hidden=16, seed=0)
    a = m.sample("the ", 80, 1.0, seed=7)
    assert a == m.sample("the ", 80, 1.0, seed=7) and len(a) == 80 and set(a) <= set(m.vocab)
    assert a != m.sample("the ", 80, 1.0, seed=8)
    assert m.sample("zzz", 0, 1.0, seed=1) == ""


def test_trainer_learns_a_repetitive_text_step_by_step():
    text = "to be or not to be, that is the question.\n" * 60
    m = CharRNN(vocabulary(text), hidden=32, seed=0)
    tr = CharTrainer(m, text, seq_len=20, batch=4, lr=1e-2, seed=0)
    first = tr.step()
    tr.lr = 5e-3
    assert tr.opt.lr == 5e-3
    for _ in range(150):
        last = tr.step()
    assert last < first / 4 and tr.steps == 151
    assert tr.val_loss() < 1.0
    assert "to be" in m.sample("to", 60, 0.5, seed=0)
    assert m.sample("", 50, 0.01, seed=1) == m.sample("", 50, 0.01, seed=2)   # ~greedy: one answer


def test_trainer_refuses_a_text_too_short():
    with pytest.raises(ValueError):
        CharTrainer(CharRNN("ab", hidden=4), "abab", seq_len=10, batch=4)


@needs_corpus
def test_corpus_is_the_pinned_public_domain_text():
    text = CORPUS.read_text(encoding="utf-8")
    assert len(text.encode()) >= 100_000 and text.startswith("HAMLET, PRINCE OF DENMARK")


@needs_corpus
def test_shipped_text_model_meets_its_figure_and_reads_like_the_text():
    m = K.load(ROOT / "knowledge" / "text.npz")
    meta = m.knowledge_meta["metrics"]
    ids = m.encode(CORPUS.read_text(encoding="utf-8"))
    val = m.loss_on(ids[len(ids) - int(len(ids) * 0.1):])
    assert val == pytest.approx(meta["val_loss_per_char"], abs=2e-3)
    assert val < 1.9                                    # a uniform guess would be ln(65) = 4.17
    s = m.sample("Ham.\n", 600, 0.7, seed=1)
    words = re.findall(r"[a-z]+", s.lower())
    common = {"the", "and", "to", "of", "my", "i", "you", "a", "is", "that", "not", "it", "lord"}
    assert sum(w in common for w in words) / len(words) > 0.15       # mostly real, common words
    assert re.search(r"^[A-Z][a-z]+\.$", s, re.M)                     # speaker lines like "Hor."
    assert (ROOT / "knowledge" / "text.npz").stat().st_size < 1_000_000


WORKS = ROOT / "build" / "text" / "works"


def test_shipped_lstm_file_names_its_held_out_works_and_meets_its_figure():
    path = ROOT / "knowledge" / "text-lstm.npz"
    m = K.load(path)
    metrics = m.metrics
    assert m.KIND == "char-lstm" and path.stat().st_size <= 4_000_000
    held = metrics["held_out_works"]
    assert len(held) >= 3 and sum(w["chars"] for w in held.values()) >= 300_000
    assert metrics["held_out_loss_per_char"] <= 1.50
    assert metrics["learning_curve"][-1] == [metrics["steps"], metrics["held_out_loss_per_char"]]
    if WORKS.exists():                          # `make data`: score one held-out work again
        name = min(held, key=lambda w: held[w]["chars"])
        text = (WORKS / name).read_text(encoding="utf-8")
        assert len(text) == held[name]["chars"] and name not in ("hamlet_gut.txt",)
        assert m.nats_per_char(text[:20_000]) < 1.7
    s = m.sample("ROMEO.\n", 400, 0.7, seed=1)
    words = re.findall(r"[a-z]+", s.lower())
    common = {"the", "and", "to", "of", "my", "i", "you", "a", "is", "that", "not", "it", "lord"}
    assert sum(w in common for w in words) / len(words) > 0.15
