"""Teach it your handwriting, in every engine: drawn samples kept in IndexedDB, downloaded and
uploaded as data blocks, and fine-tuned on in the worker, checked against CPython."""
import base64

import numpy as np
import pytest
from selenium.webdriver.common.keys import Keys

from app import taught
from app.digits_session import FINE_TUNE_STEPS
from models import knowledge
from models.blocks import decode_block, encode_block, load_split
from models.preprocess import drawing_to_mnist
from tests.conftest import ROOT, new_page
from tests.support import site
from tests.test_app_insight import PHONE, canvas_red
from tests.test_store import REFUSALS, REFUSE

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
STORE_KEY = "teach/samples.npz"
# Three digits in grid units (0–28): a one, a seven, a zero-ish loop.
STROKES = {1: [[(14, 4), (14.5, 14), (14, 24)]],
           7: [[(8, 6), (20, 6), (12, 24)]],
           0: [[(14, 5), (20, 9), (20, 19), (14, 23), (8, 19), (8, 9), (14, 5)]]}


def open_digits(page):
    page.open("#digits")
    page.wait_for("!document.getElementById('teach-add').disabled", what="the teaching panel")


def count(page):
    return int(page.js("return document.getElementById('teach-count').dataset.count"))


def wait_count(page, n):
    page.wait_for(f"document.getElementById('teach-count').dataset.count === '{n}'", what=f"{n} samples", timeout=30)


def saved_block(page):
    """The samples block the page keeps in IndexedDB, read straight from static/js/store.js."""
    encoded = page.js_async(
        "const done = arguments[arguments.length - 1];"
        "falkenStore.get(arguments[0]).then(v => { if (!v) return done(null); let s = '';"
        "for (let i = 0; i < v.length; i += 32768) s += String.fromCharCode(...v.subarray(i, i + 32768));"
        "done(btoa(s)); }, e => done('rejected: ' + e.message));", STORE_KEY)
    assert encoded is None or not encoded.startswith("rejected"), encoded
    return None if encoded is None else decode_block(base64.b64decode(encoded))


def teach(page, label, strokes, by_keyboard=False):
    """Draw `strokes`, label them, add them; returns the sample CPython makes of the drawn grid."""
    page.js("document.getElementById('grid').scrollIntoView({block: 'center'})")
    page.draw("#grid", strokes)
    page.wait_for("document.getElementById('prediction').dataset.digit !== ''", what="the drawing", timeout=30)
    want = taught.to_pixels(drawing_to_mnist(canvas_red(page, "#grid").astype(np.float32) / 255.0))
    page.select("#teach-label", str(label))
    before = count(page)
    if by_keyboard:
        page.js("document.getElementById('teach-label').focus()")
        page.press(Keys.TAB)
        assert page.js("return document.activeElement.id") == "teach-add"
        page.press(Keys.ENTER)
    else:
        page.click("#teach-add")
    wait_count(page, before + 1)
    return want


def test_taught_samples_outlive_a_reload_download_as_a_block_and_upload_back(page, tmp_path):
    page.viewport = PHONE
    open_digits(page)
    start = count(page)          # the browser may keep samples from an earlier test
    wants, labels = [], []
    for i, (label, strokes) in enumerate(STROKES.items()):
        wants.append(teach(page, label, strokes, by_keyboard=i == 1))
        labels.append(label)
    assert page.js("return document.getElementById('prediction').dataset.digit") == ""   # cleared for the next
    assert page.js("return document.body.scrollWidth <= window.innerWidth")              # fits a phone
    page.js("document.getElementById('teach').scrollIntoView()")
    page.screenshot("teach-samples")

    page.open("#digits")             # a reload: the samples are still there
    page.wait_for(f"document.getElementById('teach-count').dataset.count === '{start + 3}'",
                  what="the samples after a reload")
    name, data = page.download("#teach-download")
    assert name == "falken-my-digits.npz"
    images, got_labels = decode_block(data)          # the data blocks' own codec, in CPython
    assert images.dtype == np.uint8 and images.shape == (start + 3, 28, 28) and got_labels.dtype == np.uint8
    assert list(got_labels[start:]) == labels
    for want, got in zip(wants, images[start:]):
        # Pyodide's and CPython's float rounding may differ in a last bit: one grey level at most.
        assert np.abs(want.astype(int) - got).max() <= 1

    # A corrupt file and a wrong-shaped one are refused and change nothing.
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(data[:-100])
    page.upload("#teach-upload", corrupt)
    page.wait_for("document.getElementById('errors').textContent.includes('corrupt.npz')", what="the refusal")
    wrong = tmp_path / "wrong-shape.npz"
    np.savez(wrong, images=np.zeros((2, 14, 14), np.uint8), labels=np.zeros(2, np.uint8))
    page.upload("#teach-upload", wrong)
    page.wait_for("document.getElementById('errors').textContent.includes('wrong-shape.npz')", what="the refusal")
    errors = page.errors_text()
    assert "(n, 28, 28)" in errors and f"Your {start + 3} samples are unchanged." in errors
    assert count(page) == start + 3

    # One more sample, then the downloaded file restores the set as it was, saved for next time.
    teach(page, 1, STROKES[1])
    downloaded = tmp_path / name
    downloaded.write_bytes(data)
    page.upload("#teach-upload", downloaded)
    wait_count(page, start + 3)
    page.wait_for(f"document.getElementById('teach-count').textContent.startsWith('{start + 3} samples')",
                  what="the count's text")
    saved_images, saved_labels = saved_block(page)
    assert np.array_equal(saved_images, images) and np.array_equal(saved_labels, got_labels)


