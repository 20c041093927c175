"""bench/peers.py's Falken contender: a PyScript worker (Pyodide + numpy, as the app's trainer) that
trains models.mlp and models.cnn on the real MNIST blocks and times one digit's predict_proba,
by the same protocol as bench/peers_worker.js does for TF.js and ConvNetJS.

bench/page.html?peers=… starts it and calls run(spec JSON) -> result JSON (the worker's shape).
"""
import json
import statistics
import time

import numpy as np
from pyodide.http import pyfetch

from models.blocks import block_url, decode_block, split_entries
from models.cnn import CNN
from models.mlp import MLP


async def load_train_set(manifest_url):
    manifest = await (await pyfetch(manifest_url)).json()
    images, labels = [], []
    for entry in split_entries(manifest, "train"):
        data = await (await pyfetch(block_url(manifest_url, entry["file"]))).bytes()
        block_images, block_labels = decode_block(data, entry["sha256"])
        images.append(block_images.reshape(len(block_labels), -1))
        labels.append(block_labels)
    return np.concatenate(images).astype(np.float32) / 255.0, np.concatenate(labels).astype(np.int64)


def batcher(images, labels, seed):
    """Batches in a shuffled order, reshuffled after each pass (as the peers' batcher)."""
    rng, order, cursor = np.random.default_rng(seed), np.arange(len(labels)), [len(labels)]

    def next_batch(n):
        picked = []
        while n:
            if cursor[0] == len(order):
                rng.shuffle(order)
                cursor[0] = 0
            take = order[cursor[0]:cursor[0] + n]
            cursor[0] += len(take)
            n -= len(take)
            picked.append(take)
        rows = np.concatenate(picked)
        return images[rows], labels[rows]
    return next_batch


def train_rates(model, batch, images, labels, spec):
    next_batch, loss = batcher(images, labels, 1), float("nan")

    def run(seconds):
        nonlocal loss
        started, steps = time.perf_counter(), 0
        while True:
            loss = model.train_step(*next_batch(batch))
            steps += 1
            if time.perf_counter() - started >= seconds:
                return steps * batch / (time.perf_counter() - started)
    run(spec["warmup"])
    rates = [run(spec["window"]) for _ in range(spec["runs"])]
    if not np.isfinite(loss):
        raise FloatingPointError(f"the loss became {loss} at batch {batch}")
    return rates, loss


def infer_ms(model, digit, spec):
    """One predict_proba's ms: calls timed in groups that take at least inferSampleS, the median
    group per run (as bench/peers_worker.js)."""
    x = digit[None, :]

    def timed(calls):
        t0 = time.perf_counter()
        for _ in range(calls):
            model.predict_proba(x)
        return time.perf_counter() - t0
    group = 1
    while timed(group) < spec["inferSampleS"]:                # also the warm-up
        group *= 2
    # statistics.median: np.median needs numpy.ma, which the trimmed wheel leaves out
    return [statistics.median(timed(group) * 1e3 / group for _ in range(spec["inferSamples"]))
            for _ in range(spec["runs"])]


async def run(spec_json):
    spec = json.loads(spec_json)
    try:
        images, labels = await load_train_set(spec["manifest"])
        result = {"meta": {"library": f"Falken models (numpy {np.__version__})", "samples": len(labels)}}
        for name, batches in spec["plan"]:
            model = (MLP(hidden=spec["hidden"], seed=0) if name == "mlp"
                     else CNN(conv1=spec["conv1"], conv2=spec["conv2"], seed=0))
            train, losses = {}, {}
            for batch in batches:
                train[str(batch)], losses[str(batch)] = train_rates(model, batch, images, labels, spec)
            result[name] = {"train": train, "losses": losses, "infer_ms": infer_ms(model, images[0], spec)}
        return json.dumps(result)
    except Exception as error:
        import traceback
        return json.dumps({"error": f"{type(error).__name__}: {error}\n{traceback.format_exc()}"})


__export__ = ["run"]
