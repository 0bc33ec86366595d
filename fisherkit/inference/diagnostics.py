"""What the curvature says: the information-matrix test, a curvature report, planning.

- ``information_matrix_test``: White's (1982) test that ``E[H_i + s_i s_i'] = 0`` in its
  outer-product form (Chesher, 1983; Lancaster, 1984): ``n R^2`` of the uncentred
  regression of ones on the scores and the indicators ``vech(H_i + s_i s_i')``, chi-square
  with as many degrees of freedom as independent indicators.
- ``curvature_report``: eigenvalues of the information at the estimate, its condition
  number, the kind of stationary point, and each flat direction as a named combination.
- ``plan_sample_size``: Cramér-Rao standard errors for a planned sample size from the
  expected information per observation, and the size needed for a target standard error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import qr

from ..autodiff.derivatives import classify_stationary_point
from ..autodiff.linalg import scaled_eigh
from ..exceptions import SpecificationError
from .covariance import RTOL, describe_direction

__all__ = ["information_matrix_test", "curvature_report", "plan_sample_size", "CurvatureReport"]


def _indicator_pairs(p: int, full_up_to: int = 10):
    """Which Hessian elements to test: all of ``vech`` for small p, else the diagonal."""
    if p <= full_up_to:
        return [(a, b) for a in range(p) for b in range(a, p)]
    return [(a, a) for a in range(p)]


def information_matrix_test(result, pairs=None) -> pd.Series:
    """White's information-matrix test in outer-product form.

    Parameters
    ----------
    result : FitResult
    pairs : list of (int, int), optional
        Elements of the per-observation Hessian to test (working-scale parameter indices);
        by default every element when there are at most 10 parameters, else the diagonal.

    Returns
    -------
    pandas.Series
        ``statistic``, ``df``, ``p_value`` and ``conclusion`` (a sentence on which standard
        errors to trust).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> float(information_matrix_test(res)["df"])  # vech of a 2 x 2 Hessian
    3.0
    """
    model, theta = result.model, result.theta
    if model.weight_type is not None:
        raise SpecificationError(
            f"The information-matrix test is not available for a fit with {model.weight_type} "
            "weights: its indicators are per observation, and the test is derived for "
            "unweighted rows.")
    n, p = model.n_obs, model.n_params
    pairs = _indicator_pairs(p) if pairs is None else pairs
    S = model.scores_obs(theta)
    # the indicators d2 l_i + s_ia s_ib have mean zero where the information matrix
    # equality holds
    D = model.observation_hessian(theta, pairs) + np.column_stack([S[:, a] * S[:, b]
                                                                    for a, b in pairs])
    Z = np.hstack([S, D])
    # independent indicators only: drop columns the others span (an intercept makes some
    # Hessian elements repeat), found by a pivoted QR of the scaled regressors
    scale = np.sqrt(np.maximum(np.sum(Z * Z, axis=0), np.finfo(float).tiny))
    _, R, piv = qr(Z / scale, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(R)) > 1e-10 * np.abs(R[0, 0])))
    keep = np.sort(piv[:rank])
    Zk = Z[:, keep]
    coef, *_ = np.linalg.lstsq(Zk, np.ones(n), rcond=None)
    fitted = Zk @ coef
    statistic = float(fitted @ fitted)  # n R^2 of the uncentred regression of ones
    df = int(np.sum(keep >= p))
    p_value = float(stats.chi2.sf(statistic, df)) if df > 0 else np.nan
    if p_value < 0.05:
        text = ("The information matrix equality is rejected at the 5% level: the model is "
                "likely misspecified, so prefer sandwich (robust) standard errors to those from "
                "the observed or expected information.")
    else:
        text = ("The information matrix equality is not rejected at the 5% level: the observed, "
                "expected and sandwich standard errors estimate the same thing here.")
    return pd.Series({"statistic": statistic, "df": df, "p_value": p_value, "conclusion": text},
                     name="information_matrix_test")


@dataclass(frozen=True)
class CurvatureReport:
    """The curvature of the log-likelihood at a point, in numbers and in words."""

    eigenvalues: pd.Series
    condition_number: float
    classification: str
    flat_directions: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"The point is a {self.classification} of the log-likelihood." if
                 self.classification != "degenerate" else
                 "The curvature is zero in some direction: the point is degenerate.",
                 f"Condition number of the scaled information: {self.condition_number:.3g}."]
        lines += [f"{d} is not identified." for d in self.flat_directions]
        return "\n".join(lines)


def curvature_report(result, rtol: float = RTOL) -> CurvatureReport:
    """Eigen-analysis of the observed information at the estimate (working scale).

    The information is Jacobi-scaled (unit diagonal) first, so the condition number and the
    flat directions do not depend on the units of the covariates.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> curvature_report(res).classification
    'maximum'
    """
    info = result.information("observed", scale="working").to_numpy()
    names = list(result.model.working_names)
    lam, V, d = scaled_eigh(info)
    top = max(np.max(np.abs(lam)), np.finfo(float).tiny)
    flat = [describe_direction(V[:, j] / d, names) for j in range(len(lam))
            if abs(lam[j]) <= rtol * top]
    cond = float(np.max(np.abs(lam)) / np.min(np.abs(lam))) if np.min(np.abs(lam)) > 0 else np.inf
    kind = classify_stationary_point(-info, rtol=rtol)
    eig = pd.Series(lam, index=[f"eigenvalue_{j + 1}" for j in range(len(lam))], name="eigenvalue")
    return CurvatureReport(eig, cond, kind, flat)


def _positive(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and bool(np.isfinite(value))
            and value > 0)


def _check_plan(n, se, names) -> None:
    """The options of :func:`plan_sample_size`, each refused with a message naming it."""
    if n is not None and not (_positive(n) and float(n) == int(n)):
        raise SpecificationError(f"The 'n' of plan must be a positive whole number (a planned "
                                 f"sample size); got {n!r}.")
    if se is None:
        return
    targets = dict(se) if isinstance(se, Mapping) else {name: se for name in names}
    unknown = [k for k in targets if k not in names]
    if unknown:
        raise SpecificationError(f"The 'se' of plan names unknown parameter(s) {unknown}; the "
                                 f"parameters are {list(names)}.")
    bad = {k: v for k, v in targets.items() if not _positive(v)}
    if bad and not isinstance(se, Mapping):
        raise SpecificationError(f"The 'se' of plan must be a positive number (a target "
                                 f"standard error); got {se!r}.")
    if bad:
        raise SpecificationError(f"The 'se' of plan must be a positive number, or a mapping "
                                 f"of parameter names to positive numbers; got {bad}.")


def plan_sample_size(result, n=None, se=None) -> pd.DataFrame:
    """Cramér-Rao standard errors at a planned sample size, or the size for a target se.

    The expected information per observation is taken from the fitted data (future
    covariates assumed to look like these), so at sample size ``n`` the covariance is
    ``J (n i_1)^-1 J'``, and the size needed for standard error ``se`` of a parameter is
    ``n_obs (se_now / se)^2``.

    Parameters
    ----------
    result : FitResult
    n : int, optional
        Planned sample size.
    se : float or dict, optional
        Target standard error, for all parameters or by name.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> plan = plan_sample_size(res, n=128)
    >>> bool(np.allclose(plan["se_planned"], plan["se_expected"] / 2))
    True
    """
    _check_plan(n, se, result.names)
    expected = result.with_cov("expected").se
    table = pd.DataFrame({"se_expected": expected})
    if n is not None:
        table["se_planned"] = expected * np.sqrt(result.n_obs / n)
    if se is not None:
        target = pd.Series(se, index=expected.index) if np.isscalar(se) else pd.Series(se)
        table["target_se"] = target
        table["n_needed"] = np.ceil(result.n_obs * (expected / target) ** 2)
    table.attrs["n_obs"] = result.n_obs
    return table
