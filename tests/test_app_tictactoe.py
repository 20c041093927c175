"""Tic-tac-toe in every engine: the visitor plays, the LSTM answers optimally, files are checked."""
import pytest
from selenium.webdriver.common.keys import Keys

from models import tictactoe as rules
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]


def board(page):
    return page.js("return [...Array(9).keys()].map(i => document.getElementById('cell-' + i).textContent)")


def click_cell(page, cell):
    page.click(f"#cell-{cell}")


def open_game(page):
    page.open("#tictactoe")
    page.wait_for("document.getElementById('ttt-status').textContent.startsWith('Your move')", what="the board")


def play_game(page, pick):
    """Play as the visitor with pick(board) -> cell; check every Falken move against minimax.
    Returns the game's move history."""
    moves = [i for i, mark in enumerate(board(page)) if mark]   # Falken may have opened
    assert len(moves) <= 1
    while not rules.is_terminal(rules.board_of(moves)):
        cell = pick(rules.board_of(moves))
        click_cell(page, cell)
        moves.append(cell)
        if rules.is_terminal(rules.board_of(moves)):
            break
        marks = board(page)
        answer = [i for i, mark in enumerate(marks) if mark and i not in moves]
        assert len(answer) == 1, f"Falken should answer exactly once, board {marks}"
        assert answer[0] in rules.optimal_moves(tuple(moves)), f"not optimal after {moves}"
        moves.append(answer[0])
    return moves


def test_falken_answers_every_move_optimally_and_the_result_is_shown(page):
    open_game(page)
    moves = play_game(page, lambda b: rules.legal_moves(b)[0])   # a weak visitor: first free cell
    final = rules.board_of(moves)
    result = page.js("return document.getElementById('ttt-status').dataset.result")
    if rules.winner(final):
        assert result == "falken" and page.text("#ttt-status") == "Falken wins."
        highlighted = page.js("return [...document.querySelectorAll('.cell.win')].map(c => +c.id.slice(5))")
        assert any(sorted(highlighted) == sorted(line) for line in rules.LINES)
    else:
        assert result == "draw" and page.text("#ttt-status") == "Draw."
    before = board(page)
    click_cell(page, rules.legal_moves(final)[0] if rules.legal_moves(final) else 0)   # clicks after the end
    assert board(page) == before


def test_occupied_cells_are_ignored_and_new_game_needs_no_reload(page):
    open_game(page)
    page.js("window.sameDocument = true")
    click_cell(page, 4)
    after_first = board(page)
    assert sum(bool(mark) for mark in after_first) == 2
    taken = [i for i, mark in enumerate(after_first) if mark]
    page.js("document.getElementById(arguments[0]).disabled = false", f"cell-{taken[0]}")  # force a click through
    click_cell(page, taken[0])
    assert board(page) == after_first
    page.click("#ttt-new")
    assert board(page) == [""] * 9
    assert page.js("return window.sameDocument") is True


def test_falken_can_open_and_then_never_loses(page):
    open_game(page)
    page.select("#ttt-first", "ai")
    page.wait_for("[...document.querySelectorAll('.cell')].filter(c => c.textContent).length === 1",
                  what="Falken's opening move")
    opening = [i for i, mark in enumerate(board(page)) if mark]
    assert board(page)[opening[0]] == "X" and opening[0] in rules.optimal_moves(())
    moves = play_game(page, lambda b: rules.legal_moves(b)[-1])
    assert rules.winner(rules.board_of(moves)) != rules.O


def test_keyboard_alone_can_play(page):
    open_game(page)
    page.send_keys("#cell-0", Keys.TAB)   # focus moves along the board
    active = page.js("return document.activeElement.id")
    page.active_element_keys(Keys.ENTER)
    assert board(page)[int(active.split("-")[1])] == "X"


def test_difficulty_levels_load_and_say_how_good_they_are(page):
    open_game(page)
    levels = page.options("#ttt-knowledge")
    for value in levels:
        assert (ROOT / value).exists(), f"{value} is offered but not shipped"
    assert sorted(levels) == sorted(str(p.relative_to(ROOT)) for p in (ROOT / "knowledge").glob("tictactoe*.npz"))
    for value in levels:
        page.select("#ttt-knowledge", value)
        label = page.selected_text("#ttt-knowledge")
        page.wait_for(f"document.getElementById('ttt-knowledge-info').textContent.includes({label!r})",
                      what=f"level {label}")
        assert "optimal move in" in page.text("#ttt-knowledge-info")
        click_cell(page, 4)
        assert sum(bool(mark) for mark in board(page)) == 2


@pytest.mark.parametrize("name, content, complaint", [
    ("noise.npz", b"\x00\x01 this is not a zip at all" * 10, "not a usable knowledge file"),
    ("truncated.npz", (ROOT / "knowledge/tictactoe-hard.npz").read_bytes()[:2000], "not a usable knowledge file"),
    ("digits.npz", (ROOT / "knowledge/digits.npz").read_bytes(), "holds digits knowledge"),
])
def test_a_bad_upload_is_explained_and_the_current_player_keeps_playing(page, tmp_path, name, content, complaint):
    open_game(page)
    path = tmp_path / name
    path.write_bytes(content)
    page.upload("#ttt-upload", path)
    page.wait_for("document.getElementById('errors').textContent.length > 0", what="the upload error")
    message = page.errors_text()
    assert name in message and complaint in message and "keeps playing" in message
    click_cell(page, 4)
    assert sum(bool(mark) for mark in board(page)) == 2


def test_the_visitors_own_knowledge_file_plays(page, tmp_path):
    open_game(page)
    path = tmp_path / "mine.npz"
    path.write_bytes((ROOT / "knowledge/tictactoe-easy.npz").read_bytes())
    page.upload("#ttt-upload", path)
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('mine.npz')",
                  what="the uploaded player")
    assert page.selected_text("#ttt-knowledge") == "Yours: mine.npz"
    click_cell(page, 0)
    assert sum(bool(mark) for mark in board(page)) == 2
    page.screenshot("tictactoe")
