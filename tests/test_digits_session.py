"""DigitsSession in CPython against a local server: the model choice (MLP / CNN), its reports and
its held-out scoring, as the worker runs them."""
import asyncio
from pathlib import Path

import numpy as np
import pytest

from app.digits_session import EVALUATION, DigitsSession, model_from_flat
from models import blocks, knowledge
from tests.support.data import build_embedded
from tests.support.fault_server import FaultServer
from tests.support.http_fetch import http_get

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with FaultServer(build_embedded(tmp_path_factory.mktemp("session") / "mnist")) as server:
        yield server


def session(server, kind):
    url = server.url + "manifest.json"
    reports = []
    digits = DigitsSession(blocks.read_manifest(url), url, http_get, lambda k, p: reports.append((k, p)), kind=kind)
    return digits, reports


async def train(digits, steps):
    digits.start()
    while digits.iteration < steps and digits.state == "running":
        await asyncio.sleep(0.01)
    await digits.pause()


async def closed(digits):
    """Training stopped and no fetch left behind for a closed event loop."""
    await digits.stop()
    if digits.cache is not None:
        await digits.cache.aclose()


def test_a_cnn_session_trains_reports_its_model_first_and_scores_a_fixed_subset(server):
    digits, reports = session(server, "mnist-cnn")
    assert reports[0] == ("model", {"kind": "mnist-cnn", "hyper": {"conv1": 16, "conv2": 32, "kernel": 5}})

    async def run():
        await train(digits, 3)
        await closed(digits)
    asyncio.run(run())
    assert digits.state == "idle" and digits.iteration >= 3
    status = digits.status()
    assert status["kind"] == "mnist-cnn" and status["test_digits"] == EVALUATION["mnist-cnn"][0] < 2000
    assert sum(map(sum, status["confusion"])) == status["test_digits"]
    weights = [p for k, p in reports if k == "weights"][-1]
    mirror = model_from_flat(reports[0][1], weights)        # what the page builds from them
    x = digits.test_set[0][:50]
    assert np.array_equal(mirror.predict_proba(x), digits.model.predict_proba(x))


def test_choosing_a_kind_stops_training_and_holds_a_fresh_model_without_sending_weights(server):
    digits, reports = session(server, "mnist-mlp")

    async def run():
        digits.start()
        while digits.iteration < 2:
            await asyncio.sleep(0.01)
        reports.clear()
        await digits.choose("mnist-cnn")
        with pytest.raises(ValueError, match="unknown digits model"):
            await digits.choose("mnist-rnn")
        await closed(digits)
    asyncio.run(run())
    assert digits.state == "idle" and digits.iteration == 0 and type(digits.model).__name__ == "CNN"
    assert [k for k, _ in reports] == ["model", "status"]
    assert reports[-1][1]["kind"] == "mnist-cnn" and reports[-1][1]["iteration"] == 0


def test_sliders_carry_over_and_reset_follows_the_kind_of_a_loaded_model(server):
    digits, reports = session(server, "mnist-mlp")
    shipped_mlp = knowledge.load(ROOT / "knowledge/digits.npz")

    async def run():
        digits.set_lr(3e-3)
        digits.set_batch_size(8)
        await digits.choose("mnist-cnn")
        assert digits.model.lr == pytest.approx(3e-3) and digits.batch_size == 8
        await train(digits, 2)
        assert digits.status()["batch_size"] == 8 and digits.samples == 8 * digits.iteration
        await digits.reset(shipped_mlp)                     # an uploaded MLP while the CNN trained
        assert digits.kind == "mnist-mlp" and digits.status()["test_digits"] == 2000
        assert digits.test_acc == pytest.approx(shipped_mlp.evaluate(*digits.test_set))
        await digits.reset()                                # Reset: a fresh model of that kind
        assert type(digits.model).__name__ == "MLP" and digits.iteration == 0
        await closed(digits)
    asyncio.run(run())


def test_model_from_flat_refuses_weights_of_another_shape():
    with pytest.raises(ValueError):
        model_from_flat({"kind": "mnist-cnn", "hyper": {"conv1": 8, "conv2": 16, "kernel": 5}},
                        np.zeros(10, np.float32).tobytes())
    with pytest.raises(ValueError):
        model_from_flat({"kind": "mnist-mlp", "hyper": {"hidden": 128}}, b"\0" * 12)
