"""The run comparison's records (app/run_record.py) in CPython: made from the trainer's real
status reports, saved as JSON and read back, thinned, and damaged ones refused in plain words."""
import copy
import json
import re

import pytest

from app import run_record as R
from app.digits_session import CHART_POINTS


def status(iteration=300, lr=0.001, batch_size=32, kind="mnist-mlp", **extra):
    """A status report shaped as DigitsSession.status() makes it (JSON round trip included)."""
    loss = [(i, 2.3 / i ** 0.3) for i in range(1, iteration + 1)][-CHART_POINTS:]
    acc = [(i, min(0.99, 0.5 + i / 1000)) for i in range(0, iteration + 1, 100)]
    report = {"state": "running", "iteration": iteration, "lr": lr, "batch_size": batch_size, "kind": kind,
              "loss_points": loss, "acc_points": acc, **extra}
    return json.loads(json.dumps(report))


def saved(run):
    return json.loads(json.dumps(run))


def test_a_run_keeps_its_settings_and_curves_and_reads_back_the_same():
    run = R.new_run(1733059200123, status(lr=0.003, batch_size=64), color=2)
    assert run["id"] == "1733059200123" and run["kind"] == "mnist-mlp"
    assert (run["lr"], run["batch_size"], run["budget"], run["changed"]) == (0.003, 64, None, False)
    assert run["steps"] == 300 and len(run["loss"]) == 300 and run["acc"][-1] == [300, 0.8]
    assert R.from_json(saved(run)) == run
    assert R.label(run) == "MLP · lr 0.003 · batch 64"
    assert R.summary(run) == f"step 300, loss {run['loss'][-1][1]:.3f}, accuracy 80.0%"


def test_a_run_grows_with_later_reports_and_says_when_a_setting_moved():
    run = R.new_run(1, status(iteration=10), color=0)
    R.grow(run, status(iteration=250))
    assert run["steps"] == 250 and run["loss"][-1][0] == 250 and not run["changed"]
    R.grow(run, status(iteration=260, lr=0.01))
    assert run["changed"] and R.label(run).endswith("(settings changed during the run)")
    assert R.label(run).startswith("MLP · lr 0.001 · batch 32")    # the settings it started with


@pytest.mark.parametrize("budget, shown", [
    (None, None), ({}, None), (2000, "2000"), ("30 s", "30 s"),
    ({"steps": 500, "seconds": 60}, "steps 500, seconds 60"), ("x" * 200, "x" * R.MAX_BUDGET_TEXT)])
def test_a_budget_is_recorded_as_the_trainer_reports_it(budget, shown):
    run = R.new_run(1, status(kind="mnist-cnn", budget=budget), color=0)
    assert run["budget"] == shown
    assert R.from_json(saved(run))["budget"] == shown
    assert ("budget " + shown in R.label(run)) if shown else "budget" not in R.label(run)
    assert R.label(run).startswith("CNN")


def test_thinning_keeps_at_most_the_limit_evenly_and_always_the_latest_point():
    points = [[i, float(i)] for i in range(1, 1001)]
    for limit in (400, 333, 10):
        kept = R.thin(points, limit)
        assert len(kept) <= limit and kept[-1] == [1000, 1000.0] and kept[0] == [1, 1.0]
        steps = [b[0] - a[0] for a, b in zip(kept, kept[1:-1])]
        assert len(set(steps)) == 1                                 # evenly spaced before the last
    assert R.thin(points[:50], 400) == points[:50]
    run = R.new_run(1, status(iteration=1000), color=0)
    run["acc"] = R.thin([[i, 0.5] for i in range(1, 1001)])          # an hour of evaluations
    assert len(R.from_json(saved(run))["acc"]) <= R.MAX_POINTS


def damaged(change):
    value = saved(R.new_run(42, status(), color=1))
    change(value)
    return value


def set_field(name, new):
    return lambda value: value.__setitem__(name, new)


DAMAGE = {
    "an empty record": (lambda value: value.clear(), "not a version-1 Falken run"),
    "another format": (set_field("format", "falken-knowledge"), "not a version-1 Falken run"),
    "a newer version": (set_field("version", 2), "not a version-1 Falken run"),
    "an id that is not a number": (set_field("id", "../x"), "its id is not a number"),
    "an unknown kind": (set_field("kind", "mnist-gpt"), "'mnist-gpt' is not one Falken trains"),
    "a NaN learning rate": (set_field("lr", float("nan")), "learning rate is not a number"),
    "a learning rate as text": (set_field("lr", "0.001"), "learning rate is not a number"),
    "a zero batch": (set_field("batch_size", 0), "batch size is not a whole number"),
    "a batch that is true": (set_field("batch_size", True), "batch size is not a whole number"),
    "a long budget": (set_field("budget", "b" * 500), "budget is not a short text"),
    "a colour off the palette": (set_field("color", 99), "colour is not one of the palette's"),
    "a shown flag as text": (set_field("shown", "yes"), "'shown' flag is not true or false"),
    "negative steps": (set_field("steps", -1), "step count is not a whole number"),
    "a loss that is not a list": (set_field("loss", "garbage"), "loss curve is not a list"),
    "a huge curve": (set_field("loss", [[i, 1.0] for i in range(1, 5000)]), "at most 400 points"),
    "a point that is not a pair": (lambda value: value["loss"].__setitem__(3, [1, 2, 3]), "not a (step, value) pair"),
    "steps going back": (lambda value: value["loss"].reverse(), "does not go forward"),
    "a step past the run": (lambda value: value["acc"].append([10_000, 0.9]), "does not go forward"),
    "an accuracy above 1": (lambda value: value["acc"][-1].__setitem__(1, 1.5), "outside 0 to 1"),
    "an infinite loss": (lambda value: value["loss"][-1].__setitem__(1, float("inf")), "not a (step, value) pair"),
}


@pytest.mark.parametrize("name", DAMAGE)
def test_a_damaged_run_is_refused_with_a_sentence(name):
    change, words = DAMAGE[name]
    with pytest.raises(R.RunError, match=re.escape(words)):
        R.from_json(damaged(change))


@pytest.mark.parametrize("value", [None, [], "garbage", 7])
def test_anything_else_in_the_store_is_refused(value):
    with pytest.raises(R.RunError, match="it is not a saved run"):
        R.from_json(copy.deepcopy(value))
