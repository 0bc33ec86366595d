"""Predictions at the fitted or at new rows, with delta-method standard errors.

Scales:

- ``"link"``: the first linear predictor ``eta_i = x_i' beta + offset_i`` (Stata's
  ``predict, xb``; its ``se`` is ``stdp``), with variance ``x_i' C x_i``.
- ``"response"``: the mean of the outcome given the covariates, the family's
  ``mean(E)`` (see :mod:`fisherkit.models.builtins`): the probability for logit, probit and
  binomial (per trial), the count rate for Poisson and NB2, ``scale Gamma(1 + 1/shape)`` for
  the Weibull, the location for the Student t (its mean only where df > 1), the expected
  category code on ``0 .. K-1`` for the ordinal family; a user's ``fk.Family`` needs
  ``mean=``.
- ``"probabilities"`` (ordinal families): one column per outcome category with its
  probability, then a column ``se[level]`` per category.

Standard errors are the delta method with the result's covariance, carried on the working
scale (``res.cov_working``, which is ``res.cov`` in the working coordinates, so a robust
``res.with_cov("sandwich")`` gives robust errors): the gradient of row ``i`` in the
parameters is ``sum_c (d f_i / d E_ic) x_ic`` with the derivatives in ``E`` from autograd,
and the variance ``g_i' C g_i`` is summed in blocks of rows, never as an ``n x p x p``
array. Response-scale intervals are the inverse link of the link-scale interval where the
mean is one inverse link (so probabilities stay in (0, 1) and counts positive); for the
Weibull they are carried through the log of the mean; otherwise (ordinal, a user's family)
they are Wald intervals ``estimate -/+ z se``. For ``average=True`` (Stata's ``margins``: the
mean prediction over the rows) the estimate and its se are Stata's, and the response-scale
interval is the delta-method interval of the link of the average carried back through the
inverse link, so that it too stays inside the outcome's range (Stata's is the Wald interval,
which can leave it).

Rows with a missing value in a used column are kept, with NaN predictions, and counted in
``attrs["n_missing"]``.

Mixed models (random-effects terms) predict conditionally on the groups' modes by default,
``eta_i = x_i' beta + z_i' u_hat_g`` (lme4's ``predict``, Stata's ``predict`` after
``melogit``), or at the population level with ``random_effects=False``, ``x_i' beta`` (the
effects at their mean, 0). Either way the standard errors are the delta method in the
fixed effects (and the family's parameters) alone: conditional ones hold the modes at their
estimates and leave out their uncertainty, reported as their conditional standard
deviations by ``res.random_effects()``. A group level the fit did not see has no mode and
is refused for conditional predictions (lme4's ``allow.new.levels = FALSE``).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd import elementwise_grad
from scipy import stats

from ..autodiff import derivatives
from ..exceptions import SpecificationError
from ..validation import check_alpha, check_choice

__all__ = ["predict", "SCALES"]

SCALES = ("response", "link", "probabilities")
#: rows per block of the gradients in the parameters
ROW_BLOCK = 8192


def _row_variances(model, rows, G: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``g_i' C g_i`` for every row, ``g_i`` the gradient in ``theta`` from ``G``."""
    out = np.empty(len(G))
    for a in range(0, len(G), ROW_BLOCK):
        part = slice(a, a + ROW_BLOCK)
        J = model.theta_gradients(G, rows, part)
        out[part] = np.einsum("ij,jk,ik->i", J, C, J)
    return out


def _gradient_in_eta(func, E: np.ndarray) -> np.ndarray:
    """Derivatives of a row-wise function of ``E`` in each column of ``E``, ``n x K``."""
    return np.asarray(derivatives.gradient(lambda A: anp.sum(func(A)), E))


def _link_function(model):
    column = model.link_column
    return lambda E: E[:, column]


def _response_intervals(model, family, E, values, variance, C, rows, z):
    """Lower and upper limits of the response-scale interval of every row."""
    se = np.sqrt(variance)
    if family.mean_is_inverse_link:
        link_of = _link_function(model)
        eta = np.asarray(link_of(E))
        se_eta = np.sqrt(_row_variances(model, rows, _gradient_in_eta(link_of, E), C))
        inverse = family.interval_link.inverse
        a, b = (np.asarray(inverse(eta + s * z * se_eta)) for s in (-1.0, 1.0))
        return np.minimum(a, b), np.maximum(a, b)
    return _through_link(family.interval_link, values, se, z)


def _through_link(link, values, se, z):
    """The interval of ``g(mean)`` (delta method), ``g`` the family's link, carried back
    through ``g^-1``: it stays inside the range of the mean. Symmetric without a link."""
    if link is None:
        return values - z * se, values + z * se
    centre = np.asarray(link.link(values))
    slope = np.asarray(elementwise_grad(link.inverse)(centre))
    a, b = (np.asarray(link.inverse(centre + s * z * se / np.abs(slope))) for s in (-1.0, 1.0))
    return np.minimum(a, b), np.maximum(a, b)


