"""Exact derivatives from autograd, and what the second derivative says about a point.

Two families of operators live here. The general ones (``gradient``, ``jacobian``,
``hessian``, ``hessian_vector_product``) work on any scalar function of a flat parameter
vector. The eta-space one (``eta_derivatives``) serves index models: for a per-observation
log-density of an ``n x K`` matrix of linear predictors it returns the first and second
derivatives of every row at once, which design matrices then turn into a score and a
Hessian with one pass over the data.
"""

from __future__ import annotations

from typing import Callable

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.core import make_vjp
from autograd.tracer import getval

__all__ = [
    "gradient",
    "total_derivatives",
    "jacobian",
    "hessian",
    "hessian_vector_product",
    "value_gradient_hessian",
    "eta_derivatives",
    "is_symmetric",
    "classify_stationary_point",
]


def gradient(f: Callable, x: np.ndarray) -> np.ndarray:
    """Gradient of a scalar function at ``x`` (reverse mode).

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> gradient(lambda t: anp.sum(t ** 2), np.array([1.0, 2.0]))
    array([2., 4.])
    """
    return np.asarray(autograd.grad(f)(np.asarray(x, dtype=float)))


def jacobian(f: Callable, x: np.ndarray) -> np.ndarray:
    """Jacobian ``d f_i / d x_j`` of a vector-valued function, shape ``(m, p)``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> jacobian(lambda t: anp.array([t[0] * t[1], t[0]]), np.array([2.0, 3.0]))
    array([[3., 2.],
           [1., 0.]])
    """
    x = np.asarray(x, dtype=float)
    return np.asarray(autograd.jacobian(f)(x)).reshape(-1, x.size)


def hessian(f: Callable, x: np.ndarray) -> np.ndarray:
    """Hessian of a scalar function, symmetrized (its asymmetry is rounding only).

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> hessian(lambda t: t[0] ** 2 * t[1], np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    x = np.asarray(x, dtype=float)
    H = np.asarray(autograd.hessian(f)(x)).reshape(x.size, x.size)
    return 0.5 * (H + H.T)


def total_derivatives(f: Callable, x: np.ndarray, second: bool = True):
    """``(value, gradient, Hessian or None)`` of a traceable total ``f`` at ``x``, with
    ``-inf`` and NaN derivatives where the value is not finite (outside the domain), and
    numpy's warnings there kept quiet: what a model whose log-likelihood is one autograd
    function returns from its ``derivatives``.

    Examples
    --------
    >>> total_derivatives(lambda t: -t[0] ** 2, np.array([1.0]), second=False)
    (-1.0, array([-2.]), None)
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        if second:
            value, grad, hess = value_gradient_hessian(f, x)
        else:
            value, grad = autograd.value_and_grad(f)(x)
            hess = None
    value = float(value)
    if not np.isfinite(value):
        nan = np.full(x.size, np.nan)
        return -np.inf, nan, np.outer(nan, nan) if second else None
    return value, np.asarray(grad, dtype=float), hess


def value_gradient_hessian(f: Callable, x: np.ndarray):
    """``f(x)``, its gradient and its (symmetrized) Hessian from one trace.

    The gradient is traced once; its value is the gradient and its reverse pass along each
    basis vector a row of the Hessian: one forward and ``p + 1`` reverse passes, where
    separate calls of :func:`gradient` and :func:`hessian` would trace ``f`` twice. Where
    ``f(x)`` is not finite the Hessian is NaN, without its reverse passes.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> v, g, H = value_gradient_hessian(lambda t: t[0] ** 2 * t[1], np.array([1.0, 2.0]))
    >>> float(v), g, H
    (2.0, array([4., 1.]), array([[4., 2.],
           [2., 0.]]))
    """
    x = np.asarray(x, dtype=float)
    kept = {}

    def value_and_aux(t):
        value = f(t)
        return value, value

    def grad_keeping_value(t):
        g, value = autograd.grad_and_aux(value_and_aux)(t)
        kept["value"] = getval(value)
        return g

    reverse, g = make_vjp(grad_keeping_value, x)
    if not np.isfinite(kept["value"]):
        # outside the function's domain (an optimizer's trial step): no reverse passes
        return kept["value"], np.asarray(g, dtype=float), np.full((x.size, x.size), np.nan)
    H = np.empty((x.size, x.size))
    seed = np.zeros(x.size)
    for j in range(x.size):
        seed[j] = 1.0
        H[j] = np.reshape(reverse(seed), -1)
        seed[j] = 0.0
    return kept["value"], np.asarray(g, dtype=float), 0.5 * (H + H.T)


