"""Degrade, never die: with one part of the site broken, every other part keeps working.

Each test serves the real site with one fault injected and then does what a visitor does:
plays a move, draws a digit, trains. The broken part says in #errors what is missing and what
still works.
"""
import pytest

from tests.conftest import new_page
from tests.support.site import site_failing

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]

CHART = "/static/vendor/uplot/uPlot.iife.min.js"
FAULTS = {
    "chart-script-missing": (lambda path: path == CHART, "did not load"),
    "chart-script-throws-while-loading": (
        lambda path: b"throw new Error('uPlot broke while loading');" if path == CHART else None, "did not load"),
    "chart-throws-when-called": (
        lambda path: b"window.uPlot = function () { throw new Error('uPlot broke when called'); };"
        if path == CHART else None, "uPlot broke when called"),
}


def play_a_move(page):
    page.wait_for("document.getElementById('ttt-status').textContent.startsWith('Your move')", what="the board")
    page.click("#cell-4")
    marks = page.js("return [...document.querySelectorAll('.cell')].filter(c => c.textContent).length")
    assert marks == 2, "Falken did not answer the move"


def draw_a_one(page):
    page.draw("#grid", [[(14, 4), (14.5, 14), (14, 24)]])


def train_a_little(page, steps=15):
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.click("#train-start")
    page.wait_for(f"+document.getElementById('train-status').dataset.iteration >= {steps}", what=f"{steps} steps")
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")


def open_broken(browser, server, *console):
    page = new_page(browser, server.url)
    for pattern in console:
        page.expect_console(pattern)
    page.open()
    return page


@pytest.mark.parametrize("fault", FAULTS)
def test_a_broken_chart_library_leaves_the_game_drawing_and_training_working(browser, fault):
    fails, said = FAULTS[fault]
    with site_failing(fails) as server:
        page = open_broken(browser, server, r"uPlot|uplot|chart", r"Failed to load resource.* 404")
        # The message comes once the Digits view is built, just after the board is up, and moves
        # the board down: a click aimed before it lands beside the cell.
        page.wait_for("document.getElementById('errors').textContent.includes('Charts are unavailable')",
                      what="the charts' message")
        play_a_move(page)
        page.click("#nav-digits")
        page.wait_for("document.getElementById('digits').dataset.ready === 'true'", what="the digits view")
        draw_a_one(page)
        page.wait_for("document.getElementById('prediction').dataset.digit === '1'", what="a prediction")
        train_a_little(page)
        message = page.errors_text()
        assert "Charts are unavailable" in message and said in message and "Everything else still works" in message
        assert message.count("Charts are unavailable") == 1
        assert "loss:" in page.text("#chart-loss")       # the latest figure, as text
        assert page.unexpected_console_errors() == []


def test_a_missing_digits_model_leaves_drawing_and_training_working(browser):
    with site_failing(lambda path: path.endswith("/knowledge/digits.npz"), 500) as server:
        page = open_broken(browser, server, r"digits\.npz.*500|status of 500")
        play_a_move(page)
        page.click("#nav-digits")
        page.wait_for("document.getElementById('errors').textContent.includes('digits.npz')", what="the error")
        assert "HTTP 500" in page.errors_text() and "Drawing works" in page.errors_text()
        draw_a_one(page)
        assert page.js("return document.getElementById('prediction').dataset.digit") == ""
        train_a_little(page)      # the model in training now predicts what is on the grid
        page.wait_for("document.getElementById('prediction').dataset.digit !== ''", what="a prediction")
        assert "MLP in training" in page.text("#predictor-info")
        assert page.unexpected_console_errors() == []


def test_a_missing_tictactoe_level_leaves_the_other_levels_and_views_working(browser):
    with site_failing(lambda path: path.endswith("/knowledge/tictactoe-hard.npz")) as server:
        page = open_broken(browser, server, r"tictactoe-hard\.npz.*404|status of 404")
        assert "tictactoe-hard.npz" in page.errors_text() and "Choose another level" in page.errors_text()
        page.select("#ttt-knowledge", "knowledge/tictactoe-easy.npz")
        play_a_move(page)
        page.click("#nav-digits")
        page.wait_for("document.getElementById('digits').dataset.ready === 'true'", what="the digits view")
        draw_a_one(page)
        page.wait_for("document.getElementById('prediction').dataset.digit === '1'", what="a prediction")
        train_a_little(page)
        assert page.unexpected_console_errors() == []


def test_a_worker_that_cannot_start_leaves_the_game_and_prediction_working(browser):
    with site_failing(lambda path: path.endswith("/app/trainer.py")) as server:
        page = open_broken(browser, server, r"trainer\.py|404|worker|Worker|PyScript|pyscript")
        page.wait_for("document.body.dataset.worker === 'failed'", what="the worker's failure", timeout=240)
        assert "The trainer could not start" in page.errors_text()
        assert "training is unavailable" in page.errors_text()
        play_a_move(page)
        page.click("#nav-digits")
        page.wait_for("document.getElementById('digits').dataset.ready === 'true'", what="the digits view")
        draw_a_one(page)
        page.wait_for("document.getElementById('prediction').dataset.digit === '1'", what="a prediction")
        assert page.js("return document.getElementById('train-start').disabled") is True
        page.click("#nav-text")
        page.wait_for("document.getElementById('text-output').textContent.length > 50", what="written text")
        assert page.unexpected_console_errors() == []
