"""Turn a drawing into an MNIST-style input, the way MNIST itself was made:
crop to the ink's bounding box, scale it to fit 20x20 (keeping the aspect ratio), then place it
in a 28x28 field so that its centre of mass is at the centre.
"""
import numpy as np

INK = 0.05     # values at or below this count as background
BOX = 20       # the digit's longer side after scaling
SIDE = 28      # MNIST field


def _area_matrix(n_in, n_out):
    """(n_out, n_in) matrix whose rows average the input cells each output cell covers."""
    edges = np.linspace(0, n_in, n_out + 1)
    cells = np.arange(n_in)
    # overlap of output cell [lo, hi) with input cell [i, i+1), vectorised (no Python loops)
    M = np.minimum(edges[1:, None], cells + 1) - np.maximum(edges[:-1, None], cells)
    np.maximum(M, 0, out=M)
    M /= (edges[1:] - edges[:-1])[:, None]
    return M


def resize(img, h, w):
    """Area-average resample of a 2-D array to (h, w): good for shrinking big canvases."""
    return _area_matrix(img.shape[0], h) @ img @ _area_matrix(img.shape[1], w).T


def is_empty(grid):
    g = np.asarray(grid, float)
    return g.size == 0 or not np.isfinite(g).all() or g.max() <= INK


def drawing_to_mnist(grid):
    """2-D array (any size; ink 1 on background 0) -> (784,) float32 in [0, 1].

    An empty drawing gives all zeros (check is_empty() to tell the user to draw something)."""
    g = np.asarray(grid, float)
    if g.ndim != 2:
        raise ValueError(f"expected a 2-D drawing, got shape {g.shape}")
    if is_empty(g):
        return np.zeros(SIDE * SIDE, np.float32)
    g = np.clip(g, 0, 1)
    # 1. crop to the ink's bounding box
    rows, cols = np.flatnonzero((g > INK).any(axis=1)), np.flatnonzero((g > INK).any(axis=0))
    g = g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
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
    top = int(np.clip(round(SIDE / 2 - 0.5 - cy), 0, SIDE - nh))
    left = int(np.clip(round(SIDE / 2 - 0.5 - cx), 0, SIDE - nw))
    out = np.zeros((SIDE, SIDE), np.float32)
    out[top:top + nh, left:left + nw] = g
    return out.reshape(-1)
