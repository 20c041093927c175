"""The hidden-units pictures in CPython: tiles that read back to the weights, mosaic geometry, and
the activations the panel shows for an input."""
from pathlib import Path

import numpy as np
import pytest

from app.hidden_units import (GAP_RGBA, GREY, SIGNED, Layout, activations, columns_for, grey_levels,
                              signed_levels, weight_tiles)
from models import knowledge as K
from models.cnn import CNN

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def signed_values(rgba):
    """What a red/white/blue pixel says: weight / the tile's largest |weight|, to 1/255."""
    rgba = rgba.astype(np.int64)
    return (rgba[..., 0] - rgba[..., 2]) / 255.0


@pytest.mark.parametrize("name", ["digits.npz", "digits-cnn.npz"])
def test_each_tile_reads_back_to_its_units_weights(name):
    model = K.load(KNOWLEDGE / name)
    tiles = weight_tiles(model)
    if model.KIND == "mnist-mlp":
        assert tiles.shape == (128, 28, 28)
        np.testing.assert_array_equal(tiles[5].reshape(-1), model.params["W1"][:, 5])
    else:
        assert tiles.shape == (16, 5, 5)
        np.testing.assert_array_equal(tiles[3], model.params["K1"][:, :, 0, 3])
    rgba = SIGNED[signed_levels(tiles)]
    scale = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    assert np.abs(signed_values(rgba) * scale - tiles).max() <= scale.max() * 0.5 / 255 + 1e-9
    assert np.all(rgba[..., 3] == 255)
    assert np.all((rgba[..., 0] == 255) | (rgba[..., 2] == 255))    # red-white or white-blue, never both


def test_a_tile_of_zeros_is_white_and_the_extremes_are_pure():
    rgba = SIGNED[signed_levels(np.array([[[0.0, 2.0, -2.0]], [[0.0, 0.0, 0.0]]]))]
    assert rgba[0, 0].tolist() == [[255, 255, 255, 255], [255, 0, 0, 255], [0, 0, 255, 255]]
    assert np.all(rgba[1] == 255)


def test_feature_maps_share_one_grey_scale():
    rgba = GREY[grey_levels(np.array([[[0.0, 1.0]], [[2.0, 4.0]]]))]
    assert rgba[..., 0].tolist() == [[[0, 64]], [[128, 255]]]
    assert not GREY[grey_levels(np.zeros((2, 3, 3)))][..., :3].any()


@pytest.mark.parametrize("units,columns,gap", [(128, 16, 2), (128, 8, 2), (16, 6, 1), (10, 4, 0)])
def test_the_mosaic_puts_each_tile_at_its_origin_and_pointing_finds_it(units, columns, gap):
    rng = np.random.default_rng(units + columns)
    h, w = 5, 7
    levels = rng.integers(0, 511, (units, h, w)).astype(np.uint16)
    layout = Layout(units, h, w, columns, gap)
    picture = layout.mosaic(levels, SIGNED)
    assert picture.shape == (layout.height, layout.width, 4) and picture.dtype == np.uint8
    assert layout.height == -(-units // columns) * (h + gap) - gap and layout.width == columns * (w + gap) - gap
    covered = np.zeros(picture.shape[:2], bool)
    for unit in range(units):
        x, y = layout.origin(unit)
        np.testing.assert_array_equal(picture[y:y + h, x:x + w], SIGNED[levels[unit]])
        covered[y:y + h, x:x + w] = True
        assert layout.unit_at(x, y) == unit and layout.unit_at(x + w - 0.5, y + h - 0.5) == unit
        assert layout.unit_at(x + w + gap - 0.5, y) in (unit, None)   # the gap after a tile is still that tile
    assert np.all(picture[~covered] == GAP_RGBA)
    assert layout.unit_at(-1, 0) is None and layout.unit_at(0, layout.height) is None
    if units % columns:
        x, y = layout.origin(units - 1)
        assert layout.unit_at(x + w + gap, y) is None                   # past the last tile of a short row


def test_columns_follow_the_width_shown():
    assert columns_for(1000, 128) == 16
    assert columns_for(320, 128) == 8
    assert columns_for(320, 3) == 3
    assert columns_for(0, 128) == 1


def test_activations_are_the_models_first_layer_for_the_input():
    x = np.random.default_rng(1).random(784).astype(np.float32)
    mlp = K.load(KNOWLEDGE / "digits.npz")
    values, maps = activations(mlp, x)
    want = np.maximum(x.astype(np.float64) @ mlp.params["W1"] + mlp.params["b1"], 0)
    assert maps is None and values.shape == (128,)
    np.testing.assert_allclose(values, want, rtol=1e-5, atol=1e-5)

    cnn = CNN(conv1=4, conv2=6, seed=2)
    values, maps = activations(cnn, x)
    image = x.reshape(28, 28).astype(np.float64)
    k1, b1 = cnn.params["K1"].astype(np.float64), cnn.params["b1"]
    want = np.zeros((4, 24, 24))
    for i in range(24):
        for j in range(24):
            want[:, i, j] = np.einsum("ab,abf->f", image[i:i + 5, j:j + 5], k1[:, :, 0, :]) + b1
    want = np.maximum(want, 0)
    np.testing.assert_allclose(maps, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(values, want.max(axis=(1, 2)), rtol=1e-5, atol=1e-5)

