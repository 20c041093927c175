"""The held-out gallery in every engine: its readings against the model's in CPython, wrong ones
first, and a chosen digit (by keyboard and by click) loaded into the grid, bars and input picture."""
import numpy as np
import pytest
from selenium.webdriver.common.keys import Keys

from app.digits_session import EVALUATION
from models import knowledge as K
from models.blocks import load_split
from tests.conftest import ROOT
from tests.test_app_insight import canvas_red

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
PHONE = (360, 640)
DATA = ROOT / "static" / "data" / "mnist"


def held_out(kind):
    """The held-out digits the page's evaluation scores, as the worker holds them."""
    images, labels = load_split(DATA, "test")
    count = EVALUATION[kind][0]
    return images[:count].reshape(count, 784).astype(np.float32) / 255.0, labels[:count].astype(np.int64)


def gallery(page):
    return page.js("return [...document.querySelectorAll('#gallery [data-index]')].map("
                   "b => [+b.dataset.slot, +b.dataset.index, +b.dataset.label, +b.dataset.predicted])")


def wait_gallery(page, kind, iteration=None):
    condition = f"document.getElementById('gallery').dataset.kind === '{kind}'"
    if iteration is not None:
        condition += f" && document.getElementById('gallery').dataset.iteration === '{iteration}'"
    page.wait_for(condition + " && +document.getElementById('gallery').dataset.count > 0", what=f"the {kind} gallery")
    return gallery(page)


def check_readings(shown, model, images, labels):
    """data-predicted is the model's reading in CPython, data-label the truth, wrong ones first."""
    predicted = model.predict(images)
    index = np.array([i for _, i, _, _ in shown])
    assert [p for _, _, _, p in shown] == predicted[index].tolist()
    assert [label for _, _, label, _ in shown] == labels[index].tolist()
    wrong = np.flatnonzero(predicted != labels)
    first = min(len(wrong), len(shown))
    assert index[:first].tolist() == wrong[:first].tolist()          # every wrong one first, in order
    assert all(label == p for _, _, label, p in shown[first:])


def probabilities(page):
    return np.array(page.js("return [...Array(10).keys()].map(d => +document.getElementById('prob-' + d).dataset.p)"))


def check_loaded(page, index, model, images):
    """The grid holds held-out digit `index`; the input picture is its pixels; the bars its probabilities."""
    page.wait_for(f"document.getElementById('grid').dataset.loaded === '{index}'", what=f"digit {index} in the grid")
    want = model.predict_proba(images[index:index + 1])[0]
    np.testing.assert_allclose(probabilities(page), want, atol=6e-5)
    assert page.js("return document.getElementById('prediction').dataset.digit") == str(int(want.argmax()))
    np.testing.assert_array_equal(canvas_red(page, "#digits-input"), np.rint(images[index] * 255).reshape(28, 28))
    assert canvas_red(page, "#grid").max() > 200                        # and it is painted in the grid


def test_the_gallery_shows_the_models_readings_wrong_first_and_loads_a_chosen_digit(page):
    page.viewport = PHONE
    page.open("#digits")
    shown = wait_gallery(page, "mnist-mlp")
    model = K.load(ROOT / "knowledge" / "digits.npz")
    images, labels = held_out("mnist-mlp")
    assert len(shown) == 48
    check_readings(shown, model, images, labels)
    assert "of 2,000 held-out digits read wrong by the shipped MLP" in page.text("#gallery-info")
    assert page.js("return document.body.scrollWidth <= window.innerWidth")   # fits a phone

    # By keyboard: an item takes the focus and Enter loads it.
    _, index, _, _ = shown[2]
    page.js("document.querySelector('#gallery [data-slot=\"2\"]').focus()")
    assert page.js("return document.activeElement.dataset.index") == str(index)
    page.press(Keys.ENTER)
    check_loaded(page, index, model, images)
    page.js("document.getElementById('gallery').scrollIntoView()")
    page.screenshot("gallery")

    # By click (or tap): a digit it reads right, the last one shown.
    _, index, _, _ = shown[-1]
    page.js("document.querySelector('#gallery [data-slot=\"47\"]').scrollIntoView({block: 'center'})")
    page.click('#gallery [data-slot="47"]')
    check_loaded(page, index, model, images)
    page.js("document.getElementById('grid').scrollIntoView({block: 'center'})")
    page.draw("#grid", [[(4, 4), (8, 8)]])                               # a stroke makes it a drawing again
    page.wait_for("document.getElementById('grid').dataset.loaded === ''", what="the drawing")


def test_the_cnns_gallery_scores_its_own_held_out_digits(page):
    page.open("#digits")
    wait_gallery(page, "mnist-mlp")
    page.select("#digits-model", "mnist-cnn")
    shown = wait_gallery(page, "mnist-cnn")
    model = K.load(ROOT / "knowledge" / "digits-cnn.npz")
    images, labels = held_out("mnist-cnn")
    assert max(i for _, i, _, _ in shown) < 500
    check_readings(shown, model, images, labels)
    _, index, _, _ = shown[0]
    page.click('#gallery [data-slot="0"]')
    check_loaded(page, index, model, images)
