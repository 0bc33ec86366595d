"""The three classical tests: Wald, likelihood ratio and score (Rao).

All three test a restricted model against a larger one and are asymptotically chi-squared
with as many degrees of freedom as restrictions (Rao, 1973, section 6e; Engle, 1984). They
differ in which fits they need: the Wald test only the larger fit, the score test only the
restricted one, the likelihood-ratio test both. Each returns a Series ``statistic``, ``df``,
``p_value``.

Restrictions for the Wald test are linear in the natural-scale parameters (see
:mod:`fisherkit.inference.restrictions` for how they are written).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..building import build_model
from ..models.family import Family
from ..models.protocol import LikelihoodModel
from ..models.weights import refuse_pseudo_likelihood
from ..exceptions import ConvergenceWarning, FisherkitWarning, SpecificationError, user_stacklevel
from .restrictions import restriction_matrix

__all__ = ["wald_test", "lr_test", "score_test", "mixture_sf", "NestingWarning"]


class NestingWarning(FisherkitWarning):
    """The fits given to a likelihood-ratio test do not look nested."""


def _chi2(statistic: float, df: int, name: str) -> pd.Series:
    return pd.Series({"statistic": statistic, "df": float(df),
                      "p_value": float(stats.chi2.sf(statistic, df))}, name=name, dtype=float)


def mixture_sf(statistic: float, weights: dict) -> float:
    """``P(X >= statistic)`` for ``X`` a mixture of chi-squares, ``weights`` mapping degrees
    of freedom to mixing weights; chi2(0) is the point mass at 0.

    Examples
    --------
    >>> round(mixture_sf(2.706, {0: 0.5, 1: 0.5}), 4)
    0.05
    """
    return float(sum(w * (float(statistic <= 0.0) if k == 0 else stats.chi2.sf(statistic, k))
                     for k, w in weights.items()))


def _boundary_null(restricted, full) -> dict | None:
    """The full model's null distribution for the parameters the restricted fit lacks,
    where the full model has a rule for them (variance components of a mixed model, see
    :meth:`fisherkit.models.mixed.MixedModel.variance_null`); None for the plain chi2."""
    return full.model.variance_null(restricted.model,
                                    [n for n in full.names if n not in restricted.names])


# ---- the tests --------------------------------------------------------------------------

def wald_test(result, restriction, *, cov: str | None = None) -> pd.Series:
    """Wald test of ``R params = r``: ``(R b - r)' (R V R')^-1 (R b - r)``, chi-squared.

    Parameters
    ----------
    result : FitResult
    restriction : str, sequence of str, mapping or (R, r)
        Linear restrictions on the natural-scale parameters (see the module docstring).
    cov : str, optional
        The covariance ``V``: the result's own by default, or any of ``FitResult.with_cov``'s
        kinds (``"sandwich"`` gives the robust Wald test).

    Returns
    -------
    pandas.Series
        ``statistic``, ``df``, ``p_value``; ``attrs["restrictions"]`` lists them as read.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> wald_test(res, {"GPA": 0, "TUCE": 0}).round(4).tolist()
    [6.3515, 2.0, 0.0418]
    """
    R, r, labels = restriction_matrix(restriction, result.names)
    view = result if cov is None else result.with_cov(cov)
    V = view.cov.to_numpy()
    used = np.flatnonzero(np.any(R != 0, axis=0))
    unknown = [result.names[k] for k in used if not np.isfinite(V[k, k])]
    if unknown:
        raise SpecificationError(f"The parameter(s) {unknown} are not identified (no finite "
                                 "covariance); a Wald test cannot involve them.")
    diff = R @ result.params.to_numpy() - r
    # only the columns in use: a parameter outside the restrictions may be unidentified
    middle = R[:, used] @ V[np.ix_(used, used)] @ R[:, used].T
    try:
        statistic = float(diff @ np.linalg.solve(middle, diff))
    except np.linalg.LinAlgError:
        raise SpecificationError(f"R V R' is singular for the restrictions {labels}; the "
                                 "covariance does not identify them.") from None
    out = _chi2(statistic, R.shape[0], "wald")
    out.attrs.update(restrictions=labels, cov_type=view.cov_type)
    return out


def _check_same_data(restricted, full, test: str) -> None:
    """``restricted`` and ``full`` are models (a fit's ``model``)."""
    for model in (restricted, full):
        refuse_pseudo_likelihood(model.weight_type, f"A {test} test",
                                 "res.wald_test() on the robust covariance instead")
    if restricted.weight_type != full.weight_type:
        raise SpecificationError(
            f"A {test} test needs both models weighted alike; the restricted fit has "
            f"weight_type={restricted.weight_type!r} and the full one {full.weight_type!r}.")
    if restricted.n_obs != full.n_obs:
        raise SpecificationError(f"A {test} test needs both models fitted to the same rows; "
                                 f"the restricted fit has {restricted.n_obs} observations and "
                                 f"the full one {full.n_obs} (were different rows dropped for "
                                 "missing values?).")
    y_r, y_f = restricted.outcome_values(), full.outcome_values()
    if y_r is not None and y_f is not None and y_r.shape == y_f.shape:
        if not np.array_equal(y_r, y_f):
            raise SpecificationError(f"A {test} test needs both models fitted to the same "
                                     "outcome; the two fits have different outcome values.")


def _warn_not_converged(fits: dict) -> None:
    for label, fit in fits.items():
        if not fit.converged:
            warnings.warn(f"The {label} fit did not converge; the test statistic is not "
                          "reliable.", ConvergenceWarning, stacklevel=user_stacklevel())


def _warn_if_not_nested(restricted, full) -> None:
    """Warn where the two fits do not look nested: different models (families) or
    restricted parameters the full model does not have. Whether they are cannot be told
    from the fits, so the test goes on; a null that sets a parameter with no value of 0
    in the full model (NB2's alpha for the Poisson) lies on the boundary."""
    r_model, f_model = restricted.model, full.model
    outside = [n for n in restricted.names if n not in full.names]
    problems = []
    if r_model.label != f_model.label:
        problems.append(f"the restricted fit is of the {r_model.label!r} model and the full one "
                        f"of the {f_model.label!r} model, and the test assumes the first is the "
                        "second with some parameters fixed")
    if outside:
        problems.append(f"the restricted fit's parameter(s) {outside} are not in the full model")
    if not problems:
        return
    extra = [(k, n) for k, n in enumerate(full.names) if n not in restricted.names]
    boundary = [n for k, n in extra if not f_model.can_be_zero(k)]
    tail = (f"; if it is nested by a limit of {boundary} (the Poisson as NB2 with alpha -> 0), "
            "the restriction is on the boundary and the chi-squared p-value is conservative "
            "(halve it for one such parameter)" if boundary and not outside else "")
    warnings.warn(f"The models may not be nested: {'; '.join(problems)}. Between models that "
                  "are not nested (logit and probit) the statistic has no chi-squared "
                  f"distribution: compare them by AIC or BIC instead{tail}.", NestingWarning,
                  stacklevel=user_stacklevel())


def lr_test(restricted, full) -> pd.Series:
    """Likelihood-ratio test of a restricted fit against a larger one it is nested in.

    The statistic is ``2 (loglik_full - loglik_restricted)`` on ``n_params_full -
    n_params_restricted`` degrees of freedom. For a restriction on the boundary of the
    parameter space (Poisson against NB2, ``alpha = 0``) the chi-squared p-value is
    conservative: the null distribution is then a 50:50 mixture of 0 and chi2(1), whose
    p-value is half of this one (Self and Liang, 1987).

    A variance component of a mixed model is such a restriction, and for it the test uses
    the boundary null itself: a fixed-effect fit against a random-intercept fit of the same
    family and fixed part, or ``(1 | g)`` against ``(1 + x | g)``, is referred to a 50:50
    mixture of chi2(k) and chi2(k + 1), ``k`` the correlations removed with the standard
    deviation (Stata's ``chibar2(01)`` after ``melogit`` and ``mixed`` for a random
    intercept; Stram and Lee, 1994). With several standard deviations removed the p-value
    is the conservative chi2 on all parameters removed, and ``attrs["note"]`` says so
    (see :meth:`fisherkit.models.mixed.MixedModel.variance_null`).

    Parameters
    ----------
    restricted, full : FitResult
        Fits to the same rows and outcome. A :class:`NestingWarning` says where they do not
        look nested (fits of different families, restricted parameters missing from the
        full model); the statistic is still returned.

    Returns
    -------
    pandas.Series
        ``statistic``, ``df``, ``p_value``; ``attrs["null"]`` names the null distribution
        (``"chi2(2)"``, ``"chibar2(01)"``), and ``attrs["note"]`` explains a boundary null.

    Examples
    --------
    >>> import fisherkit as fk
    >>> df = fk.datasets.load("spector")
    >>> small = fk.fit("GRADE ~ GPA", data=df, family="logit")
    >>> big = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit")
    >>> lr_test(small, big).round(4).tolist()
    [6.6385, 2.0, 0.0362]

    A random intercept against the fixed-effect fit:

    >>> cbpp = fk.datasets.load("cbpp")
    >>> fixed = fk.fit("incidence ~ C(period)", cbpp, "binomial", trials="size")
    >>> mixed = fk.fit("incidence ~ C(period) + (1 | herd)", cbpp, "binomial", trials="size")
    >>> test = lr_test(fixed, mixed)
    >>> test.attrs["null"], round(float(test["statistic"]), 4)
    ('chibar2(01)', 14.0058)
    """
    for label, fit in (("restricted", restricted), ("full", full)):
        if not hasattr(fit, "loglik") or not hasattr(fit, "n_params"):
            raise SpecificationError(f"The {label} model must be a fit result; got "
                                     f"{type(fit).__name__}.")
    _check_same_data(restricted.model, full.model, "likelihood-ratio")
    df = full.n_params - restricted.n_params
    if df <= 0:
        raise SpecificationError(f"The full model must have more parameters than the restricted "
                                 f"one; they have {full.n_params} and {restricted.n_params} "
                                 "(are the arguments swapped?).")
    _warn_not_converged({"restricted": restricted, "full": full})
    boundary = _boundary_null(restricted, full)
    if boundary is None:
        _warn_if_not_nested(restricted, full)
    statistic = 2.0 * (full.loglik - restricted.loglik)
    if statistic < -1e-6 * (1.0 + abs(full.loglik)):
        warnings.warn(f"The full model's log-likelihood ({full.loglik:.10g}) is below the "
                      f"restricted one's ({restricted.loglik:.10g}): the models are not nested "
                      "or the full fit stopped short of its maximum.", NestingWarning,
                      stacklevel=user_stacklevel())
    out = _chi2(max(statistic, 0.0), df, "likelihood_ratio")
    if boundary is None:
        out.attrs["null"] = f"chi2({df})"
    else:
        # a full fit at the boundary (a variance estimated at zero) ends a rounding error
        # above the restricted log-likelihood: that is the point mass at 0, not a tail
        at_zero = out["statistic"] <= 1e-8 * (1.0 + abs(full.loglik))
        out["p_value"] = mixture_sf(0.0 if at_zero else out["statistic"], boundary["weights"])
        out.attrs.update(null=boundary["null"], note=boundary["note"])
    return out


def _embed(restricted, model) -> np.ndarray:
    """The full model's working vector at the restricted estimate, extra coefficients 0."""
    names = list(model.names)
    params = restricted.params
    outside = [n for n in params.index if n not in names]
    if outside:
        raise SpecificationError(f"The restricted fit's parameter(s) {outside} are not in the "
                                 f"full model, whose parameters are {names}.")
    natural = np.zeros(len(names))
    for k, name in enumerate(names):
        if name in params.index:
            natural[k] = params[name]
        elif not model.can_be_zero(k):
            raise SpecificationError(f"The full model's parameter {name!r} is not in the "
                                     "restricted fit and has no null value of 0; a score "
                                     "test needs it in both.")
    return model.to_working(natural)


def score_test(restricted, full, *, data=None, information: str = "expected",
               **model_options) -> pd.Series:
    """Score (Rao, Lagrange-multiplier) test from a restricted fit alone.

    The full model's score ``s`` and information ``I`` are evaluated at the restricted
    estimate, the full model's extra coefficients set to 0; the statistic is ``s' I^-1 s``
    on as many degrees of freedom as extra parameters. The full model need not be fitted.

    Parameters
    ----------
    restricted : FitResult
    full : FitResult, model or str
        The larger model: a fit, its ``model``, or a formula fitted to ``data`` with the
        restricted fit's family (``model_options`` such as ``offset=`` as for ``fk.fit``).
    data : DataFrame, optional
        Needed when ``full`` is a formula.
    information : {"expected", "observed", "opg"}
        The information in the quadratic form. The expected one is Rao's; the observed one
        is statsmodels' default; the OPG one gives the n R-squared form of the
        Lagrange-multiplier test.

    Returns
    -------
    pandas.Series
        ``statistic``, ``df``, ``p_value``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> df = fk.datasets.load("spector")
    >>> small = fk.fit("GRADE ~ GPA", data=df, family="logit")
    >>> score_test(small, "GRADE ~ GPA + TUCE + PSI", data=df).round(4).tolist()
    [6.4596, 2.0, 0.0396]
    """
    if information not in ("expected", "observed", "opg"):
        raise SpecificationError(f"Unknown information {information!r}; choose 'expected', "
                                 "'observed' or 'opg'.")
    if isinstance(full, str):
        if data is None:
            raise SpecificationError("A score test against a formula needs data=.")
        family = getattr(restricted.model, "family", None)
        if not isinstance(family, Family):
            raise SpecificationError("A score test against a formula takes a restricted fit "
                                     "of fk.fit, whose family the formula is fitted with; "
                                     "give the full model (or its fit) instead.")
        model = build_model(full, data, family, **model_options)
    else:
        if data is not None or model_options:
            raise SpecificationError("data= and model options go with a formula for 'full'.")
        model = getattr(full, "model", full)
        if not isinstance(model, LikelihoodModel):
            raise SpecificationError(f"The full model must be a fit result, a model or a "
                                     f"formula; got {type(full).__name__}.")
    _check_same_data(restricted.model, model, "score")
    df = model.n_params - restricted.n_params
    if df <= 0:
        raise SpecificationError(f"The full model must have more parameters than the restricted "
                                 f"one; they have {model.n_params} and {restricted.n_params}.")
    _warn_not_converged({"restricted": restricted})
    theta = _embed(restricted, model)
    loglik, score, hessian = model.derivatives(theta)
    if abs(loglik - restricted.loglik) > 1e-6 * (1.0 + abs(restricted.loglik)):
        raise SpecificationError(f"At the restricted estimate the full model's log-likelihood is "
                                 f"{loglik:.10g}, not the restricted fit's "
                                 f"{restricted.loglik:.10g}: the models are not nested this way "
                                 "(different data, offset, family or link).")
    if information == "observed":
        info = -hessian
    elif information == "opg":
        info = model.opg(theta)
    else:
        info = model.expected_information(theta).matrix
    try:
        statistic = float(score @ np.linalg.solve(info, score))
    except np.linalg.LinAlgError:
        raise SpecificationError(f"The {information} information of the full model is singular "
                                 "at the restricted estimate.") from None
    out = _chi2(statistic, df, "score")
    out.attrs["information"] = information
    return out

