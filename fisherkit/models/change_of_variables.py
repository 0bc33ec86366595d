"""Change of variables: the log-density of an invertible transform of a random variable.

If ``Y = f(X)`` with ``f`` invertible and differentiable, then

    log p_Y(y) = log p_X(g(y)) + log |det J_g(y)|,      g = f^-1

(Papamakarios et al., 2021, eq. 2). Only the inverse ``g`` is evaluated, so a transform
needs an autograd-traceable inverse; its forward map serves for sampling. The log-Jacobian
term comes from autograd unless a closed form is given: ``log |g'(y)|`` per element for an
elementwise map, ``log |det J_g(y)|`` by ``slogdet`` of the autograd Jacobian for a map of
vectors.

Points are arrays. For a scalar variable ``y`` holds one point per element; for a vector
variable of dimension ``d`` the last axis holds the coordinates (``(d,)`` for one point,
``(n, d)`` for ``n``). The log-Jacobian of an elementwise map is summed over the axes the
base log-density sums over, so one elementwise transform serves both.
"""

from __future__ import annotations

from typing import Callable

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.numpy.numpy_boxes import ArrayBox

from ..exceptions import SpecificationError
from ..autodiff.primitives import sigmoid

__all__ = ["Transform", "transformed_logpdf"]


def _rowwise_jacobians(g: Callable, y):
    """Jacobians ``d g(y_i) / d y_i`` of a map applied row by row: ``d`` reverse passes.

    Rows do not interact, so the gradient of the sum over rows of output ``k`` is, row by
    row, the ``k``-th row of each point's Jacobian.
    """
    d = y.shape[-1]
    rows = [autograd.grad(lambda v, k=k: anp.sum(g(v)[..., k]))(y) for k in range(d)]
    return anp.stack(rows, axis=-2)


class Transform:
    """An invertible map ``y = forward(x)`` with an autograd-traceable inverse.

    Parameters
    ----------
    inverse : callable
        ``x = inverse(y)``, written with ``autograd.numpy``. A vector map must act row by
        row on an ``(n, d)`` array (and on one ``(d,)`` point).
    forward : callable, optional
        ``y = forward(x)``; needed only to draw from the transformed variable.
    elementwise : bool
        Whether the map acts on each coordinate separately (a diagonal Jacobian).
    inverse_log_det : callable, optional
        A closed form of ``log |det J_inverse(y)|`` (per element when elementwise), used
        instead of autograd.
    name : str, optional

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> t = Transform(inverse=anp.log, forward=anp.exp)
    >>> float(t.inverse_log_det(np.array(2.0)))  # log |d log(y) / dy| = -log 2
    -0.6931471805599453
    """

    def __init__(self, inverse: Callable, forward: Callable | None = None, *,
                 elementwise: bool = True, inverse_log_det: Callable | None = None,
                 name: str | None = None):
        for label, fn in (("inverse", inverse), ("forward", forward),
                          ("inverse_log_det", inverse_log_det)):
            if fn is not None and not callable(fn):
                raise SpecificationError(f"The {label!r} of a Transform must be callable.")
        self.inverse, self._forward = inverse, forward
        self.elementwise = bool(elementwise)
        self._closed = inverse_log_det
        self.name = name or getattr(inverse, "__name__", "transform")

    def __repr__(self) -> str:
        kind = "elementwise" if self.elementwise else "vector"
        return f"Transform({self.name!r}, {kind})"

    def forward(self, x):
        """``y = f(x)``, for drawing from the transformed variable."""
        if self._forward is None:
            raise SpecificationError(f"The transform {self.name!r} was given no forward map.")
        return self._forward(x)

    def inverse_log_det(self, y):
        """``log |det J_inverse(y)|``: per element when elementwise, per point otherwise."""
        if self._closed is not None:
            return self._closed(y)
        y = y if isinstance(y, ArrayBox) else np.asarray(y, dtype=float)
        if self.elementwise:
            # the gradient of the sum of an elementwise map is its derivative at each element
            slope = autograd.grad(lambda v: anp.sum(self.inverse(v)))(y)
            return anp.log(anp.abs(slope))
        if anp.ndim(y) == 0:
            raise SpecificationError("A vector transform takes points with coordinates on the "
                                     "last axis; got a scalar.")
        return anp.linalg.slogdet(_rowwise_jacobians(self.inverse, y))[1]

    # ---- common maps with closed-form Jacobians ----------------------------------------

    @classmethod
    def exp(cls) -> "Transform":
        """``y = exp(x)`` (a log-normal from a normal)."""
        return cls(inverse=anp.log, forward=anp.exp, inverse_log_det=lambda y: -anp.log(y),
                   name="exp")

    @classmethod
    def sigmoid(cls) -> "Transform":
        """``y = 1 / (1 + exp(-x))`` (a logit-normal from a normal)."""
        return cls(inverse=lambda y: anp.log(y) - anp.log1p(-y), forward=sigmoid,
                   inverse_log_det=lambda y: -anp.log(y) - anp.log1p(-y), name="sigmoid")

    @classmethod
    def affine(cls, matrix, shift=None) -> "Transform":
        """``y = A x + b`` for points ``x`` of dimension ``d`` (rows of an ``(n, d)`` array).

        Examples
        --------
        >>> t = Transform.affine([[2.0, 0.0], [1.0, 1.0]], [0.0, 1.0])
        >>> t.inverse(t.forward(np.array([1.0, 2.0])))
        array([1., 2.])
        """
        A = np.atleast_2d(np.asarray(matrix, dtype=float))
        d = A.shape[0]
        b = np.zeros(d) if shift is None else np.asarray(shift, dtype=float)
        if A.shape != (d, d) or b.shape != (d,):
            raise SpecificationError(f"An affine transform needs a square matrix and a shift of "
                                     f"its size; got shapes {A.shape} and {b.shape}.")
        sign, logdet = np.linalg.slogdet(A)
        if sign == 0:
            raise SpecificationError("The matrix of an affine transform must be invertible.")
        A_inv = np.linalg.inv(A)
        return cls(inverse=lambda y: anp.dot(y - b, A_inv.T), forward=lambda x: anp.dot(x, A.T) + b,
                   elementwise=False, name="affine",
                   inverse_log_det=lambda y: -logdet * anp.ones(anp.shape(y)[:-1]))


