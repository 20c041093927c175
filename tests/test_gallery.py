"""The held-out gallery in CPython: wrong-first picks, the report's exact pixels, and the session's
gallery reports (each evaluation, and the page's own model) against the models' predictions."""
import asyncio
from pathlib import Path

import numpy as np
import pytest

from app.digits_session import DigitsSession
from app.gallery import GALLERY_SIZE, gallery_images, gallery_line, gallery_report, item_label, wrong_first
from models import blocks, knowledge
from tests.support.data import build_embedded
from tests.support.fault_server import FaultServer
from tests.support.http_fetch import http_get

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent


def test_wrong_ones_come_first_in_held_out_order_then_right_ones():
    labels = np.array([1, 2, 3, 4, 5, 6, 7])
    predicted = np.array([1, 0, 3, 0, 5, 0, 7])
    assert wrong_first(labels, predicted, 5).tolist() == [1, 3, 5, 0, 2]
    assert wrong_first(labels, predicted, 2).tolist() == [1, 3]
    assert wrong_first(labels, labels, 3).tolist() == [0, 1, 2]
    assert wrong_first(labels, predicted, 100).tolist() == [1, 3, 5, 0, 2, 4, 6]


def test_a_report_carries_the_exact_pixels_labels_and_readings():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (80, 784), dtype=np.uint8)
    images = pixels.astype(np.float32) / 255.0            # as the session holds the held-out set
    labels = rng.integers(0, 10, 80)
    probabilities = rng.dirichlet(np.ones(10), 80)
    report = gallery_report("mnist-mlp", 12, images, labels, probabilities)
    predicted = probabilities.argmax(axis=1)
    assert report["index"] == wrong_first(labels, predicted).tolist() and len(report["index"]) == GALLERY_SIZE
    assert report["label"] == labels[report["index"]].tolist()
    assert report["predicted"] == predicted[report["index"]].tolist()
    assert report["wrong"] == int((predicted != labels).sum()) and report["scored"] == 80
    np.testing.assert_array_equal(gallery_images(report), images[report["index"]])
    line = gallery_line(report, "the shipped MLP")
    assert line.startswith(f"{report['wrong']} of 80 held-out digits read wrong by the shipped MLP;")
    first = item_label(report, 0)
    assert f"digit {report['index'][0]}, a {report['label'][0]}: read as {report['predicted'][0]}" in first


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with FaultServer(build_embedded(tmp_path_factory.mktemp("gallery") / "mnist")) as server:
        yield server


def test_each_evaluation_and_the_pages_own_model_send_a_gallery_of_their_predictions(server):
    url = server.url + "manifest.json"
    reports = []
    digits = DigitsSession(blocks.read_manifest(url), url, http_get, lambda k, p: reports.append((k, p)))
    shipped = knowledge.load(ROOT / "knowledge" / "digits-cnn.npz")

    async def run():
        await digits.evaluate()                 # the fresh MLP of the session
        await digits.score(shipped)             # the page's shipped CNN: the session's figures stay
        await digits.stop()
    asyncio.run(run())
    galleries = [p for k, p in reports if k == "gallery"]
    assert len(galleries) == 2
    images, labels = digits.test_set
    for report, model, scored in ((galleries[0], digits.model, 2000), (galleries[1], shipped, 500)):
        assert report["kind"] == model.KIND and report["scored"] == scored
        index = np.array(report["index"])
        assert index.max() < scored
        predicted = model.predict(images[:scored])
        assert report["predicted"] == predicted[index].tolist() and report["label"] == labels[index].tolist()
        wrong = np.flatnonzero(predicted != labels[:scored])
        assert report["wrong"] == len(wrong)
        assert index[:min(len(wrong), GALLERY_SIZE)].tolist() == wrong[:GALLERY_SIZE].tolist()
        np.testing.assert_array_equal(gallery_images(report), images[index])
    assert galleries[0]["iteration"] == 0 and galleries[1]["iteration"] is None
    assert digits.kind == "mnist-mlp" and digits.test_acc == pytest.approx(digits.model.evaluate(images, labels))
