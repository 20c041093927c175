"""Which data set a digits knowledge file was trained on, and finding that data again.

A built blocks folder (devkit.make_data) is identified by the sha256 of its manifest.json:
the manifest lists every block's sha256, the source, the seed and the split, so equal
manifests mean equal samples in equal splits (and load_split checks each block against it).
Training records that identity in `meta.metrics.data`; evaluation looks for a folder with
the same manifest and says plainly when the figures are on anything else.
"""
import hashlib
import json
from pathlib import Path

from models import blocks

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = "static/data/mnist"      # where `make data` builds the blocks, relative to ROOT


def identity(data_dir):
    """{"source", "manifest_sha256", "path", "<split>_count"...} of a built blocks folder.

    Raises blocks.BlockError or OSError when data_dir holds no readable manifest."""
    try:
        raw = (Path(data_dir) / blocks.MANIFEST_NAME).read_bytes()
    except FileNotFoundError:
        raise blocks.BlockError(
            f"{data_dir} holds no {blocks.MANIFEST_NAME}, so it is not a built blocks folder "
            f"(`make data` builds one; IDX files need `make data MNIST_DIR=<their folder>` "
            f"first)") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise blocks.BlockError(f"{blocks.MANIFEST_NAME} is not JSON ({error})") from None
    blocks.check_manifest(manifest)
    out = {"source": manifest.get("source", "unknown"),
           "manifest_sha256": hashlib.sha256(raw).hexdigest(), "path": _shown(data_dir)}
    for split, totals in sorted(manifest.get("splits", {}).items()):
        out[f"{split}_count"] = totals.get("count")
    return out


def _shown(data_dir):
    """The folder relative to the repository when it is inside it (no machine paths in
    shipped files), else as an absolute path."""
    path = Path(data_dir).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def recorded(metrics):
    """The identity stored in a file's metrics, or None (files trained before it was recorded
    hold only a path string there, or nothing)."""
    data = metrics.get("data")
    if isinstance(data, dict) and isinstance(data.get("manifest_sha256"), str):
        return data
    return None


def candidates(trained_on):
    """Folders worth checking for the recorded data: its path as recorded (from here and
    from the repository root), then the default folder."""
    path = trained_on.get("path")
    paths = ([Path(path), ROOT / path] if isinstance(path, str) else []) + [ROOT / DEFAULT_DATA]
    seen, out = set(), []
    for p in paths:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def find(trained_on):
    """A folder holding exactly the recorded data set, or None."""
    for folder in candidates(trained_on):
        try:
            found = identity(folder)
        except (OSError, blocks.BlockError):
            continue
        if found["manifest_sha256"] == trained_on["manifest_sha256"]:
            return folder
    return None


def describe(ident):
    counts = ", ".join(f"{k[:-6]} {v:,}" for k, v in ident.items()
                       if k.endswith("_count") and isinstance(v, int))
    return (f"{ident.get('source', 'unknown')} in {ident.get('path', '?')} "
            f"(manifest sha256 {ident['manifest_sha256'][:12]}…; {counts})")


def choose(metrics, asked=None):
    """Which blocks folder to score a digits file on, and what to tell the reader about it.

    asked: the folder the user named (--data), or None for "the data it was trained on, if
    it is here, else the default folder". Returns {"folder": the folder to use, "scored": its identity,
    "trained_on": the recorded identity or None, "same": True / False / None (unknown),
    "warning": a sentence or None}. Raises blocks.BlockError / OSError if the folder to use
    holds no readable manifest."""
    trained_on = recorded(metrics)
    if asked is None and trained_on is not None:
        folder = find(trained_on)
        if folder is not None:
            return {"folder": folder, "scored": identity(folder), "trained_on": trained_on,
                    "same": True, "warning": None}
    folder = Path(asked) if asked is not None else ROOT / DEFAULT_DATA
    scored = identity(folder)
    if trained_on is None:
        return {"folder": folder, "scored": scored, "trained_on": None, "same": None, "warning": None}
    same = scored["manifest_sha256"] == trained_on["manifest_sha256"]
    warning = None
    if not same:
        looked = "; looked in " + ", ".join(str(p) for p in candidates(trained_on)) if asked is None else ""
        warning = (f"these figures are NOT on the data this file was trained on. It was trained "
                   f"on {describe(trained_on)}{looked}; scoring on {describe(scored)} instead, "
                   f"a different data set. {rebuild_hint(trained_on)}")
    return {"folder": folder, "scored": scored, "trained_on": trained_on, "same": same,
            "warning": warning}


def rebuild_hint(trained_on):
    source = str(trained_on.get("source", ""))
    how = (f"`make data MNIST_DIR=<folder of the {source[4:]} IDX files>`"
           if source.startswith("idx:") else "`make data`")
    return f"To score it on its own data, rebuild that set with {how} or point --data at a copy."
