"""IDX reader: real Fashion-MNIST files from Debian, and files broken on purpose."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from models import blocks
from devkit import idx
from devkit.idx import IdxError
from devkit import make_data

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="Debian dataset-fashion-mnist is not installed")


def idx_bytes(array, type_code=0x08):
    return struct.pack(">HBB", 0, type_code, array.ndim) + \
        struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_official(folder, n_train=6, n_test=4, compress=False):
    rng = np.random.default_rng(0)
    for (split, kind), stem in idx.OFFICIAL_NAMES.items():
        n = n_train if split == "train" else n_test
        array = rng.integers(0, 256, (n, 28, 28)) if kind == "images" else rng.integers(0, 10, n)
        data = idx_bytes(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


@needs_fashion
def test_real_fashion_mnist_files():
    data = idx.read_dataset(FASHION)
    train_x, train_y = data["train"]
    test_x, test_y = data["test"]
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert np.bincount(train_y).tolist() == [6000] * 10
    assert np.bincount(test_y).tolist() == [1000] * 10
    assert train_x.max() == 255 and 0.3 < (train_x > 0).mean() < 0.7  # clothes fill the frame


@needs_fashion
def test_make_data_converts_real_idx_files(tmp_path):
    assert make_data.main(["--mnist-dir", str(FASHION), "--out", str(tmp_path / "fashion")]) == 0
    manifest = blocks.read_manifest(tmp_path / "fashion" / "manifest.json")
    assert manifest["splits"] == {"train": {"count": 60000, "blocks": 120},
                                  "test": {"count": 10000, "blocks": 20}}
    test_x, test_y = blocks.load_split(tmp_path / "fashion", "test")
    original_x, original_y = idx.read_pair(FASHION / "t10k-images-idx3-ubyte.gz",
                                           FASHION / "t10k-labels-idx1-ubyte.gz")
    # the same samples, shuffled: sort both by (label, pixels) and compare
    def canonical(x, y):
        keys = np.lexsort(np.concatenate([x.reshape(len(x), -1), y[:, None]], axis=1).T)
        return x[keys], y[keys]
    for got, want in zip(canonical(test_x, test_y), canonical(original_x, original_y)):
        assert np.array_equal(got, want)
    assert not np.array_equal(test_y, original_y)


@pytest.mark.parametrize("compress", [False, True])
def test_plain_and_gz_files_read_the_same(tmp_path, compress):
    write_official(tmp_path, compress=compress)
    data = idx.read_dataset(tmp_path)
    assert data["train"][0].shape == (6, 28, 28) and data["test"][1].shape == (4,)


def test_a_missing_file_is_named(tmp_path):
    write_official(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(IdxError, match="t10k-labels-idx1-ubyte.gz"):
        idx.read_dataset(tmp_path)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"\x01" + b[1:], "bad magic number 0x01000803"),
    (lambda b: b[:2] + b"\x0d" + b[3:], "data type 0x0d"),
    (lambda b: b[:3] + b"\x02" + b[4:], "declares 2 dimensions, expected 3"),
    (lambda b: b[:-10], "need 2352 data bytes, file has 2342 \\(truncated\\)"),
    (lambda b: b + b"\0", "file has 2353 \\(trailing data\\)"),
    (lambda b: b[:9], "header needs 16 bytes"),
    (lambda b: b[:3], "too short"),
])
def test_broken_image_files_say_what_is_wrong(tmp_path, mutate, message):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(mutate(idx_bytes(np.zeros((3, 28, 28)))))
    with pytest.raises(IdxError, match=message):
        idx.read_images(path)


def test_wrong_image_size_label_range_and_count_mismatch(tmp_path):
    (tmp_path / "big").write_bytes(idx_bytes(np.zeros((2, 32, 32))))
    with pytest.raises(IdxError, match="32x32, expected 28x28"):
        idx.read_images(tmp_path / "big")
    (tmp_path / "labels").write_bytes(idx_bytes(np.array([1, 10])))
    with pytest.raises(IdxError, match="label 10"):
        idx.read_labels(tmp_path / "labels")
    (tmp_path / "images").write_bytes(idx_bytes(np.zeros((3, 28, 28))))
    (tmp_path / "labels").write_bytes(idx_bytes(np.array([1, 2])))
    with pytest.raises(IdxError, match="3 images but labels has 2 labels"):
        idx.read_pair(tmp_path / "images", tmp_path / "labels")


def test_damaged_gzip_is_reported(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28))))[:-20])
    with pytest.raises(IdxError, match="damaged gzip"):
        idx.read_images(path)