def hessian_vector_product(f: Callable, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``H(x) v`` without forming ``H``: the gradient of ``grad f(x) . v``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> hessian_vector_product(lambda t: anp.sum(t ** 3), np.array([1.0, 2.0]), np.ones(2))
    array([ 6., 12.])
    """
    g = autograd.grad(f)
    return np.asarray(autograd.grad(lambda t: anp.dot(g(t), v))(np.asarray(x, dtype=float)))


def eta_derivatives(loglik_rows: Callable, E: np.ndarray, second: bool = True):
    """Per-row log-likelihood and its derivatives in the linear predictors.

    Parameters
    ----------
    loglik_rows : callable
        Maps an ``(n, K)`` array to the ``n`` per-row log-likelihoods, row ``i`` depending
        on row ``i`` only.
    E : ndarray of shape (n, K)
    second : bool
        Also return the second derivatives.

    Returns
    -------
    values : ndarray (n,)
    U : ndarray (n, K)
        ``U[i, j] = d l_i / d E[i, j]``.
    W : ndarray (n, K, K) or None
        ``W[i, j, k] = d2 l_i / d E[i, j] d E[i, k]``.

    Notes
    -----
    Because rows are independent, the gradient of the *sum* over rows is the matrix of
    per-row gradients, and the gradient of the sum of one column of it gives one slice of
    per-row second derivatives. The forward pass and the first reverse pass are traced
    once; each slice is then one more reverse pass through that trace: one forward and
    ``K + 1`` reverse passes in all, each ``O(n K)``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> v, U, W = eta_derivatives(lambda E: -anp.exp(E[:, 0]), np.zeros((3, 1)))
    >>> U[:, 0], W[:, 0, 0]
    (array([-1., -1., -1.]), array([-1., -1., -1.]))
    """
    E = np.asarray(E, dtype=float)
    n, k = E.shape
    # differentiate with respect to a list of columns rather than the matrix: indexing a
    # traced matrix by column would cost a scatter-add per column in every reverse pass
    cols = [np.ascontiguousarray(E[:, j]) for j in range(k)]

    def total_and_rows(cs):
        rows = loglik_rows(_ColumnView(cs))
        return anp.sum(rows), rows

    if not second:
        U, rows = autograd.grad_and_aux(total_and_rows)(cols)
        return np.asarray(rows), np.column_stack(U), None
    kept = {}

    def score_columns(cs):
        U, rows = autograd.grad_and_aux(total_and_rows)(cs)
        kept["rows"] = getval(rows)
        return U

    second_pass, U = make_vjp(score_columns, cols)
    W = np.empty((n, k, k))
    zero = np.zeros(n)
    for j in range(k):
        seed = [zero] * k
        seed[j] = np.ones(n)
        W[:, j, :] = np.column_stack([np.broadcast_to(w, (n,)) for w in second_pass(seed)])
    return np.asarray(kept["rows"]), np.column_stack(U), W


class _ColumnView:
    """Columns passed as a list but read as ``E[:, j]``, so callers can index either way."""

    def __init__(self, cols):
        self.cols = cols
        self.shape = (len(cols[0]) if np.ndim(cols[0]) else 1, len(cols))

    def __getitem__(self, key):
        rows, j = key
        if not (isinstance(rows, slice) and rows == slice(None)):
            raise IndexError("only whole columns E[:, j] can be taken")
        return self.cols[j]


def is_symmetric(A: np.ndarray, rtol: float = 1e-10) -> bool:
    """Whether a square matrix equals its transpose up to ``rtol`` of its largest entry."""
    A = np.asarray(A, dtype=float)
    scale = max(np.max(np.abs(A)), np.finfo(float).tiny)
    return bool(np.max(np.abs(A - A.T)) <= rtol * scale)


def classify_stationary_point(hess: np.ndarray, rtol: float = 1e-9) -> str:
    """``"maximum"``, ``"minimum"``, ``"saddle"`` or ``"degenerate"`` from Hessian eigenvalues.

    Eigenvalues within ``rtol`` times the largest in absolute value count as zero; a point
    with zero eigenvalues and no sign change cannot be classified by second order alone.

    Examples
    --------
    >>> classify_stationary_point(np.diag([-2.0, -1.0]))
    'maximum'
    >>> classify_stationary_point(np.diag([-2.0, 1.0]))
    'saddle'
    """
    eig = np.linalg.eigvalsh(0.5 * (hess + np.transpose(hess)))
    tol = rtol * max(np.max(np.abs(eig)), np.finfo(float).tiny)
    neg, pos = np.sum(eig < -tol), np.sum(eig > tol)
    if neg and pos:
        return "saddle"
    if neg + pos < len(eig):
        return "degenerate"
    return "maximum" if neg else "minimum"
