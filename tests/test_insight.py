"""Seeing inside the nets, in CPython: the move probabilities, the per-character probabilities and
the pixels of what the digits net sees."""
import json
from pathlib import Path

import numpy as np
import pytest

from app.digits_input import input_rgba
from models import knowledge as K
from models import tictactoe as ttt
from models.charlstm import CharLSTM
from models.charrnn import CharRNN
from models.layers import log_softmax
from models.preprocess import drawing_to_mnist

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.mark.parametrize("level", ["tictactoe-easy.npz", "tictactoe-hard.npz"])
def test_move_probabilities_cover_the_empty_cells_and_choose_takes_the_likeliest(level):
    player = K.load(KNOWLEDGE / level)
    for moves in ([], [4], [0, 4, 8], [4, 0, 2, 6]):
        p = player.move_probabilities(moves)
        empty = np.array(ttt.board_of(moves)) == ttt.EMPTY
        assert p.shape == (9,) and np.all(p[~empty] == 0) and np.all(p[empty] > 0)
        assert abs(p.sum() - 1) < 1e-9
        assert player.choose(moves) == int(np.argmax(p)) == int(player.choose_batch([moves])[0])
    with pytest.raises(ValueError):
        player.move_probabilities([0, 3, 1, 4, 2])           # X has won: no side to move


def recomputed(model, prefix, text):
    """Each written character's probability and the next-character distribution, from the
    batched training forward pass (not the sampler's step function)."""
    ids = model.encode(prefix + text)
    Hs, _, _ = model.forward(ids[:, None], model.init_state(1))
    p = np.exp(log_softmax(Hs[:, 0].astype(np.float64) @ model.params["Wy"] + model.params["by"]))
    start = len(prefix) - 1
    written = ids[len(prefix):]
    return p[start + np.arange(len(written)), written], p[-1]


@pytest.mark.parametrize("model", [K.load(KNOWLEDGE / "text.npz"),
                                   CharLSTM("abcdefgh \n", hidden=16, seed=3)], ids=["rnn", "lstm"])
def test_sampled_characters_carry_the_probability_the_model_gave_them(model):
    prefix = "Ham" if model.KIND == "char-rnn" else "abc"
    text, p_each, p_next = model.sample_with_probabilities(prefix, 60, 0.7, seed=4)
    assert text == model.sample(prefix, 60, 0.7, seed=4)          # one way to sample
    assert len(p_each) == len(text) == 60 and p_next.shape == (len(model.vocab),)
    want_each, want_next = recomputed(model, prefix, text)
    np.testing.assert_allclose(p_each, want_each, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(p_next, want_next, rtol=1e-4, atol=1e-6)
    assert abs(p_next.sum() - 1) < 1e-9


def test_the_trainer_session_writes_with_probabilities_as_json():
    from app.text_session import TextSession

    model = CharRNN("abcd \n", hidden=8, seed=1)
    session = TextSession(model, "abcd dcba \n" * 600, report=lambda kind, payload: None)
    written = json.loads(session.sample("ab", 30, 1.0, 2))
    text, p_each, p_next = model.sample_with_probabilities("ab", 30, 1.0, 2)
    assert written["text"] == text and written["vocab"] == model.vocab
    assert written["p"] == p_each.tolist() and written["next"] == p_next.tolist()


def test_the_input_picture_is_the_preprocessed_drawing():
    ink = np.zeros((280, 280), np.float32)
    ink[40:230, 120:150] = 1.0
    ink[40:70, 60:200] = 0.6
    x = drawing_to_mnist(ink)
    rgba = input_rgba(x).reshape(28 * 28, 4)
    assert np.all(rgba[:, 0] == rgba[:, 1]) and np.all(rgba[:, 1] == rgba[:, 2]) and np.all(rgba[:, 3] == 255)
    assert np.abs(rgba[:, 0] / 255.0 - x).max() <= 0.5 / 255 + 1e-9
    assert not input_rgba(np.zeros(784)).reshape(-1, 4)[:, :3].any()