def _frame(rows, columns: dict, attrs: dict, index=None) -> pd.DataFrame:
    """Columns over the complete rows, spread over every row asked for (NaN elsewhere)."""
    if index is None:
        index = rows.index
        full = {}
        for name, values in columns.items():
            out = np.full(len(rows.complete), np.nan)
            out[rows.complete] = values
            full[name] = out
        columns = full
    table = pd.DataFrame(columns, index=index)
    table.attrs.update(attrs)
    return table


def _probabilities(result, model, family, rows, E, C, attrs):
    P = np.asarray(family.probabilities(E))
    levels = [str(v) for v in model.data.levels]
    columns = {level: P[:, j] for j, level in enumerate(levels)}
    for j, level in enumerate(levels):
        G = _gradient_in_eta(lambda A, j=j: family.probabilities(A)[:, j], E)
        columns[f"se[{level}]"] = np.sqrt(_row_variances(model, rows, G, C))
    return _frame(rows, columns, attrs)


def predict(result, data=None, *, scale: str = "response", average: bool = False,
            alpha: float = 0.05, offset=None, random_effects: bool | None = None) -> pd.DataFrame:
    """Predictions with delta-method standard errors and intervals.

    Parameters
    ----------
    result : FitResult
    data : pandas.DataFrame, optional
        Rows to predict at, with the columns the formula uses (and the offset column when
        the fit read its offset from one); by default the fitted rows. Categorical levels,
        transforms and centring are the fit's (formulaic's ``ModelSpec``); a level the fit
        did not see is a :class:`fisherkit.DataError`.
    scale : {"response", "link", "probabilities"}
        See the module notes.
    average : bool
        One row: the mean prediction over the (complete) rows, with its delta-method
        standard error and a Wald interval (Stata's ``margins``).
    alpha : float
        The intervals are ``1 - alpha`` two-sided.
    offset : array-like, optional
        The offset of the new rows when the fit was given its offset as an array.
    random_effects : bool, optional
        Mixed models only: conditional on the groups' modes (True, the default) or at the
        population level (False); see the module notes.

    Returns
    -------
    pandas.DataFrame
        ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, indexed like ``data`` (the fitted
        rows' index by default; one row ``"average"`` with ``average=True``); ``attrs`` hold
        ``alpha``, ``scale``, ``average``, ``cov_type`` and ``n_missing`` (rows with a
        missing value in a used column, predicted as NaN), and for mixed models
        ``random_effects``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> df = fk.datasets.load("spector")
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit")
    >>> res.predict(df.head(2)).round(4)["estimate"].tolist()
    [0.0266, 0.0595]
    """
    check_choice("scale", scale, SCALES)
    check_alpha(alpha)
    model = result.model
    rows = model.design_for(data, offset=offset, random_effects=random_effects)
    conditional = rows.conditional
    family = model.family
    theta, C = result.theta, result.cov_working.to_numpy()
    E = np.asarray(model.eta_for(theta, rows))
    attrs = {"alpha": alpha, "scale": scale, "average": bool(average),
             "cov_type": result.cov_type, "n_missing": rows.n_missing}
    if conditional is not None:
        attrs["random_effects"] = conditional
    if scale == "probabilities":
        if average:
            raise SpecificationError("scale='probabilities' gives every row; average=True is "
                                     "for scale='response' or 'link'.")
        return _probabilities(result, model, family, rows, E, C, attrs)
    func = _link_function(model) if scale == "link" else family.mean
    values = np.asarray(func(E), dtype=float)
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    if average:
        if rows.n_complete == 0:
            raise SpecificationError("No complete rows to average the predictions over.")
        w = rows.weights
        share = None if w is None else w / w.sum()

        def mean(v):
            return anp.mean(v) if share is None else anp.sum(v * share)

        grad = derivatives.jacobian(lambda t: anp.reshape(mean(func(model.eta_for(t, rows))),
                                                          (1,)), theta)[0]
        estimate, se = float(mean(values)), float(np.sqrt(grad @ C @ grad))
        link = family.interval_link if scale == "response" else None
        lower, upper = _through_link(link, np.array([estimate]), np.array([se]), z)
        return _frame(rows, {"estimate": [estimate], "se": [se], "ci_lower": lower,
                             "ci_upper": upper}, attrs, index=pd.Index(["average"]))
    variance = _row_variances(model, rows, _gradient_in_eta(func, E), C)
    se = np.sqrt(variance)
    if scale == "link":
        lower, upper = values - z * se, values + z * se
    else:
        lower, upper = _response_intervals(model, family, E, values, variance, C, rows, z)
    return _frame(rows, {"estimate": values, "se": se, "ci_lower": lower, "ci_upper": upper},
                  attrs)
