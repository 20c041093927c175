"""Digits training: batches from the block cache, one Adam step of the MLP or the CNN at a time.

Browser-agnostic: the worker wraps it, and CPython tests drive it against a local server.
Reports (see TrainingLoop): "model" (its kind and hyper-parameters) whenever the session takes a
new model, so before any of its weights; "status" a few times a second (its "stop" part is the
stop rule's progress, see app/stop_rules.py), "weights" (the raw float32
`flat` buffer) about once a second and on pause, "error" when training cannot go on.
"""
import time

import numpy as np

from app.cache import BlockCache, CacheError
from app.training_loop import TrainingLoop
from app.wording import sentence
from models.blocks import block_url, decode_block, split_entries
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


class DigitsSession(TrainingLoop):
    def __init__(self, manifest, manifest_url, fetch, report, seed=0, kind="mnist-mlp"):
        super().__init__(report)
        self.manifest, self.manifest_url, self.fetch = manifest, manifest_url, fetch
        self.seed, self.kind = seed, kind
        self.lr, self.batch_size, self.cache_size = LEARNING_RATE, BATCH_SIZE, CACHE_SIZE
        self.test_set = None
        self.train_count = sum(entry["count"] for entry in split_entries(manifest, "train"))
        self.renew()

    def renew(self, model=None):
        """A fresh (or the given) model with no history: what Reset leaves behind."""
        self.model = model or MODELS[self.kind](seed=self.seed)
        self.kind = self.model.KIND
        self.model.set_optimizer("adam", self.lr)     # fresh optimiser state for a fresh history
        self.eval_digits, eval_period = EVALUATION[self.kind]
        self.PERIODIC = {"send_status": 0.25, "send_weights": 1.0, "evaluate": eval_period}
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
        self.send_weights()
        self.send_status()

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

    async def on_pause(self):
        await self.evaluate()
        self.send_weights()
        self.send_status()

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

    async def evaluate(self):
        if self.test_set is None:
            self.test_set = await self.load_test_set()
        images, labels = (part[:self.eval_digits] for part in self.test_set)
        predicted = self.model.predict_proba(images).argmax(axis=1)
        self.test_acc = float((predicted == labels).mean())
        self.confusion = np.bincount(labels * 10 + predicted, minlength=100).reshape(10, 10)
        if not self.acc_points or self.acc_points[-1][0] != self.iteration:
            self.acc_points.append((self.iteration, self.test_acc))
            self.rule.observe(self.test_acc, self.iteration,
                              keep=lambda: (self.model.flat.copy(), self.confusion.copy()))

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


def model_from_flat(described, data):
    """A model of a "model" report's {"kind", "hyper"} holding the raw `flat` bytes of "weights"."""
    if described["kind"] == "mnist-cnn":     # its byte count does not tell the channel counts
        return CNN.from_flat(data, described["hyper"]["conv1"], described["hyper"]["conv2"])
    return MLP.from_flat(data)
