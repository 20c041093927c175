"""Stop rules in CPython: the rule on its own, then in a DigitsSession against a local server
(a budget ends the run by itself, paused time does not count, early stopping keeps the best)."""
import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from app.digits_session import DigitsSession, model_from_flat
from app.stop_rules import StopRule, StopRuleError, check
from models import blocks
from tests.support.data import build_embedded
from tests.support.fault_server import FaultServer
from tests.support.http_fetch import http_get

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent


def test_values_are_checked_with_a_plain_sentence():
    assert check("none", "anything") == ("none", None)
    assert check("epochs", "0.5") == ("epochs", 0.5)
    assert check("patience", 3.0) == ("patience", 3) and isinstance(check("patience", 3.0)[1], int)
    for kind, value in [("patience", 2.5), ("time", 0), ("time", "nan"), ("epochs", "soon"),
                        ("epochs", -1), ("time", float("inf")), ("patience", None)]:
        with pytest.raises(StopRuleError, match=f"not a stop value for '{kind}'"):
            check(kind, value)
    with pytest.raises(StopRuleError, match="no stop rule 'forever'"):
        StopRule("forever", 1)


def test_a_time_budget_counts_only_the_time_fed_in_and_gives_an_eta():
    rule = StopRule("time", 10)
    rule.tick(4.0)
    assert rule.due() is None and rule.progress() == (0.4, 6.0)
    rule.tick(6.5)
    assert rule.due() == "time" and rule.progress() == (1.0, 0.0)
    rule.restart()
    assert rule.due() is None and rule.elapsed_s == 0


def test_an_epoch_budget_counts_from_where_it_began_and_projects_its_pace():
    rule = StopRule("epochs", 2)
    rule.tick(0.0, 5.0)            # the session had trained 5 epochs before this rule
    rule.tick(10.0, 5.5)
    done, eta = rule.progress()
    assert rule.due() is None and done == 0.25 and eta == pytest.approx(30.0)
    rule.tick(30.0, 7.0)
    assert rule.due() == "epochs"
    assert StopRule("epochs", 1).progress() == (0.0, None)


def test_patience_counts_evaluations_since_the_best_and_keeps_only_its_snapshot():
    rule = StopRule("patience", 2)
    kept = []
    keep = lambda: kept.append(len(kept)) or f"weights {len(kept)}"
    for iteration, score in enumerate([0.5, 0.7, 0.7, 0.6]):
        assert rule.due() is None
        rule.observe(score, iteration * 10, keep)
    assert rule.due() == "patience" and rule.since_best() == 2
    assert rule.best.describe() == {"score": 0.7, "evaluation": 2, "iteration": 10}
    assert rule.best.kept == "weights 2" and len(kept) == 2      # a tie is no improvement
    other = StopRule("time", 5)
    other.observe(0.9, 1, keep)
    assert other.best.kept is None and len(kept) == 2            # no snapshots it would not use


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with FaultServer(build_embedded(tmp_path_factory.mktemp("rules") / "mnist")) as server:
        yield server


def session(server):
    url = server.url + "manifest.json"
    reports = []
    digits = DigitsSession(blocks.read_manifest(url), url, http_get, lambda k, p: reports.append((k, p)))
    return digits, reports


