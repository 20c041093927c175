"""Reader for the IDX files MNIST (and Fashion-MNIST) are published in, plain or .gz.

IDX layout (big-endian): two zero bytes, a type code (0x08 = uint8), the number of
dimensions, then one uint32 per dimension, then the data. Images are idx3 (n, 28, 28),
labels idx1 (n,). Every check names the file and says what was expected.
"""
import gzip
import struct
from pathlib import Path

import numpy as np

UBYTE_TYPE = 0x08
IMAGE_DIMS = (28, 28)
NUM_CLASSES = 10
# The four files of the official distribution, by role; each may also end in .gz.
OFFICIAL_NAMES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


class IdxError(ValueError):
    pass


def read_bytes(path):
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise IdxError(f"{path.name}: damaged gzip data ({error})") from None
    return raw


def parse_idx(raw, name, expected_ndim):
    """The uint8 array in IDX bytes `raw`, checking magic, dimensions and length."""
    if len(raw) < 4:
        raise IdxError(f"{name}: {len(raw)} bytes is too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0:
        raise IdxError(f"{name}: bad magic number 0x{raw[:4].hex()} (IDX files start with 00 00)")
    if type_code != UBYTE_TYPE:
        raise IdxError(f"{name}: data type 0x{type_code:02x}, expected 0x08 (unsigned byte)")
    if ndim != expected_ndim:
        raise IdxError(f"{name}: magic 0x{raw[:4].hex()} declares {ndim} dimensions, expected "
                       f"{expected_ndim} (magic 0x0000080{expected_ndim})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{name}: header needs {header} bytes, file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    actual = len(raw) - header
    if actual != expected:
        raise IdxError(f"{name}: dimensions {'x'.join(map(str, shape))} need {expected} data bytes, "
                       f"file has {actual} ({'truncated' if actual < expected else 'trailing data'})")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_images(path):
    images = parse_idx(read_bytes(path), Path(path).name, 3)
    if images.shape[1:] != IMAGE_DIMS:
        raise IdxError(f"{Path(path).name}: images are {images.shape[1]}x{images.shape[2]}, "
                       f"expected 28x28")
    return images


def read_labels(path):
    labels = parse_idx(read_bytes(path), Path(path).name, 1)
    if labels.size and labels.max() >= NUM_CLASSES:
        raise IdxError(f"{Path(path).name}: label {labels.max()} is outside 0-9")
    return labels


def find_file(folder, stem):
    folder = Path(folder)
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    raise IdxError(f"{folder}: neither {stem} nor {stem}.gz exists")


def read_pair(images_path, labels_path):
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(images) != len(labels):
        raise IdxError(f"{Path(images_path).name} has {len(images)} images but "
                       f"{Path(labels_path).name} has {len(labels)} labels")
    return images, labels


def read_dataset(folder):
    """{"train": (images, labels), "test": (images, labels)} from the four official files."""
    return {split: read_pair(find_file(folder, OFFICIAL_NAMES[(split, "images")]),
                             find_file(folder, OFFICIAL_NAMES[(split, "labels")]))
            for split in ("train", "test")}
