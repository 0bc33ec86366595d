"""Marginal effects of covariates on the mean response of an index model.

For a family whose first linear predictor gives the mean through an inverse link,
``mu_i = g^-1(x_i' beta + offset_i)``, the marginal effect of design column ``j`` is
``d mu_i / d x_ij = g^-1'(eta_i) beta_j`` (Greene, *Econometric Analysis*, 7th ed.,
sec. 17.3; Cameron and Trivedi, 2013, sec. 3.5 for counts). It is averaged over the
observations (``at="overall"``, the average marginal effect) or taken at the means of the
columns (``at="mean"``); the names of ``at``, ``method``, ``dummy`` and ``count`` and the
definitions follow statsmodels' ``get_margeff``:

- ``method``: ``"dydx"`` (``d mu / d x``), ``"eyex"`` (``d log mu / d log x``), ``"dyex"``
  (``d mu / d log x``), ``"eydx"`` (``d log mu / d x``), each formed per observation and
  then averaged.
- ``dummy=True``: columns holding only 0 and 1 get the discrete change
  ``mu(x_j = 1) - mu(x_j = 0)``; ``count=True``: other non-negative whole-number columns
  get ``(mu(x_j + 1) - mu(x_j - 1)) / 2``.

Columns constant in the data (the intercept) have no effect and are left out. Standard
errors are the delta method with the Jacobian of the effects in the parameters from
autograd and the result's own covariance. Offsets are part of ``eta`` (their mean at
``at="mean"``); statsmodels' ``get_margeff`` leaves offsets out.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd import elementwise_grad

from ..autodiff import derivatives
from ..exceptions import SpecificationError
from ..validation import check_alpha
from .covariance import carry_cov
from .reparam import summary_frame

__all__ = ["marginal_effects", "AT", "METHODS"]

AT = ("overall", "mean")
METHODS = ("dydx", "eyex", "dyex", "eydx")
def _discrete_columns(X: np.ndarray, dummy: bool, count: bool, varying: np.ndarray):
    whole = np.all(X % 1.0 == 0, axis=0)
    is_dummy = whole & (X.min(axis=0) == 0) & (X.max(axis=0) == 1) & varying
    is_count = whole & (X.min(axis=0) >= 0) & varying & ~is_dummy
    return (is_dummy if dummy else np.zeros_like(is_dummy),
            is_count if count else np.zeros_like(is_count))


def marginal_effects(result, *, at: str = "overall", method: str = "dydx", dummy: bool = False,
                     count: bool = False, alpha: float = 0.05) -> pd.DataFrame:
    """Marginal effects of each covariate on the mean response, with delta-method errors.

    Parameters
    ----------
    result : FitResult
    at : {"overall", "mean"}
        Average the per-observation effects, or evaluate at the column means.
    method : {"dydx", "eyex", "dyex", "eydx"}
        Derivative, elasticity or semi-elasticities (see the module notes).
    dummy : bool
        Discrete change from 0 to 1 for columns holding only 0 and 1.
    count : bool
        Half the change from ``x - 1`` to ``x + 1`` for whole-number columns.
    alpha : float
        The intervals are ``1 - alpha`` two-sided.

    Returns
    -------
    pandas.DataFrame
        Indexed by design column: estimate, se, z, p_value, ci_lower, ci_upper; ``attrs``
        hold ``at``, ``method``, ``alpha``, ``cov_type`` and the columns treated as
        ``discrete``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="probit")
    >>> me = res.marginal_effects(at="mean", dummy=True)
    >>> round(float(me.loc["PSI", "estimate"]), 4)
    0.4644
    """
    if at not in AT:
        raise SpecificationError(f"The 'at' must be one of {list(AT)}; got {at!r}.")
    if method not in METHODS:
        raise SpecificationError(f"The 'method' must be one of {list(METHODS)}; got {method!r}.")
    check_alpha(alpha)  # with the other settings, before the model is asked for anything
    if (dummy or count) and method in ("dyex", "eyex"):
        raise SpecificationError(f"method={method!r} is not defined for discrete columns; use "
                                 "'dydx' or 'eydx' with dummy= or count=.")
    model = result.model
    block = model.mean_predictor()
    inverse = block.spec.get_link().inverse
    slope = elementwise_grad(inverse)
    X = model.data.designs[block.key]
    offset = model.data.offsets[block.key]
    offset = np.zeros(len(X)) if offset is None else np.asarray(offset, dtype=float)
    varying = X.var(axis=0) != 0
    if not np.any(varying):
        raise SpecificationError("The model has no covariates that vary: no marginal effects.")
    # with observation weights, means over the rows are weighted means (Stata's margins)
    w = model.data.weights
    share = None if w is None else w / w.sum()
    if at == "mean":
        if share is None:
            X, offset = X.mean(axis=0, keepdims=True), offset.mean(keepdims=True)
        else:
            X, offset = (share @ X)[None, :], np.array([share @ offset])
        share = None

    def mean(v):
        return anp.mean(v) if share is None else anp.sum(v * share)

    is_dummy, is_count = _discrete_columns(model.data.designs[block.key], dummy, count, varying)
    log_y, times_x = method.startswith("ey"), method.endswith("ex")
    columns = np.flatnonzero(varying)

    def effects(natural):
        beta = natural[block.start:block.stop]
        eta = anp.dot(X, beta) + offset
        mu = inverse(eta)
        out = []
        for j in columns:
            if is_dummy[j] or is_count[j]:
                low, high = (0.0 - X[:, j], 1.0 - X[:, j]) if is_dummy[j] else (-1.0, 1.0)
                mu_low, mu_high = inverse(eta + low * beta[j]), inverse(eta + high * beta[j])
                change = anp.log(mu_high) - anp.log(mu_low) if log_y else mu_high - mu_low
                out.append(mean(change) / (1.0 if is_dummy[j] else 2.0))
                continue
            each = slope(eta) * beta[j]
            if log_y:
                each = each / mu
            if times_x:
                each = each * X[:, j]
            out.append(mean(each))
        return anp.array(out)

    theta = result.params.to_numpy()
    values = np.asarray(effects(theta))
    J = derivatives.jacobian(effects, theta)
    names = [block.names[j] for j in columns]
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(J))):
        bad = [n for n, v, row in zip(names, values, J) if not (np.isfinite(v) and np.all(np.isfinite(row)))]
        raise SpecificationError(f"The marginal effects of {bad} are not finite at the estimate "
                                 "(a mean of zero under method='ey..', or an overflow).")
    table = summary_frame(values, carry_cov(J, result.cov.to_numpy()), names, alpha)
    table.attrs.update(at=at, method=method, cov_type=result.cov_type,
                       discrete=[block.names[j] for j in columns if is_dummy[j] or is_count[j]])
    return table
