"""Hidden units, live, in every engine: the tiles read back to the model's first layer (shipped, and
the one training), redrawn while it trains; the activation shown for a unit is CPython's."""
import json
import time

import numpy as np
import pytest
from selenium.webdriver.common.keys import Keys

from models import knowledge as K
from models.preprocess import drawing_to_mnist
from tests.conftest import ROOT
from tests.test_app_gallery import check_readings, held_out, wait_gallery
from tests.test_app_insight import canvas_red, canvas_rgba

pytestmark = [pytest.mark.browser, pytest.mark.needs_numpy]
PHONE = (360, 640)
# Every redraw of the tiles and its time (data-version, data-draw-ms), and Chromium's long tasks.
WATCH = """
const box = document.getElementById('hidden-units');
window.redraws = [];
new MutationObserver(() => window.redraws.push([performance.now(), +box.dataset.version, +box.dataset.drawMs]))
  .observe(box, {attributes: true, attributeFilter: ['data-version']});
window.longTasks = PerformanceObserver.supportedEntryTypes.includes('longtask') ? [] : null;
if (window.longTasks) new PerformanceObserver(list => list.getEntries().forEach(
  e => window.longTasks.push(e.duration))).observe({entryTypes: ['longtask']});
"""
# A pointer over the middle of unit `arguments[1]`'s tile on canvas `arguments[0]` (a hover).
HOVER = """
const canvas = document.getElementById(arguments[0]), unit = arguments[1], d = canvas.dataset;
const pitchX = +d.tileWidth + +d.gap, pitchY = +d.tileHeight + +d.gap, box = canvas.getBoundingClientRect();
const x = (unit % +d.columns) * pitchX + d.tileWidth / 2, y = Math.floor(unit / +d.columns) * pitchY + d.tileHeight / 2;
canvas.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, pointerId: 1, pointerType: 'mouse', isPrimary: true,
  clientX: box.left + x * box.width / canvas.width, clientY: box.top + y * box.height / canvas.height}));
"""


