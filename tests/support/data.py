"""Test data: a fresh build of the embedded MNIST blocks (static/data may hold another set)."""
import numpy as np

from models import blocks
from devkit import make_data


def build_embedded(out_dir):
    splits, source = make_data.embedded_splits(make_data.SEED)
    make_data.build(out_dir, splits, source)
    return out_dir


def row_keys(images):
    """One hashable key per sample, to compare what a consumer got with what was built."""
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    return [row.tobytes() for row in flat]


def train_keys(data_dir):
    images, _ = blocks.load_split(data_dir, "train")
    return row_keys(images)


def batch_keys(x):
    pixels = np.rint(np.asarray(x) * 255).astype(np.uint8)
    assert np.allclose(pixels / 255, x, atol=1e-6), "batch values are not uint8 pixels / 255"
    return row_keys(pixels)
