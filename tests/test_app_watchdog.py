"""The trainer's watchdog in every engine: a worker that dies or hangs mid-training is replaced, the
page says so, training comes back from the last checkpoint, and drawing and predicting go on."""
import re
import time

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


def last_iteration_seen(page, quiet_s=1.0, timeout=10.0):
    """The step of the page's last status once the broken worker's reports in flight are in
    (no change for quiet_s)."""
    seen, since, deadline = iteration(page), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - since < quiet_s and time.monotonic() < deadline:
        time.sleep(0.1)
        now = iteration(page)
        if now != seen:
            seen, since = now, time.monotonic()
    return seen


@pytest.mark.parametrize("how", sorted(BREAK))
def test_a_worker_that_dies_or_hangs_mid_training_is_replaced_and_training_restored(page, how):
    page.open("#digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.click("#train-start")
    page.wait_for("+document.getElementById('train-status').dataset.iteration >= 20", what="training steps")
    page.wait_for("+document.getElementById('digits-restored').dataset.savedBytes > 0", timeout=60,
                  what="a checkpoint saved while training")
    steps_per_s = float(page.js("return document.getElementById('train-status').dataset.samplesPerS")) / float(
        page.js("return document.getElementById('batch-size').value"))
    page.js(BREAK[how])
    broken_at = last_iteration_seen(page)
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
    # From a checkpoint (written after step 20), not from scratch, and no later than the worker
    # got: its last checkpoint may have gone out up to a status report (0.25 s of steps) after
    # the last status the page heard.
    assert 20 <= restored <= broken_at + max(50, steps_per_s * 0.5), (restored, broken_at, steps_per_s)
    assert f"at step {restored:,}" in page.text("#predictor-info")
    page.wait_for("!document.getElementById('train-start').disabled", what="Start, on the new worker")
    page.click("#train-start")
    page.wait_for(f"+document.getElementById('train-status').dataset.iteration > {restored}", what="training going on")
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")
