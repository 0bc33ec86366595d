"""Weighted cross products ``A' diag(w) B`` over rows, in blocks to bound memory.

A design of ``None`` stands for a column of ones (a scalar parameter), so its products
reduce to sums without materializing the column.
"""

from __future__ import annotations

import numpy as np

__all__ = ["weighted_cross", "weighted_gram", "ROW_BLOCK"]

#: rows per block: small enough that a block of 50 float64 columns (1.6 MB) stays in cache
ROW_BLOCK = 4096


def weighted_gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X' diag(w) X``, symmetric, with O(block x p) extra memory.

    Where every weight has one sign, each block is ``Z' Z`` with ``Z = sqrt(|w|) X``, which
    NumPy hands to BLAS syrk (half the flops of a general product); otherwise blocks of
    general products.

    Examples
    --------
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> weighted_gram(X, np.array([1.0, 2.0, 3.0]))
    array([[56., 72.],
           [72., 94.]])
    """
    n, p = X.shape
    out = np.zeros((p, p))
    if np.all(w >= 0) or np.all(w <= 0):
        sign = 1.0 if np.all(w >= 0) else -1.0
        root = np.sqrt(np.abs(w))
        for a in range(0, n, ROW_BLOCK):
            Z = X[a:a + ROW_BLOCK] * root[a:a + ROW_BLOCK, None]
            out += Z.T @ Z
        return sign * 0.5 * (out + out.T)
    for a in range(0, n, ROW_BLOCK):
        Xb = X[a:a + ROW_BLOCK]
        out += Xb.T @ (Xb * w[a:a + ROW_BLOCK, None])
    return 0.5 * (out + out.T)


def weighted_cross(A: np.ndarray | None, w: np.ndarray, B: np.ndarray | None) -> np.ndarray:
    """``A' diag(w) B`` where ``None`` means a single column of ones.

    Examples
    --------
    >>> weighted_cross(None, np.array([1.0, 2.0]), np.array([[1.0], [3.0]]))
    array([[7.]])
    """
    if A is None and B is None:
        return np.array([[np.sum(w)]])
    if A is None:
        return (w @ B)[None, :]
    if B is None:
        return (A.T @ w)[:, None]
    if A is B:
        return weighted_gram(A, w)
    out = np.zeros((A.shape[1], B.shape[1]))
    for a in range(0, A.shape[0], ROW_BLOCK):
        out += A[a:a + ROW_BLOCK].T @ (B[a:a + ROW_BLOCK] * w[a:a + ROW_BLOCK, None])
    return out
