"""Taught digits in CPython: the held-out split, mixing them into MNIST batches, and fine-tuning in
the DigitsSession the worker runs (against a local server)."""
import asyncio

import numpy as np
import pytest

from app import taught
from app.digits_session import DigitsSession
from models import blocks, knowledge
from models.preprocess import drawing_to_mnist
from tests.support.data import build_embedded, row_keys
from tests.support.fault_server import FaultServer
from tests.support.http_fetch import http_get
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(180)


def samples(count, seed=0):
    """`count` distinct fake samples: image i is filled with a pattern seeded by i."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    return images, (np.arange(count) % 10).astype(np.uint8)


def test_every_fifth_sample_is_held_out_and_stays_held_out_as_more_are_added():
    assert taught.HOLD_OUT_EVERY == 5
    assert list(np.flatnonzero(taught.held_out_mask(12))) == [4, 9]
    assert not taught.held_out_mask(4).any()
    for count in range(1, 40):       # a sample's side never changes when more are added
        assert np.array_equal(taught.held_out_mask(count), taught.held_out_mask(count + 7)[:count])
    images, labels = samples(11)
    (train_x, train_y), (held_x, held_y) = taught.split(images, labels)
    assert list(held_y) == [4, 9] and len(train_y) == 9
    assert set(row_keys(train_x)).isdisjoint(row_keys(held_x))
    assert sorted(row_keys(train_x) + row_keys(held_x)) == sorted(row_keys(images))
    assert "Every 5th sample" in taught.how_it_works(150) and "25%" in taught.how_it_works(150)


def test_a_sample_is_the_preprocessed_drawing_as_uint8_and_scales_back():
    drawing = np.zeros((280, 280))
    drawing[40:240, 130:150] = 1.0
    x = drawing_to_mnist(drawing)
    pixels = taught.to_pixels(x)
    assert pixels.dtype == np.uint8 and pixels.shape == (28, 28)
    assert np.abs(taught.to_inputs(pixels[None])[0] - x).max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("batch", [1, 7, 32])
def test_mixing_replaces_the_fraction_of_each_batch_on_average_and_visits_taught_samples_evenly(batch):
    images, labels = samples(9)
    mix = taught.TaughtMix(images, labels, fraction=0.25, seed=3)
    taught_keys = set(row_keys(images))
    mnist_x = np.full((batch, 784), 0.5, np.float32)       # no taught sample looks like this
    mnist_y = np.full(batch, 3, np.int64)
    seen, total = [], 0
    for _ in range(400):
        x, y = mix.mix(mnist_x, mnist_y)
        assert x.shape == mnist_x.shape and y.shape == mnist_y.shape and x.dtype == np.float32
        rows = np.rint(x * 255).astype(np.uint8).reshape(batch, 28, 28)
        mixed = [i for i, key in enumerate(row_keys(rows)) if key in taught_keys]
        if batch >= 4:       # floor(0.25 B) rows at least, one more at most
            assert int(0.25 * batch) <= len(mixed) <= int(0.25 * batch) + 1
        for i in mixed:
            index = row_keys(images).index(row_keys(rows[i:i + 1])[0])
            assert y[i] == labels[index]          # a taught image keeps its own label
            seen.append(index)
        total += batch
    assert mnist_x.min() == 0.5                   # the cache's batch is not written to
    share = len(seen) / total
    assert abs(share - 0.25) < 0.04, share
    counts = np.bincount(seen, minlength=9)
    assert counts.max() - counts.min() <= 1       # whole passes in a shuffled order: even use
    assert mix.served == len(seen)


def test_mixing_refuses_no_samples_and_a_fraction_outside_0_1():
    images, labels = samples(3)
    with pytest.raises(ValueError, match="no taught samples"):
        taught.TaughtMix(images[:0], labels[:0])
    with pytest.raises(ValueError, match="fraction"):
        taught.TaughtMix(images, labels, fraction=0)


def test_accuracy_counts_the_models_right_answers():
    model = knowledge.load(ROOT / "knowledge" / "digits.npz")
    images, labels = blocks.load_split(ROOT / "static" / "data" / "mnist", "test")
    images, labels = images[:50], labels[:50]
    correct, total = taught.accuracy(model, images, labels)
    predicted = model.predict_proba(images.reshape(50, -1) / 255.0).argmax(axis=1)
    assert (correct, total) == (int((predicted == labels).sum()), 50) and correct > 40
    assert taught.accuracy(model, images[:0], labels[:0]) == (0, 0)


# -- fine-tuning in the session --------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with FaultServer(build_embedded(tmp_path_factory.mktemp("taught") / "mnist")) as server:
        yield server


class SpyingSession(DigitsSession):
    """A DigitsSession that keeps every training row its models are given (as uint8 keys)."""

    def renew(self, model=None):
        super().renew(model)
        train_step = self.model.train_step

        def spy(x, y):
            self.trained_rows.extend(row_keys(np.rint(x * 255).astype(np.uint8)))
            return train_step(x, y)
        self.model.train_step = spy


def spying_session(server):
    url = server.url + "manifest.json"
    reports = []
    digits = SpyingSession(blocks.read_manifest(url), url, http_get, lambda k, p: reports.append((k, p)))
    digits.trained_rows = []
    return digits, reports


def test_fine_tuning_mixes_only_the_training_samples_and_reports_before_and_after(server):
    digits, reports = spying_session(server)
    model = knowledge.load(ROOT / "knowledge" / "digits.npz")
    # "Your" samples: test digits relabelled one up, so fine-tuning has something to learn and
    # the held-out ones show whether it did.
    images, labels = blocks.load_split(ROOT / "static" / "data" / "mnist", "test")
    images, labels = images[:40], (labels[:40] + 1) % 10
    (train_x, _), (held_x, held_y) = taught.split(images, labels)
    before = taught.accuracy(model, held_x, held_y)

    async def run():
        await digits.fine_tune(model, images, labels, steps=60)
        await digits.stop()
        await digits.cache.aclose()
    asyncio.run(run())
    teach = [p for k, p in reports if k == "teach"]
    assert [t["state"] for t in teach] == ["running", "done"]
    done = teach[-1]
    assert tuple(done["before"]) == before
    assert (done["held_out"], done["trained_on"], done["trained_steps"]) == (8, 32, 60)
    assert tuple(done["after"]) == taught.accuracy(digits.model, held_x, held_y)
    assert done["after"][0] > done["before"][0]          # it learnt the relabelled hand
    assert set(row_keys(held_x)).isdisjoint(digits.trained_rows)   # never trained on the held-out
    taught_rows = set(row_keys(train_x))
    share = sum(key in taught_rows for key in digits.trained_rows) / len(digits.trained_rows)
    assert len(digits.trained_rows) == 60 * digits.batch_size
    assert abs(share - taught.TAUGHT_FRACTION) < 0.02, share
    # The weights sent last are the ones scored "after"; mixing is off again.
    assert [p for k, p in reports if k == "weights"][-1] == digits.model.flat.tobytes()
    assert digits.taught is None and digits.stop_at is None and digits.state == "idle"


def test_a_reset_during_fine_tuning_reports_it_stopped_and_mixes_no_more(server):
    digits, reports = spying_session(server)
    images, labels = samples(10)

    async def run():
        job = asyncio.ensure_future(digits.fine_tune(knowledge.load(ROOT / "knowledge" / "digits.npz"),
                                                     images, labels, steps=100_000))
        while digits.iteration < 3:
            await asyncio.sleep(0.01)
        cache = digits.cache
        await digits.reset()
        await job
        await cache.aclose()
    asyncio.run(run())
    teach = [p for k, p in reports if k == "teach"]
    assert [t["state"] for t in teach] == ["running", "stopped"]
    assert digits.taught is None and digits.stop_at is None and digits.iteration == 0


def test_fine_tuning_takes_the_cnn_too(server):
    digits, reports = spying_session(server)
    images, labels = samples(10)

    async def run():
        await digits.fine_tune(knowledge.load(ROOT / "knowledge" / "digits-cnn.npz"), images, labels, steps=3)
        await digits.stop()
        await digits.cache.aclose()
    asyncio.run(run())
    done = [p for k, p in reports if k == "teach"][-1]
    assert done["state"] == "done" and done["trained_steps"] == 3 and digits.kind == "mnist-cnn"
    assert tuple(done["after"]) == taught.accuracy(digits.model, *taught.split(images, labels)[1])
