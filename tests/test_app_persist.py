"""Saved state in every engine: training comes back paused after a reload and goes on from there,
a damaged save is refused with a message, a browser that keeps nothing says training will not be
kept, and the tic-tac-toe level is remembered."""
import time

import pytest

from tests.conftest import ROOT, forget_saved_state, new_page
from tests.support import site
from tests.test_store import REFUSE

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]


def status(page, element_id):
    return page.js("return {...document.getElementById(arguments[0]).dataset}", element_id)


def reload(page, view="", wait_ready=True):
    """The page loaded anew, as a next visit would (a new query: the same URL with only a new
    hash would not load the page again)."""
    page.visits = getattr(page, "visits", 0) + 1
    page.open(f"?visit={page.visits}" + (f"#{view}" if view else ""), wait_ready=wait_ready)


def open_digits(page):
    page.open("#digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")


def notice(page, view):
    return page.js("const n = document.getElementById(arguments[0]);"
                   "return {hidden: n.hidden, state: n.dataset.state, text: n.innerText,"
                   "        discard: !document.getElementById(arguments[1]).hidden}",
                   f"{view}-restored", f"{view}-discard")


PUT = """
const done = arguments[arguments.length - 1];
falkenStore.put(arguments[0], arguments[1] === null ? new Uint8Array([80, 75, 3, 4, 1, 2, 3]) : arguments[1])
  .then(() => done("written"), error => done("rejected: " + error.message));
"""
KEYS = """
const done = arguments[arguments.length - 1];
falkenStore.keys().then(done, error => done("rejected: " + error.message));
"""


def test_a_reload_mid_training_comes_back_paused_at_the_last_checkpoint_and_start_goes_on(page):
    open_digits(page)
    page.click("#train-start")
    page.wait_for("+document.getElementById('train-status').dataset.iteration >= 40", what="training steps")
    # a periodic checkpoint, written while training runs (none is written before the first)
    page.wait_for("+document.getElementById('digits-restored').dataset.savedBytes > 0", timeout=60,
                  what="a checkpoint saved while training")
    saved = status(page, "digits-restored")
    reload(page, "digits")     # the tab closes mid-training: no Pause, only the periodic checkpoint
    page.wait_for("document.getElementById('digits-restored').dataset.state === 'restored'", what="the restore")
    shown = notice(page, "digits")
    assert not shown["hidden"] and shown["discard"]
    assert shown["text"].startswith("Restored your training from step "), shown
    assert "saved " in shown["text"] and " ago" in shown["text"] or "just now" in shown["text"], shown
    restored = status(page, "train-status")
    step = int(restored["iteration"])
    assert restored["state"] == "paused" and step >= 40
    assert f"step {step:,}," in shown["text"]
    info = page.text("#predictor-info")
    assert f"at step {step:,}" in info, "the predictor uses the restored model"
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer, holding the restored model")
    page.wait_for(f"document.getElementById('train-status').dataset.iteration === '{step}'", what="the worker's restore")
    page.click("#train-start")
    page.wait_for(f"+document.getElementById('train-status').dataset.iteration > {step}", what="training going on")
    page.wait_for("document.getElementById('digits-restored').hidden", what="the notice to go once training goes on")
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")
    after = status(page, "train-status")
    assert int(after["iteration"]) > step
    assert page.errors_text() == ""
    print(f"checkpoint {saved['savedBytes']} bytes, saved in {saved['saveMs']} ms")   # the report's numbers


def test_discard_starts_the_digits_view_afresh_and_a_reload_stays_fresh(page):
    open_digits(page)
    page.click("#train-start")
    page.wait_for("+document.getElementById('train-status').dataset.iteration >= 5", what="training steps")
    page.click("#train-pause")
    page.wait_for("+document.getElementById('digits-restored').dataset.savedBytes > 0", what="the pause's checkpoint")
    reload(page, "digits")
    page.wait_for("document.getElementById('digits-restored').dataset.state === 'restored'", what="the restore")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.click("#digits-discard")
    page.wait_for("document.getElementById('train-status').dataset.iteration === '0'", what="a fresh session")
    page.wait_for("document.getElementById('predictor-info').textContent.includes('shipped')", what="the shipped model")
    assert notice(page, "digits")["hidden"]
    assert "checkpoint/digits" not in page.js_async(KEYS)
    reload(page, "digits")
    assert notice(page, "digits")["hidden"] and status(page, "train-status")["iteration"] == "0"


