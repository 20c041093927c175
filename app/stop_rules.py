"""When a training run ends by itself: after N epochs, after N seconds of training, or once the
held-out score has not improved for N evaluations (early stopping, keeping the best weights).

Browser-agnostic and model-agnostic: the training loop feeds it running time and epochs, the
session feeds it each held-out score with a way to snapshot the weights, and it answers whether
to stop, how far the budget has got and when it should end. Only time spent training counts, so
a paused run keeps its budget.
"""
import math

KINDS = ("none", "epochs", "time", "patience")
# kind -> (smallest value, largest value, whole numbers only, what the value counts)
LIMITS = {
    "epochs": (0.01, 1000.0, False, "epochs"),
    "time": (1.0, 86_400.0, False, "seconds"),
    "patience": (1, 1000, True, "evaluations"),
}


class StopRuleError(ValueError):
    """A rule the page cannot run; its text is a plain sentence for #errors."""


def check(kind, value):
    """(kind, value) as a rule can take them, or StopRuleError saying what is wrong."""
    if kind not in KINDS:
        raise StopRuleError(f"There is no stop rule {kind!r}; the rules are {', '.join(KINDS)}.")
    if kind == "none":
        return kind, None
    low, high, whole, unit = LIMITS[kind]
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high) or (whole and number != int(number)):
        what = "a whole number" if whole else "a number"
        raise StopRuleError(f"{value!r} is not a stop value for '{kind}': it needs {what} of {unit} "
                            f"from {low:g} to {high:g}.")
    return kind, int(number) if whole else number


class Best:
    """The best held-out score so far: which evaluation, at which step, and the kept snapshot."""

    def __init__(self, score, evaluation, iteration, kept):
        self.score, self.evaluation, self.iteration, self.kept = score, evaluation, iteration, kept

    def describe(self):
        return {"score": self.score, "evaluation": self.evaluation, "iteration": self.iteration}


class StopRule:
    def __init__(self, kind="none", value=None):
        self.kind, self.value = check(kind, value)
        self.restart()

    def restart(self):
        """A fresh budget: nothing trained, nothing scored under this rule yet."""
        self.elapsed_s = 0.0          # seconds spent training (paused time is never fed in)
        self.epochs_at_start = None   # the loop's epoch count when this budget began
        self.epochs = 0.0             # epochs trained under this budget
        self.evaluations = 0
        self.best = None
        self.stopped = None           # the kind that ended the run, once it has

    # -- fed by the loop and the session ------------------------------------------------------
    def tick(self, seconds, epochs=None):
        """`seconds` more of training; `epochs` is the loop's running count of passes (any origin)."""
        self.elapsed_s += seconds
        if epochs is not None:
            if self.epochs_at_start is None:
                self.epochs_at_start = epochs
            self.epochs = epochs - self.epochs_at_start

    def observe(self, score, iteration, keep=None):
        """One held-out evaluation (higher is better). `keep()` snapshots the weights; it is
        called only when early stopping will need them, at a new best."""
        self.evaluations += 1
        if self.best is None or score > self.best.score:
            kept = keep() if keep is not None and self.kind == "patience" else None
            self.best = Best(score, self.evaluations, iteration, kept)

    # -- asked by the loop and the page -------------------------------------------------------
    def since_best(self):
        return 0 if self.best is None else self.evaluations - self.best.evaluation

    def due(self):
        """The kind of rule that says stop now, or None."""
        if self.kind == "epochs" and self.epochs >= self.value:
            return "epochs"
        if self.kind == "time" and self.elapsed_s >= self.value:
            return "time"
        if self.kind == "patience" and self.since_best() >= self.value:
            return "patience"
        return None

    def progress(self):
        """(fraction of the budget used in [0, 1] or None, seconds left or None)."""
        if self.kind == "time":
            return min(1.0, self.elapsed_s / self.value), max(0.0, self.value - self.elapsed_s)
        if self.kind == "epochs":
            done = min(1.0, self.epochs / self.value)
            # the pace so far carries on: what is left takes elapsed × left / done
            eta = self.elapsed_s * (1 - done) / done if done > 0 else None
            return done, eta
        if self.kind == "patience":     # no budget: how close the run is to giving up
            return min(1.0, self.since_best() / self.value), None
        return None, None

    def report(self):
        done, eta = self.progress()
        return {"kind": self.kind, "value": self.value, "progress": done, "eta_s": eta,
                "elapsed_s": self.elapsed_s, "epochs": self.epochs, "evaluations": self.evaluations,
                "since_best": self.since_best(), "stopped": self.stopped,
                "best": None if self.best is None else self.best.describe()}