def transformed_logpdf(logpdf: Callable, transform: Transform) -> Callable:
    """The log-density of ``Y = f(X)`` from the log-density of ``X`` and the transform ``f``.

    Parameters
    ----------
    logpdf : callable
        ``logpdf(x)``, the log-density of ``X``, written with ``autograd.numpy``: one value
        per element for a scalar variable, per point (summed over the last axis) for a
        vector variable.
    transform : Transform

    Returns
    -------
    callable
        ``y -> log p_X(g(y)) + log |det J_g(y)|``, autograd-traceable in ``y`` and in any
        parameters the two functions close over.

    Examples
    --------
    A log-normal density from the standard normal:

    >>> import autograd.numpy as anp
    >>> from scipy import stats
    >>> normal = lambda x: -0.5 * x ** 2 - 0.5 * anp.log(2 * anp.pi)
    >>> lognormal = transformed_logpdf(normal, Transform.exp())
    >>> bool(np.isclose(lognormal(np.array(3.0)), stats.lognorm.logpdf(3.0, 1.0)))
    True
    """
    if not callable(logpdf):
        raise SpecificationError("The 'logpdf' must be callable.")
    if not isinstance(transform, Transform):
        raise SpecificationError(f"The 'transform' must be a fk.Transform; got "
                                 f"{type(transform).__name__}.")

    def log_density(y):
        base = logpdf(transform.inverse(y))
        log_det = transform.inverse_log_det(y)
        # an elementwise map's terms are summed over the event axes the base density sums
        while anp.ndim(log_det) > anp.ndim(base):
            log_det = anp.sum(log_det, axis=-1)
        if anp.shape(log_det) != anp.shape(base):
            raise SpecificationError(
                f"The log-Jacobian of {transform.name!r} has shape {anp.shape(log_det)} but the "
                f"base log-density shape {anp.shape(base)}; a vector transform needs a base "
                "log-density with one value per point.")
        return base + log_det

    return log_density
