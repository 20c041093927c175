"""Stop rules and settings in the address, in every engine: a budget ends a run by itself, Pause
keeps a time budget, early stopping leaves the page with the best weights; a link sets the
controls, and moving one rewrites the address without a history entry."""
import numpy as np
import pytest

from models import knowledge
from models.blocks import load_split
from tests.conftest import ROOT
from tests.test_app_digits import open_digits, set_slider, train_status

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
TRAIN_TIMEOUT = 240      # WebKit trains several times slower than Chromium on a busy machine


def set_rule(page, kind, value):
    page.js("document.getElementById('stop-value').value = arguments[0]", str(value))
    page.select("#stop-rule", kind)
    page.wait_for(f"!document.getElementById('train-progress').hidden", what="the rule in the trainer")


def stopped(page, reason):
    page.wait_for(f"document.getElementById('train-status').dataset.stopped === '{reason}'",
                  timeout=TRAIN_TIMEOUT, what=f"the {reason} rule to end the run",
                  give_up_if="document.getElementById('train-status').dataset.state === 'failed'")


def eta(page):
    return page.js("return document.getElementById('train-progress').dataset.etaS")


def test_an_epoch_budget_ends_the_run_by_itself(page):
    open_digits(page)
    set_rule(page, "epochs", 1)
    page.click("#train-start")
    stopped(page, "epochs")
    status = train_status(page)
    assert status["state"] == "stopped" and int(status["iteration"]) == 8000 // 32    # the embedded 8,000
    assert page.js("return document.getElementById('train-progress').value") == 1 and eta(page) == "0.0"
    assert page.text("#train-status").startswith("Stopped after 1 epoch")
    assert page.js("return !document.getElementById('train-start').disabled") and page.errors_text() == ""


def test_pause_inside_a_time_budget_keeps_what_is_left(page):
    open_digits(page)
    set_rule(page, "time", 6)
    page.click("#train-start")
    page.wait_for("+document.getElementById('train-progress').dataset.etaS < 4.5", what="some of the budget used",
                  timeout=TRAIN_TIMEOUT)
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")
    left = float(eta(page))
    page.js("window.setTimeout(() => { window.waited = true; }, 7000)")     # longer than the whole budget
    page.wait_for("window.waited", what="7 s paused")
    assert train_status(page)["state"] == "paused" and float(eta(page)) == left > 0
    page.click("#train-start")
    stopped(page, "time")
    assert eta(page) == "0.0" and page.text("#train-status").startswith("Stopped after 6 s of training")


def test_early_stopping_leaves_the_page_predicting_with_the_best_evaluation(page):
    open_digits(page)
    # Every held-out accuracy the page reports, as it reports it.
    page.js("window.accuracies = []; new MutationObserver(() => {"
            " const acc = document.getElementById('train-status').dataset.testAcc;"
            " if (acc !== '' && acc !== window.accuracies.at(-1)) window.accuracies.push(acc); })"
            ".observe(document.getElementById('train-status'), {attributes: true, attributeFilter: ['data-test-acc']})")
    set_slider(page, "lr", -1)          # 0.1: far too high, so the accuracy wanders and stalls
    set_rule(page, "patience", 2)
    page.click("#train-start")
    stopped(page, "patience")
    best = float(train_status(page)["testAcc"])
    reported = [float(acc) for acc in page.js("return window.accuracies")]
    assert len(reported) >= 3 and best == max(reported), reported
    assert "back to the best, evaluation" in page.text("#train-status")
    page.wait_for("document.getElementById('predictor-info').textContent.includes('in training')", what="the weights")
    name, data = page.download("#weights-download")
    model = knowledge.load(data)
    assert model.metrics["test_accuracy"] == pytest.approx(best, abs=1e-4)
    images, labels = load_split(ROOT / "static/data/mnist", "test")     # the 2,000 the trainer scores
    x = images.reshape(len(labels), -1).astype(np.float32) / 255
    accuracy = float((model.predict_proba(x).argmax(1) == labels).mean())
    assert accuracy == pytest.approx(best, abs=1.01 / len(labels))


def test_a_link_sets_the_controls_and_ignores_what_it_cannot_use(page):
    page.open("#digits?model=cnn&lr=0.002&batch=64&stop=time&stop_value=30")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    assert page.js("return document.documentElement.dataset.view") == "digits"
    assert page.js("return document.getElementById('digits-model').value") == "mnist-cnn"
    assert page.text("#lr-value") == "0.001995" and page.text("#batch-size-value") == "64"
    assert page.js("return [document.getElementById('stop-rule').value, document.getElementById('stop-value').value]") \
        == ["time", "30"]
    page.wait_for("document.getElementById('predictor-info').dataset.model === 'mnist-cnn'", what="the CNN")
    page.wait_for("!document.getElementById('train-progress').hidden", what="the time rule in the trainer")
    assert page.errors_text() == ""
    # A link opened on the page: the view hears the new value as from a hand on the slider.
    page.js("location.hash = '#digits?batch=77&lr=abc&model=rnn&colour=red'")
    page.wait_for("document.getElementById('batch-size-value').textContent === '77'", what="the new batch size")
    notice = page.errors_text()
    assert "ignored" in notice and "lr='abc'" in notice and "model='rnn'" in notice and "colour" in notice
    assert page.js("return document.getElementById('digits-model').value") == "mnist-cnn"
    assert page.text("#lr-value") == "0.001995"


def test_moving_a_control_rewrites_the_address_without_a_history_entry(page):
    open_digits(page)
    entries = page.js("return history.length")
    set_slider(page, "batch-size", 100)
    assert page.js("return location.hash") == "#digits?model=mlp&lr=0.001&batch=100&cache=6&stop=none&stop_value=1"
    page.select("#digits-model", "mnist-cnn")
    assert "model=cnn" in page.js("return location.hash")
    assert page.js("return history.length") == entries
    page.click("#nav-text")
    page.wait_for("document.getElementById('text').dataset.ready === 'true'", what="the text view")
    entries = page.js("return history.length")
    set_slider(page, "text-temperature", 0.5)
    assert page.js("return location.hash") == "#text?model=lstm&t=0.5&stop=none&stop_value=1"
    assert page.js("return [history.length, document.documentElement.dataset.view]") == [entries, "text"]
    page.driver.back()                  # one step back is the digits view, as the link left it
    page.wait_for("document.documentElement.dataset.view === 'digits'", what="the digits view again")


def test_a_text_link_sets_a_time_budget_that_ends_training_and_train_starts_another(page):
    page.open("#text?t=0.5&stop=time&stop_value=3")
    page.wait_for("!document.getElementById('text-train').disabled", what="the trainer worker")
    assert page.text("#text-temperature-value") == "0.50" and page.errors_text() == ""
    for run in range(2):
        page.click("#text-train")
        page.wait_for("document.getElementById('text-status').dataset.state === 'running'", what="training")
        page.wait_for("document.getElementById('text-status').dataset.stopped === 'time'",
                      timeout=TRAIN_TIMEOUT, what="the time budget to end training")
        assert page.text("#text-train") == "Train"
        assert page.js("return document.getElementById('text-progress').dataset.etaS") == "0.0"
        assert page.text("#text-status").startswith("Stopped after 3 s of training")
    assert page.errors_text() == ""
