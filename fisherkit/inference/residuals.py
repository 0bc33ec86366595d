"""Residuals of the fitted rows, by the conventions of Stata's ``glm`` (McCullagh and
Nelder, *Generalized Linear Models*, 2nd ed., 1989, sec. 2.4).

With ``mu_i`` the fitted mean on the outcome's own scale (counts for a binomial with
trials: ``y`` successes against ``mu = m p``), ``V`` the family's variance function and
``d_i`` its unit deviance:

- ``"response"``  ``y - mu`` (Stata's ``predict, response``)
- ``"pearson"``   ``(y - mu) / sqrt(V(mu))``, not scaled by a dispersion (Stata's)
- ``"deviance"``  ``sign(y - mu) sqrt(d_i)``, the sign of the response residual (Stata's)
- ``"working"``   ``(y - mu) d eta / d mu`` (Stata's ``predict, working`` as documented and as
  its cpunish run in statsmodels' ``results_glm_poisson_weights.py`` gives it; the older
  listing in statsmodels' ``glm_test_resids.py`` holds ``(y - mu) d mu / d eta``, which
  statsmodels' own tests correct by ``(d eta / d mu)^2``). For a binomial with trials
  ``mu = m p`` gives ``(y / m - p) g'(p)``.
- ``"anscombe"``  the family's Anscombe residual (McCullagh and Nelder, table 2.1; the
  binomial through the incomplete beta function ``B(2/3, 2/3)`` and NB2 through
  ``2F1(2/3, 1/3; 5/3; -alpha y)``, as Stata's ``glm`` and statsmodels), not divided by the
  square root of a dispersion (Stata's; statsmodels' ``resid_anscombe_unscaled``)

Observation weights (``weight_type="frequency"``, ``"analytic"``, ``"probability"``) change
the fitted means only: every residual is the unweighted formula at those means, as Stata's
``predict`` after ``glm [fweight|aweight|pweight]`` (statsmodels' ``var_weights`` multiply
the Pearson, deviance and Anscombe residuals by ``sqrt(w)`` instead). These conventions are
checked against Stata's listings in ``tests/test_reference_residuals.py``.

Censored survival families (exponential, Weibull) have no ``y - mu``; they give
``"cox_snell"``, ``r_i = -log S(t_i)`` at the fitted parameters, and ``"martingale"``,
``event_i - r_i``. A family refuses the kinds it does not define (the Student t has
response and working residuals only, an ordinal model none).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pandas as pd

from ..autodiff import derivatives
from ..exceptions import SpecificationError
from ..validation import check_choice

__all__ = ["residuals", "KINDS"]

KINDS = ("response", "pearson", "deviance", "working", "anscombe", "cox_snell", "martingale")


def _mean_slope(model, family, E, aux) -> np.ndarray:
    """``d mu / d eta`` of the first linear predictor, per row."""
    grad = derivatives.gradient(lambda A: anp.sum(family.outcome_mean(A, aux)), E)
    return grad[:, model.link_column]


def residuals(result, kind: str = "response") -> pd.Series:
    """Residuals of the fitted rows.

    Parameters
    ----------
    result : FitResult
    kind : {"response", "pearson", "deviance", "working", "anscombe", "cox_snell", "martingale"}
        See the module notes; each family defines some of them.

    Returns
    -------
    pandas.Series
        Indexed like the fitted rows (``res.model.data.index``), named ``kind``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> round(float(res.residuals("pearson").iloc[0]), 4)
    -0.1652
    """
    check_choice("kind", kind, KINDS)
    model = result.model
    y, E, aux = model.fitted_outcome(result.theta)
    family = model.family
    if kind not in family.residual_kinds:
        offered = (f"it gives {list(family.residual_kinds)}" if family.residual_kinds
                   else "it defines no residuals")
        raise SpecificationError(f"The {family.name} family has no {kind!r} residuals: "
                                 f"{offered}.")
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind in ("cox_snell", "martingale"):
            hazard = family.cumulative_hazard(y, E)
            values = hazard if kind == "cox_snell" else aux["event"] - hazard
        else:
            mu = np.asarray(family.outcome_mean(E, aux))
            if kind == "response":
                values = y - mu
            elif kind == "pearson":
                values = (y - mu) / np.sqrt(family.variance(mu, E, aux))
            elif kind == "deviance":
                values = np.sign(y - mu) * np.sqrt(np.maximum(family.unit_deviance(y, mu, E, aux),
                                                              0.0))
            elif kind == "working":
                values = (y - mu) / _mean_slope(model, family, E, aux)
            else:
                values = family.anscombe(y, mu, E, aux)
    index = model.data.index if model.data.index is not None else pd.RangeIndex(len(y))
    return pd.Series(np.asarray(values, dtype=float), index=index, name=kind)
