"""MNIST data blocks: the codec, the manifest, and reading a built folder.

A block is an `.npz` holding `images` uint8 (n, 28, 28) and `labels` uint8 (n,). Blocks are
written with fixed zip timestamps so the same samples always give the same bytes; that makes
content-addressed names (`train-003-1a2b3c4d.npz`) stable and lets browsers cache them forever.
Pure numpy + stdlib: the same code decodes blocks in CPython and in Pyodide.
"""
import hashlib
import io
import json
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "falken-mnist-blocks"
MANIFEST_VERSION = 1
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
# A block larger than this is refused before any array is allocated (a block is ~500 samples).
MAX_BLOCK_SAMPLES = 100_000
# Fixed zip member time: np.savez stamps the current time, which would change every file name.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
BLOCK_MEMBERS = ("images", "labels")


class BlockError(ValueError):
    """A block or manifest that must not be used; the message says what is wrong."""


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def _check_arrays(images, labels):
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise BlockError(f"images and labels must be uint8, got {images.dtype} and {labels.dtype}")
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise BlockError(f"images must have shape (n, 28, 28), got {images.shape}")
    if labels.shape != (images.shape[0],):
        raise BlockError(f"labels must have shape ({images.shape[0]},), got {labels.shape}")
    if images.shape[0] == 0:
        raise BlockError("block holds no samples")
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise BlockError(f"label {int(labels.max())} is not a digit 0-9")


def encode_block(images, labels):
    """The .npz bytes of one block (uncompressed members; S3 serves them gzip-encoded)."""
    images, labels = np.ascontiguousarray(images), np.ascontiguousarray(labels)
    _check_arrays(images, labels)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in zip(BLOCK_MEMBERS, (images, labels)):
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", ZIP_DATE_TIME), member.getvalue())
    return out.getvalue()


