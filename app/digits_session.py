"""Digits training: batches from the block cache, one Adam step of the MLP or the CNN at a time.

Browser-agnostic: the worker wraps it, and CPython tests drive it against a local server.
Reports (see TrainingLoop): "model" (its kind and hyper-parameters) whenever the session takes a
new model, so before any of its weights; "status" a few times a second (its "stop" part is the
stop rule's progress, see app/stop_rules.py), "weights" (the raw float32
`flat` buffer) about once a second and on pause, "checkpoint" (models/checkpoint.py bytes, for the
page to keep) every CHECKPOINT_EVERY seconds of training and on pause, "gallery" (app.gallery)
with each held-out scoring, "error" when training cannot go on, and "teach" while fine-tuning on
taught samples (see fine_tune).
"""
import asyncio
import time

import numpy as np

from app import taught
from app.cache import BlockCache, CacheError
from app.gallery import gallery_report
from app.training_loop import TrainingLoop
from app.wording import sentence
from models import checkpoint
from models.blocks import block_url, decode_block, split_entries
from models.checkpoint import CheckpointError, number
from models.cnn import CNN
from models.mlp import MLP

LEARNING_RATE = 1e-3
BATCH_SIZE = 32
CACHE_SIZE = 6
CONCURRENCY = 3
LOSS_SMOOTHING = 0.95   # exponential moving average of the training loss
RATE_SMOOTHING = 0.5    # of the samples/s between two status reports
CHART_POINTS = 400      # the loss chart keeps at most this many points (older ones thinned)
MODELS = {"mnist-mlp": MLP, "mnist-cnn": CNN}    # a fresh one of the chosen kind on Reset
# kind -> (held-out digits scored, seconds between scorings while training). The CNN's forward
# pass in Pyodide takes 3-6 s for all 2,000 digits, long enough to delay a Pause or a slider by
# as much: it scores a fixed first 500 (the split is shuffled), less often.
EVALUATION = {"mnist-mlp": (2000, 2.0), "mnist-cnn": (500, 6.0)}
FINE_TUNE_STEPS = 150   # batches of one "Fine-tune on mine": ~2 s for the MLP in the browser
CHECKPOINT_EVERY = 4.0  # seconds: at most this much training (plus one step) is lost with the tab
MAX_STEPS = 10**12
# The arrays a digits checkpoint may hold beside the model (models/checkpoint.py checks them).
SAVED_SERIES = {"loss_points": ("float64", ((0, 2 * CHART_POINTS), 2)),
                "acc_points": ("float64", ((0, 10**6), 2)),
                "confusion": ("int64", (10, 10))}