async def until(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def closed(digits):
    await digits.stop()
    if digits.cache is not None:
        await digits.cache.aclose()


def test_an_epoch_budget_stops_the_run_by_itself_and_start_gives_a_new_one(server):
    digits, reports = session(server)
    digits.set_batch_size(64)
    digits.set_rule("epochs", 0.5)

    async def run():
        digits.start()
        await until(lambda: digits.state != "running")
        first = digits.samples
        assert digits.state == "stopped" and digits.rule.stopped == "epochs"
        assert digits.train_count * 0.5 <= first < digits.train_count * 0.5 + 64
        digits.start()
        await until(lambda: digits.state != "running")
        assert digits.state == "stopped" and digits.samples >= 2 * first - 64
        await closed(digits)
    asyncio.run(run())
    status = reports[-1][1]
    assert status["state"] == "stopped" and status["stop"]["stopped"] == "epochs"
    assert status["stop"]["progress"] == 1.0 and status["test_acc"] is not None


def test_paused_time_does_not_count_against_a_time_budget(server):
    digits, reports = session(server)
    digits.set_rule("time", 1.0)

    async def run():
        digits.start()
        await until(lambda: digits.rule.elapsed_s > 0.3)
        await digits.pause()
        spent = digits.rule.elapsed_s
        await asyncio.sleep(1.2)              # longer than the whole budget
        assert digits.state == "paused" and digits.rule.elapsed_s == spent < 1.0
        started = time.monotonic()
        digits.start()
        await until(lambda: digits.state != "running")
        assert digits.state == "stopped" and digits.rule.stopped == "time"
        assert time.monotonic() - started >= 1.0 - spent - 0.05
        await closed(digits)
    asyncio.run(run())
    assert reports[-1][1]["stop"]["eta_s"] == 0.0


def test_early_stopping_goes_back_to_the_best_evaluation_and_sends_those_weights(server):
    digits, reports = session(server)
    digits.set_lr(0.3)                          # far too high: the held-out accuracy wanders
    digits.PERIODIC["evaluate"] = 0.05
    digits.set_rule("patience", 3)

    async def run():
        digits.start()
        await until(lambda: digits.state != "running", timeout=120)
        assert digits.state == "stopped" and digits.rule.stopped == "patience"
        await closed(digits)
    asyncio.run(run())
    accuracies = [acc for _, acc in digits.acc_points]
    best = digits.rule.best
    assert best.score == max(accuracies) and len(accuracies) - best.evaluation == 3
    assert digits.acc_points[best.evaluation - 1] == (best.iteration, best.score)
    # The page's mirror of the last weights sent scores exactly the best evaluation.
    model = [p for k, p in reports if k == "model"][-1]
    mirror = model_from_flat(model, [p for k, p in reports if k == "weights"][-1])
    images, labels = (part[:digits.eval_digits] for part in digits.test_set)
    assert float((mirror.predict_proba(images).argmax(1) == labels).mean()) == best.score
    status = reports[-1][1]
    assert status["test_acc"] == best.score and status["stop"]["best"]["evaluation"] == best.evaluation
    assert np.asarray(status["confusion"]).trace() == round(best.score * len(labels))


def text_session(rule, value, lr=None):
    from app.text_session import TextSession
    from models.charrnn import CharRNN, vocabulary
    corpus = (ROOT / "static/data/text/hamlet.txt").read_text()[:20_000]
    reports = []
    text = TextSession(CharRNN(vocabulary(corpus), hidden=32), corpus, lambda k, p: reports.append((k, p)))
    if lr is not None:
        text.trainer.lr = lr
    text.PERIODIC = dict(text.PERIODIC, evaluate=0.02)
    text.set_rule(rule, value)
    return text, reports


def run_until_stopped(session):
    async def run():
        session.start()
        await until(lambda: session.state != "running", timeout=120)
        assert session.state == "stopped"
        await session.stop()
    asyncio.run(run())


def test_the_text_session_counts_epochs_of_its_text():
    text, reports = text_session("epochs", 0.05)
    run_until_stopped(text)
    passes = text.trainer.steps * text.trainer.seq_len / text.trainer.span
    assert text.rule.stopped == "epochs" and 0.05 <= passes < 0.05 + text.trainer.seq_len / text.trainer.span
    assert reports[-1][1]["stop"]["stopped"] == "epochs" and reports[-2][0] == "weights"


def test_early_stopping_in_the_text_session_goes_back_to_the_lowest_held_out_loss():
    from app.text_session import VALIDATION_CHARS
    from models import knowledge
    text, reports = text_session("patience", 3, lr=0.5)       # too high: the held-out loss wanders
    run_until_stopped(text)
    best = text.rule.best
    assert text.rule.stopped == "patience" and text.val_loss == -best.score
    sent = knowledge.load([p for k, p in reports if k == "weights"][-1])
    held_out = text.trainer.val_ids[:VALIDATION_CHARS]
    assert float(sent.loss_on(held_out)) == pytest.approx(-best.score, rel=1e-6)
    assert reports[-1][1]["val_loss"] == -best.score
