"""The run comparison (#runs) in every engine: each Digits run listed with its settings and
overlaid on the charts, toggled by its checkbox, kept across a reload, a damaged saved run
dropped with a message while the others still show, and a visit without saved state."""
import time

import pytest
from selenium.webdriver.common.keys import Keys

from tests.conftest import new_page
from tests.support import site
from tests.test_app_digits import open_digits, set_slider
from tests.test_store import REFUSALS, REFUSE

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
STEPS = 60
LONG_TASKS = ("window.longTasks = PerformanceObserver.supportedEntryTypes.includes('longtask') ? [] : null;"
              "if (window.longTasks) new PerformanceObserver(list => list.getEntries().forEach("
              "e => window.longTasks.push(e.duration))).observe({entryTypes: ['longtask']})")

# The runs the store holds, parsed where they parse (execute_async_script: the last argument is the callback).
SAVED_RUNS = """
const done = arguments[arguments.length - 1];
(async () => {
  const keys = (await falkenStore.keys()).filter(k => k.startsWith("runs/"));
  const runs = {};
  for (const key of keys) { try { runs[key] = JSON.parse(await falkenStore.get(key)); } catch (e) { runs[key] = null; } }
  return runs;
})().then(done, error => done("rejected: " + error.message));
"""
CLEAR_RUNS = """
const done = arguments[arguments.length - 1];
(async () => {
  for (const key of await falkenStore.keys()) if (key.startsWith("runs/")) await falkenStore.remove(key);
})().then(() => done("cleared"), error => done("rejected: " + error.message));
"""
PUT = """
const done = arguments[arguments.length - 1], [key, text] = arguments;
falkenStore.put(key, text === null ? new Uint8Array([1, 2, 3]) : text).then(() => done("put"), e => done(e.message));
"""


def runs_listed(page):
    return page.js("return [...document.querySelectorAll('#runs [data-run]')].map(li => ({...li.dataset,"
                   " text: li.innerText, shown: li.querySelector('input[type=checkbox]').checked}))")


def series(page):
    return page.js("return [+document.getElementById('chart-loss').dataset.series,"
                   " +document.getElementById('chart-acc').dataset.series]")


def reopen(page):
    page.driver.get("about:blank")
    open_digits(page)
    page.wait_for("document.getElementById('runs').dataset.state !== ''", what="the saved runs")


def train_a_run(page, lr_exponent, first=False):
    """One run: (Reset, unless it is the first), the learning rate, Start, STEPS steps, Pause."""
    # (Centred first: in a phone-sized frame WebKit's click can miss a button at the frame's edge.)
    page.js("document.getElementById('train-reset').scrollIntoView({block: 'center'})")
    if not first:
        page.click("#train-reset")
        page.wait_for("document.getElementById('train-status').dataset.state === 'idle'"
                      " && document.getElementById('train-status').dataset.iteration === '0'", what="the reset")
    set_slider(page, "lr", lr_exponent)
    page.click("#train-start")
    page.wait_for(f"+document.getElementById('train-status').dataset.iteration >= {STEPS}", what=f"{STEPS} steps")
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")


def wait_saved(page, count, shown):
    """Until the store holds `count` runs, each with its held-out score from the pause, and
    `shown` ({key: flag}) as the page last set it."""
    for _ in range(100):
        saved = page.js_async(SAVED_RUNS)
        if (len(saved) == count and all(run and run["acc"] and run["steps"] >= STEPS for run in saved.values())
                and all(saved.get(key, {}).get("shown") == flag for key, flag in shown.items())):
            return saved
        time.sleep(0.1)
    raise AssertionError(f"[{page.engine}] the store holds {saved}")