def test_fine_tuning_on_mine_runs_in_the_worker_and_scores_the_held_out_samples(page, tmp_path):
    open_digits(page)
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    # "Your hand", one the shipped model reads badly: 40 held-out MNIST digits mirrored across
    # the diagonal, with their true labels.
    mnist_images, mnist_labels = load_split(ROOT / "static/data/mnist", "test")
    images, labels = np.ascontiguousarray(mnist_images[-40:].transpose(0, 2, 1)), mnist_labels[-40:]
    mine = tmp_path / "mine.npz"
    mine.write_bytes(encode_block(images, labels))
    page.upload("#teach-upload", mine)
    wait_count(page, 40)
    assert page.js("return document.getElementById('teach-count').dataset.heldOut") == "8"
    assert "Every 5th sample you add is held out" in page.text("#teach-how")
    _, before_weights = page.download("#weights-download")
    page.wait_for("!document.getElementById('teach-train').disabled", what="Fine-tune on mine")
    page.click("#teach-train")
    page.wait_for("document.getElementById('teach-accuracy').dataset.state === 'done'", what="fine-tuning",
                  timeout=300, give_up_if="['failed', 'stopped'].includes("
                                          "document.getElementById('teach-accuracy').dataset.state)")
    shown = page.js("return {...document.getElementById('teach-accuracy').dataset}")
    _, after_weights = page.download("#weights-download")
    (_, _), (held_images, held_labels) = taught.split(images, labels)
    before = taught.accuracy(knowledge.load(before_weights), held_images, held_labels)
    after = taught.accuracy(knowledge.load(after_weights), held_images, held_labels)
    assert shown["heldOut"] == "8"
    assert float(shown["before"]) == pytest.approx(before[0] / before[1])
    assert float(shown["after"]) == pytest.approx(after[0] / after[1])
    text = page.text("#teach-accuracy")
    assert f"({before[0]} of 8)" in text and f"({after[0]} of 8)" in text
    status = page.js("return {...document.getElementById('train-status').dataset}")
    assert status["state"] == "paused" and int(status["iteration"]) == FINE_TUNE_STEPS
    assert "in training" in page.text("#predictor-info")
    assert not page.js("return document.getElementById('teach-train').disabled")      # can go again
    print(f"\n{page.engine}: fine-tuned {FINE_TUNE_STEPS} batches; held-out taught accuracy "
          f"{before[0]}/8 -> {after[0]}/8")
    page.js("document.getElementById('teach').scrollIntoView()")
    page.screenshot("teach-fine-tuned")


def test_a_store_that_refuses_is_said_once_and_the_samples_live_on_in_the_page(browser):
    refusal, message = REFUSALS["errors"]          # a full quota
    scripts = {site.PROBE_PATH: site.PROBE, "/__refuse_indexeddb__.js": (REFUSE % refusal).encode()}
    server = site.start(site.serve.ROOT, head_scripts=scripts)
    try:
        page = new_page(browser, server.url)
        open_digits(page)
        assert page.errors_text() == "" and count(page) == 0      # said only to someone who teaches
        teach(page, 1, STROKES[1])
        page.wait_for("document.getElementById('errors').textContent.includes('will not outlast')",
                      what="the store's refusal", timeout=30)
        teach(page, 7, STROKES[7])
        errors = page.errors_text()
        assert errors.count("will not outlast this visit") == 1 and message in errors
        _, data = page.download("#teach-download")
        assert list(decode_block(data)[1]) == [1, 7]
        assert page.unexpected_console_errors() == []
    finally:
        server.shutdown()