@pytest.mark.parametrize("garbage", ["zip", "foreign"])
def test_a_corrupt_saved_training_is_refused_with_a_message_and_the_view_starts_fresh(page, garbage):
    page.open("")
    if garbage == "zip":
        assert page.js_async(PUT, "checkpoint/digits", None) == "written"
    else:      # a knowledge file where a checkpoint should be: real .npz, wrong format
        data = list((ROOT / "knowledge" / "digits.npz").read_bytes())
        assert page.js_async(PUT.replace("arguments[1] === null ?", "false ?").replace(
            ": arguments[1])", ": new Uint8Array(arguments[1]))"), "checkpoint/digits", data) == "written"
    reload(page, "digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    shown = notice(page, "digits")
    assert shown["state"] == "refused" and not shown["hidden"] and not shown["discard"]
    assert "could not be used, so it was discarded" in shown["text"] and "starts fresh" in shown["text"]
    if garbage == "foreign":
        assert "not a Falken training checkpoint" in shown["text"]
    assert status(page, "train-status")["iteration"] == "0"
    assert "shipped" in page.text("#predictor-info")
    assert "checkpoint/digits" not in page.js_async(KEYS), "the refused save is gone"
    assert page.errors_text() == ""


def test_text_training_comes_back_paused_after_a_reload_and_train_goes_on(page):
    page.open("#text")
    page.select("#text-model", "char-rnn")      # the smaller model: quick steps in every engine
    page.wait_for("document.getElementById('text-status').dataset.model === 'char-rnn'", what="the RNN")
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer worker")
    page.click("#text-train")
    page.wait_for("+document.getElementById('text-status').dataset.iteration >= 3", what="text training steps")
    page.click("#text-train")
    page.wait_for("+document.getElementById('text-restored').dataset.savedBytes > 0", what="the pause's checkpoint")
    step = int(status(page, "text-status")["iteration"])
    reload(page, "text")
    page.wait_for("document.getElementById('text-restored').dataset.state === 'restored'", what="the restore")
    assert f"step {step:,}," in notice(page, "text")["text"]
    restored = status(page, "text-status")
    assert restored["state"] == "paused" and int(restored["iteration"]) == step and restored["model"] == "char-rnn"
    assert page.js("return document.getElementById('text-model').value") == "char-rnn"
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer worker")
    page.click("#text-train")
    page.wait_for(f"+document.getElementById('text-status').dataset.iteration > {step}", what="training going on")
    page.click("#text-train")
    page.wait_for("document.getElementById('text-status').dataset.state === 'paused'", what="the pause")


def test_the_tic_tac_toe_level_is_remembered_over_a_reload(page):
    page.open()
    page.select("#ttt-knowledge", "knowledge/tictactoe-easy.npz")
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('Easy')", what="the level")
    deadline = time.monotonic() + 30
    while "ttt/level" not in page.js_async(KEYS) and time.monotonic() < deadline:
        time.sleep(0.1)
    reload(page)
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('Easy')", what="the remembered level")
    assert page.js("return document.getElementById('ttt-knowledge').value") == "knowledge/tictactoe-easy.npz"


def test_an_uploaded_tic_tac_toe_file_is_remembered_over_a_reload(page):
    page.open()
    page.upload("#ttt-upload", ROOT / "knowledge" / "tictactoe-medium.npz")
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('Yours')", what="the upload")
    deadline = time.monotonic() + 30
    while "ttt/upload" not in page.js_async(KEYS) and time.monotonic() < deadline:
        time.sleep(0.1)
    reload(page)
    page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('tictactoe-medium.npz')",
                  what="the remembered upload")
    assert page.js("return document.getElementById('ttt-knowledge').value") == "uploaded"
    page.click("#cell-4")
    assert page.js("return [...document.querySelectorAll('.cell')].filter(c => c.textContent).length") == 2
    assert page.errors_text() == ""


def test_a_browser_that_keeps_nothing_says_training_will_not_be_kept_and_training_works(browser):
    scripts = {site.PROBE_PATH: site.PROBE, "/__refuse_indexeddb__.js": (REFUSE % (
        "return later('onerror', new DOMException('Quota exceeded.', 'QuotaExceededError'));")).encode()}
    server = site.start(site.serve.ROOT, head_scripts=scripts)
    try:
        page = new_page(browser, server.url)
        open_digits(page)
        shown = notice(page, "digits")
        assert shown["state"] == "unavailable" and not shown["hidden"] and not shown["discard"]
        assert "Training will not be kept" in shown["text"] and "storage for this site is full" in shown["text"]
        page.click("#train-start")
        page.wait_for("+document.getElementById('train-status').dataset.iteration >= 5", what="training steps")
        page.click("#train-pause")
        page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")
        page.open()
        page.select("#ttt-knowledge", "knowledge/tictactoe-easy.npz")
        page.wait_for("document.getElementById('ttt-knowledge-info').textContent.includes('Easy')", what="the level")
        assert page.errors_text() == ""
    finally:
        forget_saved_state(browser, server.url)
        server.shutdown()
        server.server_close()
