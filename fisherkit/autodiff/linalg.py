"""Weighted cross products ``A' diag(w) B`` over rows, in blocks to bound memory.

A design of ``None`` stands for a column of ones (a scalar parameter), so its products
reduce to sums without materializing the column.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import dsyrk

__all__ = ["weighted_cross", "weighted_gram", "gram_and_product", "unit_diagonal", "scaled_eigh",
           "group_sums", "ROW_BLOCK"]

#: rows per block of a row-major design: a block of 50 float64 columns (1.6 MB) stays in cache
ROW_BLOCK = 4096


def gram_and_product(X: np.ndarray, w: np.ndarray, u: np.ndarray | None = None):
    """``X' diag(w) X`` and ``X' u`` from one pass over the rows of ``X``.

    Where every weight has one sign, a block of rows contributes ``Z' Z`` with
    ``Z = sqrt(|w|) X``, handed to BLAS ``dsyrk``, which forms only one triangle (half the
    flops of a general product); equal weights need no scaled copy at all. Otherwise a
    block contributes a general product. Extra memory is one block, ``O(block x p)``.

    Designs are column-major as :mod:`fisherkit.models.formula` builds them: the scaled block is
    then formed column by column (long contiguous runs) and ``X' u`` is one matrix-vector
    product. A row-major ``X`` (rows taken by an index) is handled block by block, each
    block read once while it is in cache for both products.

    Parameters
    ----------
    X : ndarray (n, p)
    w : ndarray (n,)
    u : ndarray (n,), optional

    Returns
    -------
    gram : ndarray (p, p), symmetric
    product : ndarray (p,) or None

    Examples
    --------
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> gram, product = gram_and_product(X, np.array([1.0, 2.0, 3.0]), np.ones(3))
    >>> gram, product
    (array([[56., 72.],
           [72., 94.]]), array([6., 9.]))
    """
    n, p = X.shape
    w = np.asarray(w, dtype=float)
    product = None if u is None else np.zeros(p)
    if p == 0 or n == 0:
        return np.zeros((p, p)), product
    columns = X.flags.f_contiguous and not X.flags.c_contiguous
    if columns and u is not None:
        product, u = np.asarray(u, dtype=float) @ X, None
    low, high = float(np.min(w)), float(np.max(w))
    if low == high:
        # equal weights (a start with every slope at zero): X' X itself, no scaled copy
        if columns:
            return low * _symmetric(dsyrk(1.0, X, trans=1, lower=0)), product
        upper = np.zeros((p, p), order="F")
        for a in range(0, n, ROW_BLOCK):
            Xb = X[a:a + ROW_BLOCK]
            upper = dsyrk(1.0, Xb.T, beta=1.0, c=upper, trans=0, lower=0, overwrite_c=1)
            if u is not None:
                product += u[a:a + ROW_BLOCK] @ Xb
        return low * _symmetric(upper), product
    sign = 1.0 if low >= 0 else (-1.0 if high <= 0 else 0.0)
    if sign == 0.0:
        buffer = np.empty((min(ROW_BLOCK, n), p))
        gram = np.zeros((p, p))
        for a in range(0, n, ROW_BLOCK):
            Xb = X[a:a + ROW_BLOCK]
            gram += Xb.T @ np.multiply(Xb, w[a:a + ROW_BLOCK, None], out=buffer[:len(Xb)])
            if u is not None:
                product += u[a:a + ROW_BLOCK] @ Xb
        return 0.5 * (gram + gram.T), product
    root = np.sqrt(w if sign > 0 else -w)
    # upper triangle, Fortran order, so that dsyrk accumulates in place
    upper = np.zeros((p, p), order="F")
    # column-major blocks are longer: each of their columns is one contiguous run
    step, order = (4 * ROW_BLOCK, "F") if columns else (ROW_BLOCK, "C")
    buffer = np.empty((min(step, n), p), order=order)
    for a in range(0, n, step):
        Xb = X[a:a + step]
        m = len(Xb)
        # dsyrk takes only contiguous blocks; the last, shorter one gets its own
        Z = buffer if m == len(buffer) else np.empty((m, p), order=order)
        np.multiply(Xb, root[a:a + step, None], out=Z)
        if columns:
            upper = dsyrk(1.0, Z, beta=1.0, c=upper, trans=1, lower=0, overwrite_c=1)
        else:
            # Z is row-major, so Z.T is a column-major p x m matrix and dsyrk gives Z' Z
            upper = dsyrk(1.0, Z.T, beta=1.0, c=upper, trans=0, lower=0, overwrite_c=1)
            if u is not None:
                product += u[a:a + step] @ Xb
    return sign * _symmetric(upper), product


def _symmetric(upper: np.ndarray) -> np.ndarray:
    """The full symmetric matrix from its upper triangle."""
    gram = np.triu(upper)
    gram += np.triu(upper, 1).T
    return gram


def weighted_gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X' diag(w) X``, symmetric, with O(block x p) extra memory (see
    :func:`gram_and_product`).

    Examples
    --------
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> weighted_gram(X, np.array([1.0, 2.0, 3.0]))
    array([[56., 72.],
           [72., 94.]])
    """
    return gram_and_product(X, w)[0]


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


def unit_diagonal(A: np.ndarray, *, absolute: bool = True, tiny: float = 0.0):
    """Jacobi scaling: ``(A / outer(d, d), d)`` with ``d`` the square roots of the diagonal.

    The scaled matrix has a unit diagonal, so eigenvalue thresholds and condition numbers
    no longer depend on the units of the parameters. Coordinates whose diagonal is at most
    ``tiny`` (its absolute value, with ``absolute``; else the signed value, so that a
    negative diagonal counts as none) are left unscaled.

    Examples
    --------
    >>> S, d = unit_diagonal(np.array([[4.0, 2.0], [2.0, 9.0]]))
    >>> S.round(4).tolist(), d.tolist()
    ([[1.0, 0.3333], [0.3333, 1.0]], [2.0, 3.0])
    """
    diag = np.diag(A)
    if absolute:
        diag = np.abs(diag)
    d = np.sqrt(np.where(diag > tiny, diag, 1.0))
    return A / np.outer(d, d), d


def scaled_eigh(A: np.ndarray, *, absolute: bool = True):
    """Eigenvalues and eigenvectors of the Jacobi-scaled symmetric ``A`` (see
    :func:`unit_diagonal`) and the scale ``d``: ``V[:, j] / d`` is the direction of the
    ``j``-th eigenvalue in the original coordinates.

    Examples
    --------
    >>> lam, V, d = scaled_eigh(np.array([[4.0, 0.0], [0.0, 9.0]]))
    >>> lam.tolist()
    [1.0, 1.0]
    """
    S, d = unit_diagonal(A, absolute=absolute)
    lam, V = np.linalg.eigh(S)
    return lam, V, d


def group_sums(codes: np.ndarray, u: np.ndarray, X: np.ndarray | None, n_groups: int):
    """``sum_{i in g} u_i x_i'`` for every group ``g`` (``codes`` from 0), ``n_groups x p``,
    or the sums of ``u`` alone as one column where ``X`` is None; no ``n x p`` product.

    Examples
    --------
    >>> group_sums(np.array([0, 1, 0]), np.array([1.0, 2.0, 3.0]), None, 2)
    array([[4.],
           [2.]])
    """
    if X is None:
        return np.bincount(codes, weights=u, minlength=n_groups)[:, None]
    return np.column_stack([np.bincount(codes, weights=u * X[:, j], minlength=n_groups)
                            for j in range(X.shape[1])])