def _read_member(archive, name, expected_ndim):
    """Read one .npy member, checking its header before allocating anything."""
    try:
        raw = archive.read(f"{name}.npy")
    except KeyError:
        raise BlockError(f"block has no '{name}' array") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:  # CRC or truncation
        raise BlockError(f"'{name}' array is damaged: {error}") from None
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran, dtype = read_header(stream)
    except ValueError as error:
        raise BlockError(f"'{name}' is not a valid .npy array: {error}") from None
    if dtype != np.uint8 or fortran or len(shape) != expected_ndim:
        raise BlockError(f"'{name}' must be a C-order uint8 array with {expected_ndim} dimensions, "
                         f"got {dtype} {shape}")
    if shape[0] > MAX_BLOCK_SAMPLES:
        raise BlockError(f"'{name}' declares {shape[0]} samples (more than {MAX_BLOCK_SAMPLES})")
    expected = int(np.prod(shape))
    body = raw[stream.tell():]
    if len(body) != expected:
        raise BlockError(f"'{name}' holds {len(body)} bytes, its header declares {expected}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


class DigestedBytes(bytes):
    """Bytes with their sha256 taken where they were fetched: the browser worker hashes a block
    with WebCrypto, natively, where hashlib in Pyodide took 2 ms of every block fetched."""

    def __new__(cls, data, sha256):
        self = super().__new__(cls, data)
        self.sha256 = sha256
        return self


def decode_block(data, expected_sha256=None):
    """(images uint8 (n,28,28), labels uint8 (n,)) from block bytes, or raise BlockError."""
    if not isinstance(data, bytes):
        data = bytes(data)
    if expected_sha256 is not None:
        actual = data.sha256 if isinstance(data, DigestedBytes) else sha256_hex(data)
        if actual != expected_sha256:
            raise BlockError(f"sha256 mismatch: got {actual[:16]}…, expected {expected_sha256[:16]}… "
                             f"({len(data)} bytes)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise BlockError(f"not an .npz archive ({len(data)} bytes): {error}") from None
    with archive:
        names = sorted(archive.namelist())
        if names != sorted(f"{n}.npy" for n in BLOCK_MEMBERS):
            raise BlockError(f"block must hold exactly images.npy and labels.npy, got {names}")
        images = _read_member(archive, "images", 3)
        labels = _read_member(archive, "labels", 1)
    _check_arrays(images, labels)
    return images, labels


def block_file_name(split, index, data):
    return f"{split}-{index:03d}-{sha256_hex(data)[:8]}.npz"


def write_blocks(out_dir, splits, *, block_size, seed, source, held_out="test"):
    """Write blocks and manifest.json for {split: (images, labels)} into out_dir; return the manifest.

    Samples are written in the order given (the caller shuffles); the last block of a split may
    be shorter.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries, split_totals = [], {}
    for split, (images, labels) in splits.items():
        count = len(labels)
        split_totals[split] = {"count": count, "blocks": 0}
        for index, start in enumerate(range(0, count, block_size)):
            data = encode_block(images[start:start + block_size], labels[start:start + block_size])
            name = block_file_name(split, index, data)
            (out_dir / name).write_bytes(data)
            n = min(block_size, count - start)
            entries.append({"file": name, "split": split, "count": n, "sha256": sha256_hex(data),
                            "bytes": len(data)})
            split_totals[split]["blocks"] += 1
    manifest = {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "source": source, "seed": seed,
        "block_size": block_size, "image_shape": list(IMAGE_SHAPE), "held_out_split": held_out,
        "splits": split_totals, "total_count": sum(e["count"] for e in entries),
        "total_bytes": sum(e["bytes"] for e in entries), "blocks": entries,
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def check_manifest(manifest):
    """Return the manifest if it has the fields the cache and loaders rely on, else BlockError."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BlockError(f"not a {MANIFEST_FORMAT} manifest")
    if manifest.get("version") != MANIFEST_VERSION:
        raise BlockError(f"manifest version {manifest.get('version')!r} is not {MANIFEST_VERSION}")
    blocks = manifest.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        raise BlockError("manifest lists no blocks")
    for entry in blocks:
        missing = {"file", "split", "count", "sha256", "bytes"} - set(entry)
        if missing:
            raise BlockError(f"manifest block entry {entry.get('file', '?')} lacks {sorted(missing)}")
        if "/" in entry["file"] or "\\" in entry["file"] or entry["file"].startswith("."):
            raise BlockError(f"manifest block file name {entry['file']!r} is not a plain name")
    return manifest


def read_manifest(url):
    """The manifest at `url` (http(s) URL or local path), checked.

    Uses urllib so the same call works in CPython and in a Pyodide worker once
    `pyodide_http.patch_all()` has routed urllib through the browser.
    """
    if "://" not in str(url):
        return check_manifest(json.loads(Path(url).read_text()))
    with urllib.request.urlopen(url, timeout=30) as response:
        # CPython raises HTTPError for an error status; pyodide-http's urlopen returns it.
        if response.status >= 400:
            raise BlockError(f"{url}: the server answered HTTP {response.status}")
        try:
            return check_manifest(json.loads(response.read().decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BlockError(f"{url} is not a JSON manifest ({error})") from None


def block_url(manifest_url, file_name):
    """Absolute URL of a block listed in the manifest at manifest_url."""
    return urllib.parse.urljoin(str(manifest_url), file_name)


def split_entries(manifest, split):
    entries = [e for e in manifest["blocks"] if e["split"] == split]
    if not entries:
        splits = sorted({e["split"] for e in manifest["blocks"]})
        raise BlockError(f"manifest has no '{split}' blocks (splits: {', '.join(splits)})")
    return entries


def load_split(data_dir, split):
    """All samples of `split` from a built folder: (images uint8 (n,28,28), labels uint8 (n,)).

    Every block is sha256-checked against the manifest.
    """
    data_dir = Path(data_dir)
    manifest = read_manifest(data_dir / MANIFEST_NAME)
    images, labels = [], []
    for entry in split_entries(manifest, split):
        try:
            block_images, block_labels = decode_block((data_dir / entry["file"]).read_bytes(),
                                                      entry["sha256"])
        except BlockError as error:
            raise BlockError(f"{entry['file']}: {error}") from None
        if len(block_labels) != entry["count"]:
            raise BlockError(f"{entry['file']}: holds {len(block_labels)} samples, manifest says "
                             f"{entry['count']}")
        images.append(block_images)
        labels.append(block_labels)
    return np.concatenate(images), np.concatenate(labels)
