"""Matrix products for the models, shaped for the numpy they run on.

CPython's numpy has BLAS behind np.matmul. Pyodide's has none: np.matmul falls back to a plain
strided loop (~1–2 GFLOP/s there), while np.einsum has unrolled kernels of two kinds:
  "ij,jk->ik"  adds a[i, j] * b[j, :] into each output row: a short-row axpy when b is narrow;
  "ij,kj->ik"  takes dot products of a row of a with a row of bᵀ, both contiguous: the fastest
               (~4.7 GFLOP/s under Node, against ~2.4 for the first at the MLP's b128 product),
               but bᵀ (and a, if it is a transposed view) must be copied contiguous first.
So a product with enough rows to pay for that copy and a long enough reduction to fill the dot
kernel takes the second; the rest the first. The sums are the same up to float rounding.
"""
import sys

import numpy as np

NO_BLAS = sys.platform == "emscripten"      # Pyodide's numpy: no BLAS behind np.matmul
DOT_ROWS = 32       # rows of a from which copying bᵀ pays (x·W1 at batch 32: 1.05 -> 0.88 ms)
DOT_DEPTH = 64      # reduction length from which the dot kernel beats the axpy one


def dot(a, b, out=None):
    """a @ b for 2-D float arrays, through the faster einsum kernel where numpy has no BLAS."""
    if not NO_BLAS:
        return np.matmul(a, b, out=out)
    return einsum_dot(a, b, out)


def einsum_dot(a, b, out=None):
    """What dot does without BLAS (callable anywhere, so CPython tests can check its sums)."""
    if a.shape[0] >= DOT_ROWS and a.shape[1] >= DOT_DEPTH:
        return np.einsum("ij,kj->ik", np.ascontiguousarray(a), np.ascontiguousarray(b.T), out=out)
    return np.einsum("ij,jk->ik", a, b, out=out)
