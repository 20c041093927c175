"""The LSTM tic-tac-toe player: API, training with a small budget, and the shipped files."""
from pathlib import Path

import numpy as np
import pytest

from models import knowledge as K
from models import tictactoe as ttt
from devkit.train import train_tictactoe
from models.ttt_player import Positions, TicTacToeLSTM, encode

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
LEVELS = ["tictactoe-easy.npz", "tictactoe-medium.npz", "tictactoe-hard.npz"]   # hard = perfect
PERFECT = "tictactoe-hard.npz"


@pytest.fixture(scope="module")
def positions():
    return Positions()


def test_encoding_marks_who_played_each_cell():
    X, legal = encode([(4, 0)])
    assert X.shape == (3, 1, 19)
    assert X[0, 0, 18] == 1 and X[1, 0, 4] == 1 and X[2, 0, 9 + 0] == 1   # start, X@4, O@0
    assert legal[0].tolist() == [False, True, True, True, False, True, True, True, True]


def test_choose_returns_a_legal_cell_and_refuses_bad_histories():
    p = TicTacToeLSTM(hidden=8)
    rng = np.random.default_rng(0)
    for h in [(), (4,), (0, 4, 8), (0, 1, 2, 3, 4, 5, 7)]:
        assert p.choose(list(h)) in ttt.legal_moves(ttt.board_of(h))
    for h in rng.permutation(9)[:8].tolist(), [0, 3, 1, 4, 2]:
        if not ttt.is_terminal(ttt.board_of(h)):
            continue
        with pytest.raises(ValueError):
            p.choose(h)
    with pytest.raises(ValueError):
        p.choose([4, 4])


def test_the_player_is_small():
    assert TicTacToeLSTM(hidden=64).n_params() == 22_089 <= 50_000


def test_positions_hold_every_history_with_its_optimal_moves(positions):
    assert positions.count == 294_778
    arr, mask = positions.groups[1]
    assert arr.shape == (9, 1)
    assert mask[arr[:, 0].tolist().index(0)].tolist() == [i == 4 for i in range(9)]  # corner -> centre


def test_a_small_training_budget_already_beats_the_untrained_net(positions):
    before, _ = positions.evaluate(TicTacToeLSTM(hidden=16, seed=3))
    model = train_tictactoe(hidden=16, batch=256, lr=1e-2, seed=3, max_steps=150, quiet=True,
                            positions=positions)
    assert model.metrics["steps"] == 150
    assert model.metrics["optimal_move_rate"] > before + 0.05
    assert model.metrics["optimal_move_rate"] == positions.evaluate(model)[0]


# the shipped files -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped(positions):
    out = {}
    for name in LEVELS:
        model = K.load(KNOWLEDGE / name)
        rate, _ = positions.evaluate(model)
        out[name] = (model, rate)
    return out


def test_shipped_player_is_optimal_on_every_history(shipped):
    model, rate = shipped[PERFECT]
    assert rate == 1.0
    assert model.knowledge_meta["metrics"]["optimal_move_rate"] == 1.0
    assert model.n_params() <= 50_000


def test_shipped_player_never_loses_against_any_reply(shipped, positions):
    model, _ = shipped[PERFECT]
    moves = positions.choices(model)
    for side in "XO":
        r = ttt.play_out(lambda h: moves[tuple(h)], side)
        assert r["loss"] == 0 and r["illegal"] == 0, (side, r)
        assert r["win"] > 0


def test_levels_get_stronger_and_their_meta_tells_the_truth(shipped):
    rates = [shipped[n][1] for n in LEVELS]
    assert rates == sorted(rates) and len(set(rates)) == len(rates) and rates[-1] == 1.0
    for name in LEVELS:
        model, rate = shipped[name]
        assert model.knowledge_meta["metrics"]["optimal_move_rate"] == pytest.approx(rate, abs=1e-9)


def test_shipped_files_are_small():
    for name in LEVELS:
        assert (KNOWLEDGE / name).stat().st_size < 1_000_000
