"""Direction rules: which way an optimizer moves from a point.

- :class:`NewtonDirection`: ``(-H)^-1 g``, with the eigenvalues of the Jacobi-scaled ``-H``
  flipped and floored where it is not positive definite (Nocedal and Wright, 2006,
  sec. 3.4);
- :class:`Preconditioned`: ``(F + damping)^-1 g`` for a Fisher metric ``F``: the expected
  information (Fisher scoring, the natural gradient; Amari, 1998), the empirical Fisher
  (outer product of scores; Kunstner et al., 2019) or a user's metric;
- :class:`GradientDirection`: the score itself.

A rule is called with the model it evaluates (the whole data or a mini-batch), the point
(with that model's score) and ``weight``, the number of rows in the data over the rows
evaluated: the plain gradient scales a batch's score by it, to estimate the total score;
a preconditioned direction needs no factor, as it cancels between ``F`` and ``g``.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from ..autodiff.linalg import unit_diagonal
from ..exceptions import ConvergenceWarning, SpecificationError, user_stacklevel
from .trace import Point

__all__ = ["newton_direction", "solve_damped", "NewtonDirection", "Preconditioned",
           "GradientDirection", "expected_fisher", "empirical_fisher", "UserMetric"]


def newton_direction(score: np.ndarray, hessian: np.ndarray) -> tuple[np.ndarray, bool]:
    """Ascent direction ``(-H)^-1 g``, modified where ``-H`` is not positive definite.

    Returns the direction and whether ``-H`` was positive definite (so that the step is a
    true Newton step).

    Examples
    --------
    >>> newton_direction(np.array([2.0, 1.0]), -np.diag([4.0, 1.0]))
    (array([0.5, 1. ]), True)
    >>> newton_direction(np.array([2.0, 1.0]), np.diag([4.0, -1.0]))[1]
    False
    """
    # coordinates with no curvature at all (a saturated start) are left unscaled
    S, d = unit_diagonal(-0.5 * (hessian + hessian.T), tiny=1e-200)
    gs = score / d
    try:
        L = np.linalg.cholesky(S)
        step = np.linalg.solve(L.T, np.linalg.solve(L, gs))
        return step / d, True
    except np.linalg.LinAlgError:
        # flip negative and floor tiny eigenvalues of the unit-diagonal matrix; the line
        # search shortens what the floor lets through in flat directions
        lam, V = np.linalg.eigh(S)
        lam = np.maximum(np.abs(lam), 1e-8 * max(np.max(np.abs(lam)), 1.0))
        return (V @ ((V.T @ gs) / lam)) / d, False


def solve_damped(P: np.ndarray, g: np.ndarray, damping: float) -> np.ndarray:
    """Solve ``(P + lambda I) d = g`` with ``lambda`` relative to P's mean diagonal.

    ``lambda`` starts at ``damping`` and is raised tenfold until ``P + lambda I`` is
    positive definite, with a :class:`~fisherkit.ConvergenceWarning` when it had to be.

    Examples
    --------
    >>> solve_damped(np.diag([2.0, 4.0]), np.array([2.0, 2.0]), 0.0)
    array([1. , 0.5])
    """
    P = 0.5 * (P + P.T)
    scale = max(float(np.mean(np.abs(np.diag(P)))), np.finfo(float).tiny)
    lam = damping
    for _ in range(20):
        try:
            L = np.linalg.cholesky(P + lam * scale * np.eye(len(g)))
            if lam > damping:
                warnings.warn(f"The Fisher matrix is singular or ill-conditioned; damping "
                              f"raised to {lam:.1e} of its mean diagonal.",
                              ConvergenceWarning, stacklevel=user_stacklevel())
            return np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:
            lam = max(lam * 10.0, 1e-12)
    return g / scale


class NewtonDirection:
    """The Newton direction of :func:`newton_direction`; it needs the Hessian.

    Examples
    --------
    >>> rule = NewtonDirection()
    >>> rule(None, Point(np.zeros(1), 0.0, np.array([1.0]), np.array([[-2.0]])), 1.0)
    (array([0.5]), True)
    """

    second = True

    def __call__(self, model, point: Point, weight: float) -> tuple[np.ndarray, bool]:
        return newton_direction(point.score, point.hessian)


def expected_fisher(model, theta: np.ndarray) -> np.ndarray:
    """The model's expected information at ``theta``."""
    return model.expected_information(theta).matrix


def empirical_fisher(model, theta: np.ndarray) -> np.ndarray:
    """The outer product of the model's per-observation scores at ``theta``."""
    return model.opg(theta)


class UserMetric:
    """A user's Fisher metric, a function of ``theta``, checked at every call: a finite
    symmetric ``p x p`` array.

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> UserMetric(lambda theta: np.eye(2))(model, np.zeros(2))
    array([[1., 0.],
           [0., 1.]])
    """

    def __init__(self, function: Callable):
        self.function = function

    def __call__(self, model, theta: np.ndarray) -> np.ndarray:
        p = model.n_params
        M = np.asarray(self.function(theta), dtype=float)
        if M.shape != (p, p):
            raise SpecificationError(f"The 'fisher' function must return a {p} x {p} matrix; "
                                     f"got shape {M.shape}.")
        if not np.all(np.isfinite(M)):
            raise SpecificationError(f"The 'fisher' function returned non-finite entries at "
                                     f"theta = {np.round(theta, 6).tolist()}.")
        if not np.allclose(M, M.T, rtol=1e-8, atol=1e-12 * max(np.max(np.abs(M)), 1.0)):
            raise SpecificationError("The 'fisher' function returned a matrix that is not "
                                     "symmetric.")
        return M


class Preconditioned:
    """``(F + damping)^-1 g`` for a metric ``F(model, theta)``, by :func:`solve_damped`.

    Parameters
    ----------
    metric : callable
        :func:`expected_fisher`, :func:`empirical_fisher` or a :class:`UserMetric`.
    damping : float
        Added to ``F`` as a multiple of its mean diagonal.

    Examples
    --------
    >>> rule = Preconditioned(lambda model, theta: np.diag([2.0, 4.0]), damping=0.0)
    >>> rule(None, Point(np.zeros(2), 0.0, np.array([2.0, 2.0])), 1.0)
    (array([1. , 0.5]), True)
    """

    second = False

    def __init__(self, metric: Callable, damping: float):
        self.metric, self.damping = metric, damping

    def __call__(self, model, point: Point, weight: float) -> tuple[np.ndarray, bool]:
        return solve_damped(self.metric(model, point.theta), point.score, self.damping), True


class GradientDirection:
    """The score, times ``weight`` (the total over a mini-batch's rows: an unbiased
    estimate of the total score).

    Examples
    --------
    >>> GradientDirection()(None, Point(np.zeros(2), 0.0, np.array([1.0, -2.0])), 10.0)
    (array([ 10., -20.]), True)
    """

    second = False

    def __call__(self, model, point: Point, weight: float) -> tuple[np.ndarray, bool]:
        return point.score * weight, True
