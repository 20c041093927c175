"""The trainer's watchdog in every engine: a worker that dies or hangs mid-training is replaced, the
page says so, training comes back from the last checkpoint, and drawing and predicting go on."""
import re

import pytest

from tests.conftest import ROOT

# app/watchdog.py imports pyscript, so its figures are read from its text
WATCHDOG = (ROOT / "app" / "watchdog.py").read_text()
HEARTBEAT_S, HUNG_AFTER_S = (float(re.search(rf"^{name} = ([\d.]+)", WATCHDOG, re.M)[1])
                             for name in ("HEARTBEAT_S", "HUNG_AFTER_S"))

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
RESTART_TIMEOUT = HUNG_AFTER_S + HEARTBEAT_S + 180    # noticing, then a new worker's boot (WebKit is slow)

BREAK = {
    "dies": "document.querySelector('script[worker][name=\"trainer\"]').xworker.terminate()",
    "hangs": "window.falkenHangTrainer()",      # the test hook: the worker's thread blocked for good
}


def iteration(page):
    return int(page.js("return document.getElementById('train-status').dataset.iteration"))


@pytest.mark.parametrize("how", sorted(BREAK))
def test_a_worker_that_dies_or_hangs_mid_training_is_replaced_and_training_restored(page, how):
    page.open("#digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.click("#train-start")
    page.wait_for("+document.getElementById('train-status').dataset.iteration >= 20", what="training steps")
    page.wait_for("+document.getElementById('digits-restored').dataset.savedBytes > 0", timeout=60,
                  what="a checkpoint saved while training")
    page.js(BREAK[how])
    broken_at = iteration(page)
    # Meanwhile the page's own work goes on: drawing predicts with the model it last had.
    page.draw("#grid", [[(14, 4), (14.5, 14), (14, 24)]])
    page.wait_for("document.getElementById('prediction').dataset.digit !== ''", what="a prediction during the outage")
    page.wait_for("document.body.dataset.worker === 'restarting'", timeout=HUNG_AFTER_S + HEARTBEAT_S + 30,
                  what="the watchdog to notice")
    page.wait_for("document.body.dataset.workerStarts === '2' && document.body.dataset.worker === 'ready'",
                  timeout=RESTART_TIMEOUT, what="a new worker")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the restored training")
    # The page says so once every view holds the new worker (the Digits view also asks it to score
    # the restored model's gallery first), a little after the restored status arrives.
    page.wait_for("document.getElementById('errors').innerText.includes('restored your training')",
                  what="the watchdog's message")
    errors = page.errors_text()
    assert f"stopped answering for {HUNG_AFTER_S:.0f} seconds" in errors, errors
    assert "restored your training from its last checkpoint" in errors, errors
    restored = iteration(page)
    # from a checkpoint (written after step 20), not from scratch; no later than the worker got
    assert 20 <= restored <= broken_at + 50, (restored, broken_at)
    assert f"at step {restored:,}" in page.text("#predictor-info")
    page.wait_for("!document.getElementById('train-start').disabled", what="Start, on the new worker")
    page.click("#train-start")
    page.wait_for(f"+document.getElementById('train-status').dataset.iteration > {restored}", what="training going on")
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")
