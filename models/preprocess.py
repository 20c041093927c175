"""Turn a drawing into an MNIST-style input, the way MNIST itself was made:
crop to the ink's bounding box, scale it to fit 20x20 (keeping the aspect ratio), then place it
in a 28x28 field so that its centre of mass is at the centre.
"""
from functools import lru_cache

import numpy as np

INK = 0.05     # values at or below this count as background
BOX = 20       # the digit's longer side after scaling
SIDE = 28      # MNIST field


@lru_cache(maxsize=256)
def _spans(n_in, n_out):
    """How n_in rows fall into n_out equal spans: each span's first whole row and the row its end
    lands in, the fractions of those two rows that lie before the span's start and its end, the
    spans with no row boundary inside them, and 1 / span length. float32 like the pixels (a
    float64 fraction would make every product after it float64). Cached: while a stroke is drawn
    the ink's box keeps its size over many frames."""
    edges = np.linspace(0, n_in, n_out + 1)
    whole = np.minimum(edges.astype(int), n_in - 1)        # the last edge: all of the last row
    frac = (edges - whole).astype(np.float32)[:, None]
    empty = np.flatnonzero(whole[:-1] == whole[1:])
    return whole[:-1], whole[1:], frac[:-1], frac[1:], empty, (1 / np.diff(edges)).astype(np.float32)[:, None]


def _area_rows(img, n_out):
    """img's rows area-averaged into n_out rows: output row r is the mean of the input over its
    span [r, r + 1) * n_in / n_out, a fractional input row counting by its overlap.

    The whole rows of each span are summed in one pass over img (np.add.reduceat), and the
    fractions at the span's two ends added and taken off: the live drawing is resized on every
    frame, and an averaging matrix product made n_out passes (1.3 ms of a frame in Pyodide)."""
    start, end, before_start, before_end, empty, per_row = _spans(img.shape[0], n_out)
    dtype = np.result_type(img.dtype, np.float32)          # the sums are added to in place
    sums = np.add.reduceat(img, start, axis=0, dtype=dtype)  # rows start[k] up to start[k + 1] ...
    sums[-1] -= img[-1]                                     # ... (the last one ran to the end)
    sums[empty] = 0                                         # reduceat's answer for an empty span: a row
    sums += before_end * img[end]
    sums -= before_start * img[start]
    sums *= per_row
    return sums


def resize(img, h, w):
    """Area-average resample of a 2-D array to (h, w): good for shrinking big canvases."""
    return _area_rows(_area_rows(img, h).T, w).T


def is_empty(grid):
    """Nothing in grid counts as ink, or it holds a NaN or +inf (no drawing has those)."""
    g = np.asarray(grid)
    if g.size == 0:
        return True
    top = g.max()            # NaN if any value is NaN: one pass, where isfinite().all() made two
    return not (np.isfinite(top) and top > INK)


def drawing_to_mnist(grid):
    """2-D array (any size; ink 1 on background 0) -> (784,) float32 in [0, 1].

    An empty drawing gives all zeros (check is_empty() to tell the user to draw something)."""
    g = np.asarray(grid)
    if g.ndim != 2:
        raise ValueError(f"expected a 2-D drawing, got shape {g.shape}")
    if g.size == 0:
        return np.zeros(SIDE * SIDE, np.float32)
    # 1. crop to the ink's bounding box. Columns and rows by their brightest pixel: two max
    # passes (the first also answers is_empty, NaN included), where an ink mask and its any()
    # along both axes made four, one of them strided (0.4 ms of a live frame in Pyodide)
    column_top = g.max(axis=0)
    if is_empty(column_top):
        return np.zeros(SIDE * SIDE, np.float32)
    cols = np.flatnonzero(column_top > INK)
    g = g[:, cols[0]:cols[-1] + 1]
    rows = np.flatnonzero(g.max(axis=1) > INK)
    g = np.clip(g[rows[0]:rows[-1] + 1], 0, 1)              # crop first: the clip copies only the ink
    # 2. scale so the longer side is BOX, keeping the aspect ratio
    h, w = g.shape
    s = BOX / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    g = resize(g, nh, nw)
    g /= g.max()
    # 3. paste into 28x28 with the centre of mass at the centre (clamped to stay inside)
    total = g.sum()
    cy = (g.sum(axis=1) @ np.arange(nh)) / total
    cx = (g.sum(axis=0) @ np.arange(nw)) / total
    top = min(max(round(SIDE / 2 - 0.5 - cy), 0), SIDE - nh)
    left = min(max(round(SIDE / 2 - 0.5 - cx), 0), SIDE - nw)
    out = np.zeros((SIDE, SIDE), np.float32)
    out[top:top + nh, left:left + nw] = g
    return out.reshape(-1)
