"""Tic-tac-toe rules and the minimax oracle."""
import random

import pytest

from models import tictactoe as ttt


def test_winner_rows_columns_diagonals_and_none():
    X, O, E = ttt.X, ttt.O, ttt.EMPTY
    assert ttt.winner((X, X, X, O, O, E, E, E, E)) == X
    assert ttt.winner((O, X, X, O, X, E, O, E, E)) == O
    assert ttt.winner((X, O, E, O, X, E, E, E, X)) == X
    assert ttt.winner((X, O, X, X, O, O, O, X, X)) == E          # full board, a draw
    assert ttt.winning_line((O, X, X, O, X, E, O, E, E)) == (0, 3, 6)
    assert ttt.winning_line((X, O, E, O, X, E, E, E, X)) == (0, 4, 8)
    assert ttt.winning_line((X, O, X, X, O, O, O, X, X)) is None
    assert ttt.is_terminal((X, O, X, X, O, O, O, X, X))


def test_board_of_refuses_illegal_histories():
    assert ttt.board_of([4, 0]) == (2, 0, 0, 0, 1, 0, 0, 0, 0)
    for bad in ([4, 4], [9], [-1], [0, 3, 1, 4, 2, 5]):   # occupied, off-board, play after a win
        with pytest.raises(ValueError):
            ttt.board_of(bad)


def test_legal_moves_are_the_empty_cells_until_someone_wins():
    assert ttt.legal_moves(ttt.board_of([0, 4])) == [1, 2, 3, 5, 6, 7, 8]
    assert ttt.legal_moves(ttt.board_of([0, 3, 1, 4, 2])) == []


def test_minimax_knows_the_classic_facts():
    assert ttt.value((0,) * 9) == 0                              # perfect play draws
    assert ttt.optimal_moves(()) == tuple(range(9))              # and every opening keeps the draw
    assert ttt.optimal_moves((0,)) == (4,)                       # a corner must be answered in the centre
    assert ttt.optimal_moves((4,)) == (0, 2, 6, 8)               # the centre must be answered in a corner
    opt = ttt.optimal_moves((0, 1, 4, 2))                        # X to move with a won game:
    assert 8 in opt and 7 not in opt                             # the immediate win counts, 7 would throw it away
    assert all(ttt.value(ttt.board_of((0, 1, 4, 2, m))) == -1 for m in opt)
    assert ttt.value(ttt.board_of((0, 1, 4))) == -1              # X threatens two lines: O is lost


def test_every_reachable_history_is_enumerated_once():
    hs = ttt.all_histories()
    assert len(hs) == 294_778 == len(set(hs))
    assert () in hs and all(not ttt.is_terminal(ttt.board_of(h)) for h in random.Random(0).sample(hs, 2000))


def test_play_out_counts_a_perfect_player_never_losing_and_a_naive_one_losing():
    perfect = lambda h: ttt.optimal_moves(h)[0]
    for side in "XO":
        r = ttt.play_out(perfect, side)
        assert r["loss"] == 0 and r["illegal"] == 0 and r["win"] > 0
    first_empty = lambda h: ttt.legal_moves(ttt.board_of(h))[0]
    assert ttt.play_out(first_empty, "O")["loss"] > 0


def test_play_out_counts_illegal_moves():
    assert ttt.play_out(lambda h: 0, "O")["illegal"] > 0
