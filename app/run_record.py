"""One Digits training run as the run comparison keeps it: its settings and its two curves.

Browser-agnostic (CPython tests it): app/runs.py makes a record when training starts after a
Reset or a model change, grows it from the trainer's status reports, and saves it as JSON. A
saved record is untrusted input (another Falken version, a damaged disk, a hand-edited
database), so `from_json` checks every field and raises RunError with a sentence a person can
read; it never builds a record larger than the limits here.
"""
import math
import re

FORMAT, VERSION = "falken-run", 1
MAX_RUNS = 5              # runs kept and overlaid, the one in progress included
MAX_POINTS = 400          # per curve; longer ones are thinned (the trainer's loss chart keeps as many)
KINDS = {"mnist-mlp": "MLP", "mnist-cnn": "CNN"}
PALETTE = ("#2f6fde", "#d9480f", "#2b8a3e", "#9c36b5", "#e8590c", "#0b7285")   # more than MAX_RUNS
MAX_BUDGET_TEXT = 60      # a budget is the trainer's own words (a stop rule), shown as given
ID_PATTERN = re.compile(r"[0-9]{1,16}")


class RunError(ValueError):
    """A saved run that cannot be read; the message says why, in plain words."""


def new_run(run_id, status, color):
    """A record for the run that begins with this status (the first one in state "running")."""
    run = {"format": FORMAT, "version": VERSION, "id": str(run_id), "color": color, "shown": True,
           "kind": status["kind"], "lr": float(status["lr"]), "batch_size": int(status["batch_size"]),
           "budget": budget_of(status), "changed": False, "steps": 0, "loss": [], "acc": []}
    grow(run, status)
    return run


def budget_of(status):
    """What the trainer says about a budget (a stop rule), if it says anything: kept as short text."""
    budget = status.get("budget")
    if budget in (None, "", {}, []):
        return None
    if isinstance(budget, dict):
        budget = ", ".join(f"{name} {value}" for name, value in budget.items())
    return str(budget)[:MAX_BUDGET_TEXT]


def grow(run, status):
    """Take a later status of the same run: its curves, its step, and whether a setting moved."""
    run["steps"] = int(status["iteration"])
    run["loss"] = thin([[int(x), float(y)] for x, y in status["loss_points"]])
    run["acc"] = thin([[int(x), float(y)] for x, y in status["acc_points"]])
    if (float(status["lr"]), int(status["batch_size"])) != (run["lr"], run["batch_size"]):
        run["changed"] = True


def thin(points, limit=MAX_POINTS):
    """At most `limit` points, evenly spaced, the last one always kept (it is the latest figure)."""
    if len(points) <= limit:
        return points
    stride = math.ceil(len(points) / limit)
    kept = points[::stride]
    if kept[-1] is not points[-1]:
        kept = kept[:limit - 1] + [points[-1]]
    return kept


def label(run):
    """The run's settings in a few words, as the list and the charts name it."""
    words = [KINDS[run["kind"]], f"lr {run['lr']:g}", f"batch {run['batch_size']}"]
    if run["budget"]:
        words.append(f"budget {run['budget']}")
    text = " · ".join(words)
    return text + " (settings changed during the run)" if run["changed"] else text


def summary(run):
    """Where the run got to: its step, last smoothed loss and last held-out accuracy."""
    parts = [f"step {run['steps']:,}"]
    if run["loss"]:
        parts.append(f"loss {run['loss'][-1][1]:.3f}")
    if run["acc"]:
        parts.append(f"accuracy {run['acc'][-1][1]:.1%}")
    return ", ".join(parts)


# -- reading a saved run back ---------------------------------------------------------------------
def from_json(value):
    """The record in `value` (parsed JSON), checked field by field; RunError if anything is off."""
    if not isinstance(value, dict):
        raise RunError("it is not a saved run")
    if value.get("format") != FORMAT or value.get("version") != VERSION:
        raise RunError(f"it is not a version-{VERSION} Falken run")
    run_id = value.get("id")
    if not isinstance(run_id, str) or not ID_PATTERN.fullmatch(run_id):
        raise RunError("its id is not a number")
    if value.get("kind") not in KINDS:
        raise RunError(f"its model kind {str(value.get('kind'))[:30]!r} is not one Falken trains")
    lr, batch = value.get("lr"), value.get("batch_size")
    if not _number(lr) or not 0 < lr <= 10:
        raise RunError("its learning rate is not a number between 0 and 10")
    if not _integer(batch) or not 1 <= batch <= 4096:
        raise RunError("its batch size is not a whole number between 1 and 4096")
    budget = value.get("budget")
    if budget is not None and not (isinstance(budget, str) and len(budget) <= MAX_BUDGET_TEXT):
        raise RunError("its budget is not a short text")
    color = value.get("color")
    if not _integer(color) or not 0 <= color < len(PALETTE):
        raise RunError("its colour is not one of the palette's")
    for flag in ("shown", "changed"):
        if not isinstance(value.get(flag), bool):
            raise RunError(f"its {flag!r} flag is not true or false")
    steps = value.get("steps")
    if not _integer(steps) or steps < 0:
        raise RunError("its step count is not a whole number")
    curves = {name: _curve(value.get(name), name, steps, y_range)
              for name, y_range in (("loss", (0, math.inf)), ("acc", (0, 1)))}
    return {"format": FORMAT, "version": VERSION, "id": run_id, "color": color, "shown": value["shown"],
            "kind": value["kind"], "lr": float(lr), "batch_size": batch, "budget": budget,
            "changed": value["changed"], "steps": steps, **curves}


def _curve(points, name, steps, y_range):
    what = {"loss": "loss curve", "acc": "accuracy curve"}[name]
    if not isinstance(points, list) or len(points) > MAX_POINTS:
        raise RunError(f"its {what} is not a list of at most {MAX_POINTS} points")
    low, high = y_range
    previous = -1
    for point in points:
        if not (isinstance(point, list) and len(point) == 2 and _integer(point[0]) and _number(point[1])):
            raise RunError(f"its {what} holds something that is not a (step, value) pair")
        x, y = point
        if not previous < x <= steps:
            raise RunError(f"its {what} does not go forward step by step within the run")
        if not low <= y <= high:
            raise RunError(f"its {what} holds {y!r}, outside {low} to {high}")
        previous = x
    return [[x, float(y)] for x, y in points]


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)
