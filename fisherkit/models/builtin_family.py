"""The base of the built-in families: a log-density of :mod:`fisherkit.models.logpdfs` on
the working scale, with what every built-in family shares (the link's mean, the GLM
expected weight, the support checks), and the helpers their modules share.

Means and residuals (McCullagh and Nelder, *Generalized Linear Models*, 2nd ed., 1989:
variance functions table 2.1, unit deviances sec. 2.3, Anscombe residuals sec. 2.4.2; the
binomial and negative binomial Anscombe forms as Stata's ``glm`` and statsmodels):

- ``mean(E)``, from the ``n x K`` working-scale matrix ``E``, autograd-traceable: the inverse
  link of the first predictor; the Weibull's ``scale Gamma(1 + 1/shape)``; the ordinal's
  expected category code on ``0 .. K-1``; the Student t's location (its mean for df > 1).
- ``variance(mu, E, aux)`` the variance function ``V(mu)``, ``unit_deviance(y, mu, E, aux)``
  and ``anscombe(y, mu, E, aux)``, on the outcome's own scale (binomial counts, ``mu = m p``).
- ``cumulative_hazard(y, E)`` for the censored survival families: ``-log S(y)``.
"""

from __future__ import annotations

import numpy as np
from autograd import elementwise_grad

from ..exceptions import DataError, SpecificationError
from .family import Family
from .links import get_link

__all__ = ["BuiltinFamily", "PositiveOutcome", "bad_rows", "require_support", "eta_weights",
           "EULER", "GLM_RESIDUALS", "fitted_rows_in_memory", "natural_value"]


def fitted_rows_in_memory(model, theta):
    """``(y, E, aux)`` of the fitted rows, or None for a model whose rows are not in memory
    (a Dask fit), whose boundary checks are then skipped rather than cost a pass."""
    try:
        return model.fitted_outcome(theta)
    except SpecificationError:
        return None


def natural_value(model, theta, name: str) -> float:
    """The natural-scale estimate of the parameter ``name``."""
    return float(np.asarray(model.to_natural(theta))[list(model.names).index(name)])


def bad_rows(mask: np.ndarray) -> str:
    """How many rows a mask marks, and the positions of the first five, for messages."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:5])
    return f"{len(rows)} row(s), first at position(s) {shown}"


def require_support(mask_bad: np.ndarray, column: str, what: str) -> None:
    """Refuse an outcome with values outside the family's support, naming the rows."""
    if np.any(mask_bad):
        raise DataError(f"The outcome column {column!r} {what}: {bad_rows(mask_bad)}.")


EULER = np.euler_gamma


def eta_weights(*diagonal, **off_diagonal):
    """An ``n x K x K`` array from its diagonal columns and named off-diagonal ones."""
    n, k = len(diagonal[0]), len(diagonal)
    W = np.zeros((n, k, k))
    for j, col in enumerate(diagonal):
        W[:, j, j] = col
    for key, col in off_diagonal.items():
        a, b = int(key[1]), int(key[2])
        W[:, a, b] = W[:, b, a] = col
    return W


#: the residual kinds of a family with a variance function and a unit deviance
GLM_RESIDUALS = ("response", "pearson", "deviance", "working", "anscombe")


class BuiltinFamily(Family):
    """A built-in family: its logpdf takes eta and working-scale scalars."""

    mean_is_inverse_link = True
    residual_kinds = GLM_RESIDUALS

    def __init__(self, name, logpdf, link, allowed_links, aux=(), **params):
        self.link = get_link(link, allowed_links)
        super().__init__(logpdf, name=name, aux=aux, **params)
        self.working_scale = True

    @property
    def interval_link(self):
        return self.link

    def mean(self, E):
        """The inverse link of the first predictor (autograd-traceable)."""
        return self.link.inverse(E[:, 0])

    def _start_mean(self, y, aux):
        return float(self.link.link(np.mean(y)))

    def _mean(self, eta):
        """``mu`` and ``d mu / d eta`` from the link."""
        return np.asarray(self.link.inverse(eta)), np.asarray(elementwise_grad(self.link.inverse)(eta))

    def _glm_weight(self, eta, variance):
        """``(d mu / d eta)^2 / V(mu)``, the expected information of a GLM mean in eta."""
        mu, dmu = self._mean(eta)
        v = variance(mu)
        with np.errstate(all="ignore"):
            return np.where(v > 0, dmu * dmu / np.where(v > 0, v, 1.0), 0.0)


class PositiveOutcome(BuiltinFamily):
    def check_support(self, y, aux, column):
        require_support(y <= 0, column, f"must be positive for the {self.name} family")
