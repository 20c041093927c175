"""models/products.py: the products Pyodide runs (einsum, no BLAS) give matmul's sums, in CPython."""
import numpy as np
import pytest

from models import products
from models.products import DOT_DEPTH, DOT_ROWS, einsum_dot

# (rows, depth, cols): each kernel, and each side of both thresholds
SHAPES = [(1, 150, 128), (DOT_ROWS - 1, 450, 128), (DOT_ROWS, DOT_DEPTH - 1, 128), (DOT_ROWS, DOT_DEPTH, 10),
          (128, 520, 128), (2048, 400, 32), (576, 25, 16)]


@pytest.mark.parametrize("rows,depth,cols", SHAPES)
@pytest.mark.parametrize("transposed", [False, True])
def test_einsum_products_give_matmuls_sums(rows, depth, cols, transposed):
    rng = np.random.default_rng(rows + depth)
    # the models pass transposed views too (xᵀ·dh, colsᵀ·dz): a copy must not be skipped wrongly
    a = rng.standard_normal((depth, rows)).astype(np.float32).T if transposed else \
        rng.standard_normal((rows, depth)).astype(np.float32)
    b = rng.standard_normal((depth, cols)).astype(np.float32)
    want = a.astype(np.float64) @ b
    out = np.full((rows, cols), np.nan, np.float32)
    got = einsum_dot(a, b, out=out)
    assert got is out and got.dtype == np.float32
    assert np.allclose(got, want, rtol=1e-4, atol=1e-4 * np.sqrt(depth))
    assert np.allclose(einsum_dot(a, b.T.copy().T), want, rtol=1e-4, atol=1e-4 * np.sqrt(depth))


def test_the_dot_kernel_is_taken_only_past_both_thresholds(monkeypatch):
    calls = []
    real = np.einsum
    monkeypatch.setattr(np, "einsum", lambda spec, *ops, **kw: calls.append(spec) or real(spec, *ops, **kw))
    for rows, depth in ((DOT_ROWS, DOT_DEPTH), (DOT_ROWS - 1, DOT_DEPTH), (DOT_ROWS, DOT_DEPTH - 1)):
        einsum_dot(np.ones((rows, depth), np.float32), np.ones((depth, 8), np.float32))
    assert calls == ["ij,kj->ik", "ij,jk->ik", "ij,jk->ik"]


def test_with_blas_dot_is_matmul(monkeypatch):
    a, b = np.ones((64, 100), np.float32), np.ones((100, 3), np.float32)
    monkeypatch.setattr(np, "einsum", None)          # would fail if called
    assert not products.NO_BLAS
    assert (products.dot(a, b) == 100).all()