def tiles_shown(page, canvas_id):
    """Each tile of a mosaic canvas, cut out by its data-* layout: (units, h, w, 4)."""
    layout = {k: int(v) for k, v in page.js("return {...document.getElementById(arguments[0]).dataset}", canvas_id).items()}
    picture = canvas_rgba(page, "#" + canvas_id)
    h, w, pitch_h, pitch_w = layout["tileHeight"], layout["tileWidth"], layout["tileHeight"] + layout["gap"], layout["tileWidth"] + layout["gap"]
    return np.stack([picture[(u // layout["columns"]) * pitch_h:][:h, (u % layout["columns"]) * pitch_w:][:, :w]
                     for u in range(layout["units"])])


def check_weights(page, model):
    """Every tile reads back (red - blue) to its unit's weights over the tile's largest |weight|."""
    shown = tiles_shown(page, "hidden-units-weights").astype(np.int64)
    if model.KIND == "mnist-mlp":
        weights = model.params["W1"].T.reshape(-1, 28, 28).astype(np.float64)
    else:
        weights = model.params["K1"][:, :, 0, :].transpose(2, 0, 1).astype(np.float64)
    assert shown.shape[:3] == weights.shape
    scale = np.abs(weights).max(axis=(1, 2), keepdims=True)
    read = (shown[..., 0] - shown[..., 2]) / 255.0 * scale
    assert np.all(np.abs(read - weights) <= scale * (0.5 / 255 + 1e-6))


def info(page):
    return page.js("return {...document.getElementById('hidden-unit-info').dataset}")


def hover(page, canvas_id, unit):
    page.js(HOVER, canvas_id, unit)
    page.wait_for(f"document.getElementById('hidden-unit-info').dataset.unit === '{unit}'", what=f"unit {unit} picked")
    return info(page)


def drawn_input(page, model, unit):
    """The grid's drawing through the preprocessing in CPython, once the page shows the activation
    of `unit` for it (the last pointer move's prediction may land a frame or more late)."""
    deadline = time.monotonic() + 20
    while True:
        x = drawing_to_mnist(canvas_red(page, "#grid").astype(np.float32) / 255.0)
        want = float(model.hidden(x[None, :])[0, unit])
        shown = info(page)["activation"]
        if (shown and abs(float(shown) - want) <= 1e-4 * max(1, abs(want))) or time.monotonic() > deadline:
            return x, shown, want
        time.sleep(0.2)


def test_the_tiles_are_the_mlps_weights_and_a_units_activation_is_cpythons(page):
    page.viewport = PHONE
    page.open("#digits")
    page.wait_for("document.getElementById('hidden-units').dataset.kind === 'mnist-mlp'", what="the tiles")
    shipped = K.load(ROOT / "knowledge" / "digits.npz")
    check_weights(page, shipped)
    assert hover(page, "hidden-units-weights", 37)["activation"] == ""          # nothing drawn yet
    page.draw("#grid", [[(9, 6), (19, 6), (12, 24)]])
    page.wait_for("document.getElementById('prediction').dataset.digit !== ''", what="a prediction")
    x, shown, want = drawn_input(page, shipped, 37)
    assert shown and abs(float(shown) - want) <= 1e-4 * max(1, abs(want)), (shown, want)
    # By keyboard: the picture takes the focus, the arrows move the choice.
    page.js("document.getElementById('hidden-units-weights').focus()")
    page.press(Keys.ARROW_RIGHT)
    page.press(Keys.ARROW_DOWN)
    columns = int(page.js("return document.getElementById('hidden-units-weights').dataset.columns"))
    unit = 38 + columns
    page.wait_for(f"document.getElementById('hidden-unit-info').dataset.unit === '{unit}'", what="the arrow keys")
    want = float(shipped.hidden(x[None, :])[0, unit])
    assert abs(float(info(page)["activation"]) - want) <= 1e-4 * max(1, abs(want))
    assert page.js("return document.body.scrollWidth <= window.innerWidth")   # fits a phone
    page.js("document.getElementById('hidden-units').parentElement.scrollIntoView()")   # the whole panel
    page.screenshot("hidden-units")


def test_while_training_the_tiles_redraw_and_the_gallery_follows_each_evaluation(page):
    page.open("#digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.wait_for("document.getElementById('hidden-units').dataset.kind === 'mnist-mlp'", what="the tiles")
    wait_gallery(page, "mnist-mlp")
    page.js("document.getElementById('hidden-units').scrollIntoView()")
    page.js(WATCH)
    page.click("#train-start")
    page.wait_for("window.redraws.length >= 6", timeout=60, what="six redraws while training")
    page.click("#train-pause")
    page.wait_for("document.getElementById('train-status').dataset.state === 'paused'", what="the pause")
    iteration = page.js("return document.getElementById('train-status').dataset.iteration")
    shown = wait_gallery(page, "mnist-mlp", iteration)
    redraws, long_tasks = page.js("return [window.redraws, window.longTasks]")
    versions = [v for _, v, _ in redraws]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    gaps = np.diff([t for t, _, _ in redraws[:6]]) / 1000           # while running: weights come each second
    draw_ms = [ms for _, _, ms in redraws]
    report = {"engine": page.engine, "redraw_interval_s_median": float(np.median(gaps)),
              "redraw_interval_s_max": float(gaps.max()), "draw_ms_median": float(np.median(draw_ms)),
              "draw_ms_max": float(max(draw_ms)), "gallery_draw_ms": float(page.js(
                  "return +document.getElementById('gallery').dataset.drawMs")),
              "long_tasks": None if long_tasks is None else len(long_tasks),
              "longest_task_ms": None if long_tasks is None else max(long_tasks, default=0)}
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / f"hidden-units-timings-{page.engine}.json").write_text(json.dumps(report, indent=1))
    print(f"\nhidden units while training: {report}")
    assert np.median(gaps) <= 2.0, report
    assert np.median(draw_ms) < 50, report
    # Paused: the tiles and the gallery are the trained model's, the one the page would download.
    _, data = page.download("#weights-download")
    trained = K.load(data)
    check_weights(page, trained)
    images, labels = held_out("mnist-mlp")
    check_readings(shown, trained, images, labels)


def test_the_cnns_filters_and_feature_maps_are_its_first_layer(page):
    page.open("#digits")
    wait_gallery(page, "mnist-mlp")
    page.select("#digits-model", "mnist-cnn")
    page.wait_for("document.getElementById('hidden-units').dataset.kind === 'mnist-cnn'", what="the filters")
    model = K.load(ROOT / "knowledge" / "digits-cnn.npz")
    check_weights(page, model)
    shown = wait_gallery(page, "mnist-cnn")
    _, index, _, _ = shown[0]
    page.click('#gallery [data-slot="0"]')
    page.wait_for(f"document.getElementById('grid').dataset.loaded === '{index}'", what="the digit in the grid")
    images, _ = held_out("mnist-cnn")
    maps = model.feature_maps(images[index:index + 1])[0].transpose(2, 0, 1).astype(np.float64)
    grey = tiles_shown(page, "hidden-units-maps")
    assert grey.shape[:3] == maps.shape
    assert np.abs(grey[..., 0] / 255.0 * maps.max() - maps).max() <= maps.max() * (0.5 / 255 + 1e-5)
    picked = hover(page, "hidden-units-maps", 5)
    assert abs(float(picked["activation"]) - maps[5].max()) <= 1e-4 * max(1, maps[5].max())
    page.js("document.getElementById('hidden-units').parentElement.scrollIntoView()")   # the whole panel
    page.screenshot("hidden-units-cnn")