class DigitsSession(TrainingLoop):
    def __init__(self, manifest, manifest_url, fetch, report, seed=0, kind="mnist-mlp"):
        super().__init__(report)
        self.manifest, self.manifest_url, self.fetch = manifest, manifest_url, fetch
        self.seed, self.kind = seed, kind
        self.lr, self.batch_size, self.cache_size = LEARNING_RATE, BATCH_SIZE, CACHE_SIZE
        self.test_set = None
        self.taught = None       # a taught.TaughtMix while fine-tuning, else None
        self.stop_at = None      # the iteration fine-tuning pauses at
        self.train_count = sum(entry["count"] for entry in split_entries(manifest, "train"))
        self.renew()

    def renew(self, model=None):
        """A fresh (or the given) model with no history: what Reset leaves behind."""
        self.model = model or MODELS[self.kind](seed=self.seed)
        self.kind = self.model.KIND
        self.model.set_optimizer("adam", self.lr)     # fresh optimiser state for a fresh history
        self.eval_digits, eval_period = EVALUATION[self.kind]
        self.PERIODIC = {"send_status": 0.25, "send_weights": 1.0, "evaluate": eval_period,
                         "send_checkpoint": CHECKPOINT_EVERY}
        self.iteration, self.samples, self.loss = 0, 0, None
        self.test_acc, self.confusion = None, None
        self.loss_points, self.acc_points = [], []
        self.rate, self.rate_mark = None, None
        self.cache = None
        self.rule.restart()       # a new model, a new budget under the same rule
        self.report("model", {"kind": self.kind, "hyper": self.model.hyper})

    # -- controls ----------------------------------------------------------------------------
    async def reset(self, model=None):
        await self.stop()
        if self.cache is not None:
            self.cache.close()
        self.seed += 1
        self.renew(model)
        if model is not None:
            await self.evaluate()
            self.send_checkpoint()       # an uploaded model outlives the tab like a trained one
        self.send_weights()
        self.send_status()

    async def restore(self, data):
        """Go on from checkpoint bytes, paused exactly where they were saved: the same weights,
        optimiser state, counters, settings and charts (the batches to come are new draws)."""
        saved = read_checkpoint(data)
        await self.stop()
        if self.cache is not None:
            self.cache.close()
        progress = saved.progress
        self.lr, self.batch_size, self.cache_size = progress["lr"], progress["batch_size"], progress["cache_size"]
        self.seed = progress["seed"] + 1      # fresh batch order; a resumed run is not a replay
        self.renew(saved.model)
        saved.restore_adam(self.model.opt)
        if self.test_set is None:        # the status names how many digits its accuracy is on
            self.test_set = await self.load_test_set()
        self.iteration, self.samples = progress["iteration"], progress["samples"]
        self.loss, self.test_acc = progress["loss"], progress["test_acc"]
        self.loss_points = [tuple(point) for point in saved.extra["loss_points"].tolist()]
        self.acc_points = [tuple(point) for point in saved.extra["acc_points"].tolist()]
        self.confusion = saved.extra.get("confusion")
        self.state = "paused"
        self.send_status()           # first: the page labels the weights with the status's step
        self.send_weights()

    async def choose(self, kind):
        """A fresh model of `kind`, as at the start: no weights are sent, so the page keeps
        predicting with the shipped model of that kind until training gives new ones."""
        if kind not in MODELS:
            raise ValueError(f"unknown digits model {kind!r}")
        await self.stop()
        if self.cache is not None:
            self.cache.close()
        self.seed += 1
        self.kind = kind
        self.renew()
        self.send_status()

    def set_lr(self, value):
        self.lr = self.model.lr = float(value)

    def set_batch_size(self, value):
        self.batch_size = int(value)
        if self.cache is not None:
            self.cache.batch_size = self.batch_size

    def set_cache_size(self, value):
        self.cache_size = int(value)
        if self.cache is not None:
            self.cache.cache_size = self.cache_size

    def epochs_done(self):
        return self.samples / self.train_count

    # -- the loop ----------------------------------------------------------------------------
    async def prepare(self):
        if self.test_set is None:
            self.test_set = await self.load_test_set()
        if self.cache is None:
            self.cache = BlockCache(self.manifest, self.fetch, base_url=self.manifest_url, split="train",
                                    cache_size=self.cache_size, concurrency=CONCURRENCY,
                                    batch_size=self.batch_size, seed=self.seed)
        self.rate_mark = (time.monotonic(), self.samples)

    async def step(self):
        x, y = await self.cache.next_batch(self.batch_size)
        if self.taught is not None:
            x, y = self.taught.mix(x, y)
        loss = self.model.train_step(x, y)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss} at step {self.iteration + 1}; "
                                     f"the learning rate {self.lr:g} is too high.")
        self.iteration += 1
        self.samples += len(y)
        self.loss = loss if self.loss is None else LOSS_SMOOTHING * self.loss + (1 - LOSS_SMOOTHING) * loss
        self.loss_points.append((self.iteration, float(self.loss)))
        if len(self.loss_points) > CHART_POINTS:
            self.loss_points = self.loss_points[::2]
        if self.stop_at is not None and self.iteration >= self.stop_at:
            self.state = "paused"            # the loop ends after this step; fine_tune takes over

    async def fine_tune(self, model, images, labels, steps=FINE_TUNE_STEPS):
        """Train `model` (the page's predictor) for `steps` batches with the taught training
        samples mixed in, and report "teach" with its accuracy on the held-out taught samples:
        {"state": "running", "before"} first, then "done" with "after" as well — or "stopped"
        (Reset, another model) or "failed" (the loop's "error" report says why). Figures are
        [correct, total]; "after" is scored with the weights the pause sends."""
        (train_images, train_labels), (held_images, held_labels) = taught.split(images, labels)
        figures = {"steps": steps, "trained_on": len(train_labels), "held_out": len(held_labels)}
        try:
            await self.reset(model)
            figures["before"] = taught.accuracy(self.model, held_images, held_labels)
            self.taught = taught.TaughtMix(train_images, train_labels, seed=self.seed)
            self.stop_at = self.iteration + steps
            self.report("teach", {**figures, "state": "running"})
            self.start()
            await self.task
        except asyncio.CancelledError:
            self.report("teach", {**figures, "state": "stopped"})
            return
        except Exception as error:
            self.report("error", self.failure_message(error))
            self.report("teach", {**figures, "state": "failed"})
            return
        finally:
            self.taught = self.stop_at = None
        if self.state == "failed":
            self.report("teach", {**figures, "state": "failed"})
            return
        if self.state == "paused":
            await self.on_pause()            # evaluation, the final weights and status
        figures["after"] = taught.accuracy(self.model, held_images, held_labels)
        figures["trained_steps"] = self.iteration
        self.report("teach", {**figures, "state": "done"})

    async def on_pause(self):
        await self.evaluate()
        self.send_weights()
        self.send_status()
        self.send_checkpoint()

    async def on_rule_stop(self, reason):
        """A budget ran out: score the final weights. Early stopping instead goes back to the
        best evaluation's weights (and its scores), so the page predicts with and downloads those."""
        best = self.rule.best
        if reason == "patience" and best is not None and best.kept is not None:
            flat, self.confusion = best.kept
            self.model.flat[:] = flat
            self.test_acc = best.score
        else:
            await self.evaluate()
        self.send_status()      # first, so the page labels the weights with the evaluation they are from
        self.send_weights()
        self.send_status()

    def failure_message(self, error):
        if isinstance(error, CacheError):
            stats = self.cache.stats()
            kinds = ", ".join(f"{count} × {kind.replace('http_', 'HTTP ').replace('_', ' ')}"
                              for kind, count in sorted(stats.get("failures_by_kind", {}).items()))
            error = (f"the training data could not be loaded: {stats.get('dropped', 0)} blocks failed "
                     f"after retries ({kinds}).")
        return f"{sentence(f'Training stopped: {error}')} Press Reset to start again."

    async def load_test_set(self):
        """Every held-out block, fetched and sha256-checked like the training blocks."""
        images, labels = [], []
        for entry in split_entries(self.manifest, "test"):
            data = await self.fetch(block_url(self.manifest_url, entry["file"]))
            block_images, block_labels = decode_block(data, entry["sha256"])
            images.append(block_images.reshape(len(block_labels), -1))
            labels.append(block_labels)
        return np.concatenate(images).astype(np.float32) / 255.0, np.concatenate(labels).astype(np.int64)

    async def held_out(self, kind):
        """The held-out digits a `kind` model is scored on: the first EVALUATION[kind][0]."""
        if self.test_set is None:
            self.test_set = await self.load_test_set()
        return (part[:EVALUATION[kind][0]] for part in self.test_set)

    async def evaluate(self):
        images, labels = await self.held_out(self.kind)
        probabilities = self.model.predict_proba(images)
        predicted = probabilities.argmax(axis=1)
        self.test_acc = float((predicted == labels).mean())
        self.confusion = np.bincount(labels * 10 + predicted, minlength=100).reshape(10, 10)
        if not self.acc_points or self.acc_points[-1][0] != self.iteration:
            self.acc_points.append((self.iteration, self.test_acc))
            self.rule.observe(self.test_acc, self.iteration,
                              keep=lambda: (self.model.flat.copy(), self.confusion.copy()))
        self.report("gallery", gallery_report(self.kind, self.iteration, images, labels, probabilities))

    async def score(self, model):
        """The gallery of a model the page predicts with that is not the one training here (the
        shipped one): the same held-out digits, and no change to this session's figures."""
        images, labels = await self.held_out(model.KIND)
        self.report("gallery", gallery_report(model.KIND, None, images, labels, model.predict_proba(images)))

    # -- reports -------------------------------------------------------------------------------
    def measure_rate(self):
        if self.rate_mark is None or self.state != "running":
            return self.rate
        now, (then, samples) = time.monotonic(), self.rate_mark
        if now > then and self.samples > samples:
            current = (self.samples - samples) / (now - then)
            self.rate = current if self.rate is None else RATE_SMOOTHING * self.rate + (1 - RATE_SMOOTHING) * current
        self.rate_mark = (now, self.samples)
        return self.rate

    def status(self):
        return {
            "state": self.state, "iteration": self.iteration, "samples": self.samples,
            "loss": self.loss, "test_acc": self.test_acc, "samples_per_s": self.measure_rate(),
            "lr": self.lr, "batch_size": self.batch_size, "cache_size": self.cache_size,
            "cache": self.cache.stats() if self.cache is not None else {},
            "loss_points": self.loss_points, "acc_points": self.acc_points,
            "confusion": None if self.confusion is None else self.confusion.tolist(),
            "kind": self.kind, "hyper": self.model.hyper, "stop": self.rule.report(),
            "test_digits": min(self.eval_digits, len(self.test_set[1])) if self.test_set else None,
        }

    def send_weights(self):
        """The weights as one raw buffer: cheap to send and to take in on the page's thread."""
        self.report("weights", self.model.flat.tobytes())

    def checkpoint(self):
        """Everything needed to go on exactly from here, as models/checkpoint.py bytes."""
        progress = {"iteration": self.iteration, "samples": self.samples,
                    "loss": None if self.loss is None else float(self.loss), "test_acc": self.test_acc,
                    "lr": self.lr, "batch_size": self.batch_size, "cache_size": self.cache_size,
                    "seed": self.seed, "test_digits": min(self.eval_digits, len(self.test_set[1])) if self.test_set else None}
        series = {"loss_points": np.array(self.loss_points, np.float64).reshape(-1, 2),
                  "acc_points": np.array(self.acc_points, np.float64).reshape(-1, 2)}
        if self.confusion is not None:
            series["confusion"] = np.asarray(self.confusion, np.int64)
        return checkpoint.encode("digits", self.model, self.model.opt, progress, series)

    def send_checkpoint(self):
        self.report("checkpoint", self.checkpoint())