def test_runs_are_compared_toggled_kept_across_a_reload_and_a_damaged_one_is_dropped(page):
    open_digits(page)
    assert page.js_async(CLEAR_RUNS) == "cleared"           # what earlier tests in this browser left
    reopen(page)
    assert runs_listed(page) == [] and page.js("return document.getElementById('runs-forget').disabled")
    page.js(LONG_TASKS)

    train_a_run(page, -3, first=True)                       # lr 0.001
    page.wait_for("document.querySelectorAll('#runs [data-run]').length === 1", what="the first run listed")
    train_a_run(page, -2)                                   # lr 0.01, after a Reset: a second run
    page.wait_for("document.querySelectorAll('#runs [data-run]').length === 2", what="the second run listed")
    newest, oldest = runs_listed(page)
    assert (oldest["kind"], oldest["lr"], oldest["batch"]) == ("mnist-mlp", "0.001", "32"), oldest
    assert (newest["kind"], newest["lr"], newest["batch"]) == ("mnist-mlp", "0.01", "32"), newest
    assert "MLP · lr 0.001 · batch 32" in oldest["text"] and "MLP · lr 0.01 · batch 32" in newest["text"]
    assert newest["state"] == "in-progress" and oldest["state"] == "ended"     # running until a Reset
    assert "accuracy" in newest["text"] and oldest["shown"] and newest["shown"]
    page.wait_for("document.getElementById('chart-acc').dataset.series === '2'", what="both runs' curves")
    assert series(page) == [2, 2]
    long_tasks = page.js("return window.longTasks")
    print(f"\n{page.engine}: long tasks while training with the runs overlaid: "
          f"{'not measured' if long_tasks is None else sorted(long_tasks)}")

    # By keyboard: Space on the older run's checkbox hides its curves.
    page.js("document.querySelector(`#runs [data-run='${arguments[0]}'] input`).focus()", oldest["run"])
    page.press(Keys.SPACE)
    page.wait_for("document.getElementById('chart-loss').dataset.series === '1'", what="the run hidden")
    assert series(page) == [1, 1]
    assert [run["shown"] for run in runs_listed(page)] == [True, False]
    wait_saved(page, 2, {f"runs/{oldest['run']}": False})

    reopen(page)                                            # a reload keeps both, the toggle too
    after = runs_listed(page)
    assert [(r["run"], r["lr"], r["shown"], r["state"]) for r in after] == [
        (newest["run"], "0.01", True, "ended"), (oldest["run"], "0.001", False, "ended")]
    assert series(page) == [1, 1] and page.errors_text() == ""
    page.js("document.querySelector(`#runs [data-run='${arguments[0]}'] input`).click()", oldest["run"])
    page.wait_for("document.getElementById('chart-loss').dataset.series === '2'", what="the run shown again")
    page.js("document.querySelector('#digits .charts').scrollIntoView()")
    page.screenshot("runs")
    wait_saved(page, 2, {f"runs/{oldest['run']}": True})

    # Garbage where the older run was, and bytes under a run's name: both dropped, the newer one shows.
    assert page.js_async(PUT, f"runs/{oldest['run']}", '{"format": "falken-run", "lr": ') == "put"
    assert page.js_async(PUT, "runs/7", None) == "put"
    reopen(page)
    assert [r["run"] for r in runs_listed(page)] == [newest["run"]]
    errors = page.errors_text()
    assert errors.count("A saved training run could not be read") == 2, errors
    assert "it is not a saved run" in errors and "The other runs still show." in errors
    assert series(page) == [1, 1]
    assert list(page.js_async(SAVED_RUNS)) == [f"runs/{newest['run']}"]      # the damaged ones are gone

    page.click("#runs-forget")
    page.wait_for("document.querySelectorAll('#runs [data-run]').length === 0", what="the runs forgotten")
    assert series(page) == [0, 0]
    page.wait_for("document.getElementById('runs-forget').disabled", what="nothing left to forget")
    for _ in range(50):
        if page.js_async(SAVED_RUNS) == {}:
            break
        time.sleep(0.1)
    assert page.js_async(SAVED_RUNS) == {}


def test_the_runs_panel_fits_a_phone_and_works_without_saved_state(browser):
    refusal, message = REFUSALS["throws"]
    scripts = {site.PROBE_PATH: site.PROBE, "/__refuse_indexeddb__.js": (REFUSE % refusal).encode()}
    server = site.start(site.serve.ROOT, head_scripts=scripts)
    try:
        page = new_page(browser, server.url)
        page.viewport = (360, 640)
        open_digits(page)
        page.wait_for("document.getElementById('runs').dataset.state === 'not-kept'", what="the refusal")
        notice = page.text("#runs-notice")
        assert "compared during this visit only and will not be kept" in notice and message in notice, notice
        train_a_run(page, -3, first=True)
        train_a_run(page, -2.5)
        page.wait_for("document.querySelectorAll('#runs [data-run]').length === 2", what="both runs listed")
        assert [r["lr"] for r in runs_listed(page)] == ["0.003162", "0.001"]
        assert series(page) == [2, 2] and page.errors_text() == ""
        page.js("document.getElementById('runs').scrollIntoView()")
        # (The confusion matrix below is wider than a phone on its own; the runs panel must not be.)
        wider = page.js("return [...document.querySelectorAll('#digits .runs, #digits .runs *, #digits .charts *')]"
                        ".filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.outerHTML.slice(0, 80))")
        assert wider == [], f"wider than the phone: {wider}"
        assert page.unexpected_console_errors() == []
    finally:
        server.shutdown()
        server.server_close()
