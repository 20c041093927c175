"""Seeing inside the nets, in every engine: the page's hooks against the models computed in CPython."""
import base64
import time

import numpy as np
import pytest
from selenium.webdriver.common.keys import Keys

from models import knowledge as K
from models import tictactoe as rules
from models.preprocess import drawing_to_mnist
from tests.conftest import ROOT
from tests.test_insight import recomputed

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
PHONE = (360, 640)


def board(page):
    return page.js("return [...Array(9).keys()].map(i => document.getElementById('cell-' + i).textContent)")


def shown_probabilities(page):
    """data-p of each cell (None where it has none)."""
    return page.js("return [...Array(9).keys()].map(i => document.getElementById('cell-' + i).dataset.p ?? null)")


def check_thinking(page, player, moves):
    shown = shown_probabilities(page)
    want = player.move_probabilities(moves)
    empty = rules.board_of(moves)
    for i, value in enumerate(shown):
        if empty[i] == rules.EMPTY:
            assert value is not None and abs(float(value) - want[i]) < 2e-6, (moves, i, value, want[i])
        else:
            assert value is None, (moves, i)
    assert abs(sum(float(v) for v in shown if v is not None) - 1) < 1e-4


def wait_your_move(page, marks):
    page.wait_for(f"[...document.querySelectorAll('.cell')].filter(c => c.textContent).length === {marks}"
                  " && document.getElementById('ttt-status').textContent.startsWith('Your move')", what="the board")


def play(page, cell, moves):
    """Click `cell`; return the history with Falken's answer appended."""
    before = board(page)
    page.click(f"#cell-{cell}")
    wait_your_move(page, len(moves) + 2)
    after = board(page)
    answer = [i for i in range(9) if after[i] and not before[i] and i != cell]
    assert len(answer) == 1
    return moves + [cell, answer[0]]


def test_falkens_thinking_is_the_lstms_probability_for_every_level_and_upload(page):
    page.viewport = PHONE
    page.open("#tictactoe")
    wait_your_move(page, 0)
    assert shown_probabilities(page) == [None] * 9               # off until asked for
    # By keyboard: Tab reaches the checkbox, Space ticks it.
    page.js("document.activeElement && document.activeElement.blur()")
    for _ in range(40):
        page.press(Keys.TAB)
        if page.js("return document.activeElement && document.activeElement.id") == "ttt-thinking":
            break
    else:
        pytest.fail("Tab never reached #ttt-thinking")
    page.press(Keys.SPACE)
    page.wait_for("document.getElementById('cell-4').dataset.p !== undefined", what="the heat map")
    hard = K.load(ROOT / "knowledge" / "tictactoe-hard.npz")
    check_thinking(page, hard, [])
    moves = play(page, 0, [])
    check_thinking(page, hard, moves)
    moves = play(page, next(i for i in range(9) if i not in moves), moves)
    check_thinking(page, hard, moves)
    assert page.js("return document.body.scrollWidth <= window.innerWidth")   # fits a phone
    page.screenshot("ttt-thinking")

    page.select("#ttt-knowledge", "knowledge/tictactoe-medium.npz")
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('Medium')", what="Medium")
    wait_your_move(page, 0)
    medium = K.load(ROOT / "knowledge" / "tictactoe-medium.npz")
    check_thinking(page, medium, [])
    check_thinking(page, medium, play(page, 8, []))

    easy = ROOT / "knowledge" / "tictactoe-easy.npz"
    page.upload("#ttt-upload", easy)
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('Yours')", what="the upload")
    wait_your_move(page, 0)
    check_thinking(page, K.load(easy), play(page, 4, []))

    page.click("#ttt-thinking")                                   # off again: no marks left behind
    page.wait_for("document.getElementById('ttt-thinking').checked === false", what="unticking")
    assert shown_probabilities(page) == [None] * 9


def written(page):
    return page.js("const out = document.getElementById('text-output');"
                   "return {all: out.textContent, spans: [...out.querySelectorAll('span')].map("
                   "s => [s.textContent, +s.dataset.p, s.style.getPropertyValue('--p')]),"
                   "next: [...document.querySelectorAll('#text-next li')].map(li => [li.dataset.char, +li.dataset.p])}")


def test_each_written_character_carries_the_models_probability(page):
    page.viewport = PHONE
    page.open("#text")
    page.select("#text-model", "char-rnn")
    page.wait_for("document.getElementById('text-status').dataset.model === 'char-rnn'"
                  " && document.querySelectorAll('#text-output span').length === 400"
                  " && document.querySelectorAll('#text-next li').length === 5", what="the RNN's text")
    model = K.load(ROOT / "knowledge" / "text.npz")
    prefix = page.js("return document.getElementById('text-prefix').value")
    shown = written(page)
    text = "".join(char for char, _, _ in shown["spans"])
    assert shown["all"] == prefix + text                          # the prefix is plain text, not scored
    want_each, want_next = recomputed(model, prefix, text)
    np.testing.assert_allclose([p for _, p, _ in shown["spans"]], want_each, rtol=1e-4, atol=2e-6)
    assert all(colour for _, _, colour in shown["spans"])
    top = np.argsort(-want_next, kind="stable")[:5]
    assert [char for char, _ in shown["next"]] == [model.vocab[i] for i in top]
    np.testing.assert_allclose([p for _, p in shown["next"]], want_next[top], rtol=1e-4, atol=2e-6)
    assert [p for _, p in shown["next"]] == sorted((p for _, p in shown["next"]), reverse=True)
    assert page.js("return document.body.scrollWidth <= window.innerWidth")
    page.js("document.getElementById('text-output').scrollIntoView()")
    page.screenshot("text-probabilities")


def canvas_rgba(page, selector):
    """A canvas's pixels, read back with getImageData, as (h, w, 4) uint8 (8 kB per
    fromCharCode call: one character per call took WebKit seconds on the big tiles)."""
    encoded, width, height = page.js(
        "const c = document.querySelector(arguments[0]);"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let s = ''; for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode(...d.subarray(i, i + 8192));"
        "return [btoa(s), c.width, c.height]", selector)
    return np.frombuffer(base64.b64decode(encoded), np.uint8).reshape(height, width, 4)


def canvas_red(page, selector):
    """The red channel of a canvas, as (h, w) uint8."""
    return canvas_rgba(page, selector)[..., 0]


def test_what_the_net_sees_is_the_preprocessed_drawing(page):
    page.viewport = PHONE
    page.open("#digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.draw("#grid", [[(9, 6), (19, 6), (12, 24)]])
    page.wait_for("document.getElementById('prediction').dataset.digit !== ''", what="a prediction")
    page.wait_for("(() => { const c = document.getElementById('digits-input');"
                  "return c.getContext('2d').getImageData(0, 0, 28, 28).data.some((v, i) => i % 4 === 0 && v > 0); })()",
                  timeout=20, what="the input picture")
    # The last pointer move's prediction runs on a later frame (late on a loaded machine): the
    # picture must come to match the whole stroke, and then stay.
    deadline = time.monotonic() + 20
    while True:
        grid = canvas_red(page, "#grid").astype(np.float32) / 255.0
        seen = canvas_red(page, "#digits-input")
        assert seen.shape == (28, 28)
        want = drawing_to_mnist(grid).reshape(28, 28)
        error = np.abs(seen / 255.0 - want).max()
        if error <= 1.0 / 255 + 1e-6 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert error <= 1.0 / 255 + 1e-6
    page.js("document.getElementById('digits-input').scrollIntoView()")
    page.screenshot("digits-input")