def read_checkpoint(data):
    """A digits checkpoint (models.checkpoint.Checkpoint) with its progress checked field by
    field, or CheckpointError: the page reads it on a visit, the worker when it resumes."""
    saved = checkpoint.decode(data, "digits", SAVED_SERIES)
    given = saved.progress
    saved.progress = {
        "iteration": number(given, "iteration", 0, MAX_STEPS, integer=True),
        "samples": number(given, "samples", 0, MAX_STEPS * 1024, integer=True),
        "loss": number(given, "loss", 0, 1e6, optional=True),
        "test_acc": number(given, "test_acc", 0, 1, optional=True),
        "lr": number(given, "lr", 1e-6, 10), "batch_size": number(given, "batch_size", 1, 4096, integer=True),
        "cache_size": number(given, "cache_size", 1, 64, integer=True),
        "seed": number(given, "seed", 0, 2**32, integer=True),
        "test_digits": number(given, "test_digits", 1, 10**6, integer=True, optional=True)}
    for name in ("loss_points", "acc_points"):
        if name not in saved.extra:
            raise CheckpointError(f"the saved training lacks its {name.replace('_', ' ')}")
    if (saved.progress["test_acc"] is None) != (saved.progress["test_digits"] is None):
        raise CheckpointError("the saved accuracy does not say how many digits it was measured on")
    if "confusion" in saved.extra and (saved.extra["confusion"] < 0).any():
        raise CheckpointError("the saved confusion matrix has negative counts")
    return saved


def restored_status(saved):
    """What status() said when `saved` (from read_checkpoint) was written, paused: for the page
    to show before the worker is up."""
    confusion = saved.extra.get("confusion")
    return dict(saved.progress, state="paused", kind=saved.model.KIND, hyper=saved.model.hyper,
                samples_per_s=None, cache={}, loss_points=saved.extra["loss_points"].tolist(),
                acc_points=saved.extra["acc_points"].tolist(),
                confusion=None if confusion is None else confusion.tolist())


def model_from_flat(described, data):
    """A model of a "model" report's {"kind", "hyper"} holding the raw `flat` bytes of "weights"."""
    if described["kind"] == "mnist-cnn":     # its byte count does not tell the channel counts
        return CNN.from_flat(data, described["hyper"]["conv1"], described["hyper"]["conv2"])
    return MLP.from_flat(data)
