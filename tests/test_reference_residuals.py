"""Residuals and predictions after the fit against Stata's own values, as quoted in
statsmodels' installed test results.

Sources (every number below is read from these files, none is typed in):

- ``statsmodels/genmod/tests/results/glm_test_resids.py``: Stata's ``glm`` residuals,
  columns Pearson, deviance, working, Anscombe, response, printed to at most 8 significant
  digits.
  Which model each array belongs to is read from ``results_glm.py`` (classes ``Lbw``,
  ``Star98``, ``Scotvote``, ``Cpunish``) and ``test_glm.py`` (how it loads the data and builds
  the model): ``lbw_resids`` the logit of ``low`` on the lbw data (``stata_lbw_glm.csv``, race
  as black/other against white); ``star98_resids`` the binomial of NABOVE successes in
  NABOVE + NBELOW trials on the 20 star98 columns; ``scotvote_resids`` the gamma with the
  canonical (inverse) link on the scotland data; ``cpunish_resids`` the Poisson of executions
  on the cpunish data with VC100k96 logged.
- ``statsmodels/genmod/tests/results/results_glm_poisson_weights.py``: Stata's ``glm ...,
  family(poisson)`` on cpunish unweighted and with ``[fweight]``, ``[aweight]``,
  ``[pweight]`` (the do-file ``poisson_weights_v2.do`` beside it): ``predict`` of mu, stdp
  and every residual, kept by ``mkmat`` from Stata's float variables (so to float32
  precision), and the coefficients at 14 digits.
- ``statsmodels/discrete/tests/results/results_glm_logit_constrained.py``: Stata's ``glm grade
  gpa tuce psi, family(binomial) constraints(2)`` (gpa = psi, as statsmodels' test_constrained
  fits it) with ``predict, mu`` and ``predict, stdp``.

At fisherkit's converged fit, every kind is compared with a tolerance measured and named
beside it. Where that is looser than the printed digits, fisherkit's residuals are also
evaluated at Stata's own estimate (its printed coefficients, or for the gamma model the
coefficients recovered from its fitted means), where they agree with every digit Stata
kept: the gap is then Stata's stopping point or its float storage of the data, not a
convention. The binomial with trials (star98) confirms the count scale: Stata's response,
Pearson, deviance and Anscombe residuals compare ``y`` successes with ``m p``.

One convention differs, in the old listing only: ``glm_test_resids``' working column is
``(y - mu) d mu / d eta``, where Stata documents ``(y - mu) d eta / d mu`` and its
``predict, working`` in the later do-file gives that (the cpunish model is in both files: the
other four columns agree to 2.4e-6 relative, the old run matching double data and the later
one float data, while the working columns differ by the factor ``mu^2``). statsmodels' own
test multiplies the old column by ``(d eta / d mu)^2`` ("fix incorrect numbers in
resid_working"); so do we.
"""

import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.genmod.tests.results as sm_glm_results
import statsmodels.genmod.tests.results.results_glm_poisson_weights as stata_weights
from statsmodels.datasets import cpunish, star98
from statsmodels.discrete.tests.results import results_glm_logit_constrained
from statsmodels.genmod.tests.results import glm_test_resids

import fisherkit as fk
from fisherkit.inference.residuals import residuals as residuals_at

#: glm_test_resids' column order
OLD_COLUMNS = ("pearson", "deviance", "working", "anscombe", "response")
KINDS = ("response", "pearson", "deviance", "working", "anscombe")
CPUNISH_FORMULA = "EXECUTIONS ~ INCOME + PERPOVERTY + PERBLACK + LN_VC100k96 + SOUTH + DEGREE"
STAR98_COLUMNS = list(star98.load().exog.columns)


def half_unit(printed: np.ndarray) -> np.ndarray:
    """Half a unit in the last digit of each printed number (its shortest repr)."""
    out = []
    for value in np.ravel(printed):
        mantissa, _, exponent = repr(float(value)).lower().partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        out.append(0.5 * 10.0 ** (int(exponent or 0) - decimals))
    return np.array(out)


def float32_half_ulp(stored: np.ndarray) -> np.ndarray:
    """Half the float32 spacing at each value: the rounding of a Stata float variable."""
    return 0.5 * np.spacing(np.abs(stored).astype(np.float32)).astype(float)


# ---- the data, as statsmodels' test_glm.py builds them ------------------------------------

def lbw_fit(**kw):
    data = pd.read_csv(Path(sm_glm_results.__file__).parent / "stata_lbw_glm.csv")
    return fk.fit("low ~ age + lwt + C(race, Treatment('white')) + smoke + ptl + ht + ui",
                  data=data, family="logit", **kw)


def star98_fit(**kw):
    d = star98.load()
    data = pd.concat([d.endog, d.exog], axis=1).assign(TRIALS=d.endog.NABOVE + d.endog.NBELOW)
    return fk.fit("NABOVE ~ " + " + ".join(STAR98_COLUMNS), data=data, family="binomial",
                  trials="TRIALS", **kw)


def scotvote_fit(**kw):
    return fk.fit("YES ~ COUTAX + UNEMPF + MOR + ACT + GDP + AGE + COUTAX_FEMALEUNEMP",
                  data=fk.datasets.load("scotland"), family="gamma", link="inverse", **kw)


def cpunish_data():
    """cpunish with VC100k96 logged and the do-file's weights (as tests/test_models_weights)."""
    df = pd.DataFrame(cpunish.load().data)
    df["LN_VC100k96"] = np.log(df["VC100k96"])
    df["fw"] = [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3]
    df["id"] = np.arange(1, 18) // 2
    return df


def cpunish_fit(**kw):
    return fk.fit(CPUNISH_FORMULA, cpunish_data(), "poisson", **kw)


def mean_slope(name, res, mu):
    """``d mu / d eta`` on the outcome's scale at the fitted means ``mu``."""
    if name == "star98":
        m = res.model.data.aux["trials"]
        return mu * (1.0 - mu / m)
    return {"lbw": mu * (1.0 - mu), "scotvote": -mu ** 2, "cpunish": mu}[name]


OLD = {  # name: (fit, Stata's residuals)
    "lbw": (lbw_fit, glm_test_resids.lbw_resids),
    "star98": (star98_fit, glm_test_resids.star98_resids),
    "scotvote": (scotvote_fit, glm_test_resids.scotvote_resids),
    "cpunish": (cpunish_fit, glm_test_resids.cpunish_resids),
}


def as_printed(name, res, kind, values, mu):
    """fisherkit's residual on the scale of the old listing's column (working: times
    ``(d mu / d eta)^2``, see the module notes)."""
    return values * mean_slope(name, res, mu) ** 2 if kind == "working" else values


@pytest.fixture(scope="module", params=sorted(OLD))
def old(request):
    fit, stata = OLD[request.param]
    return request.param, fit(tol=1e-12), stata


# at the converged fit, (rtol, half-units of the 8th printed digit):
# - lbw and cpunish: every printed digit, up to Stata's stopping point: largest gaps 1.2
#   (lbw) and 2.1 (cpunish, Anscombe) half-units, 5e-8 and 3e-7 relative
# - scotvote: 1.2e-5 relative (up to about 2000 half-units of the 6 to 8 printed digits),
#   Stata's early stop (test_scotvote_gap_is_statas_stopping_point)
# - star98: 9.2e-7 relative (46 half-units) on every kind alike. The residuals are small
#   differences of large counts, and Stata's fitted means agree with fisherkit's to 1.8e-8
#   relative only (test_star98_gap_is_in_the_fitted_means); statsmodels' own test compares
#   these residuals at atol 0.1
OLD_TOL = {"lbw": (0.0, 2.5), "cpunish": (0.0, 2.5), "star98": (1e-6, 2.0),
           "scotvote": (2e-5, 2.0)}


def test_old_listing_at_the_converged_fit(old):
    name, res, stata = old
    rtol, units = OLD_TOL[name]
    mu = res.model.data.y - res.residuals("response").to_numpy()
    for j, kind in enumerate(OLD_COLUMNS):
        printed = stata[:, j]
        ours = as_printed(name, res, kind, res.residuals(kind).to_numpy(), mu)
        bound = rtol * np.abs(printed) + units * half_unit(printed)
        np.testing.assert_array_less(np.abs(ours - printed), bound, err_msg=f"{name} {kind}")


def test_star98_gap_is_in_the_fitted_means():
    """Stata's fitted counts ``m p`` (y minus its response residual) are 1.8e-8 relative from
    fisherkit's, while the residuals are up to 2400 times smaller than the counts: the 9e-7
    relative gap of the residuals is that of the means, amplified by the cancellation (the
    largest, row 90: means 4.9e-9 apart, a residual 183 times smaller than its mean). A
    1.8e-8 gap in the means is within an ML stopping point; float32 covariates are not the
    cause (they move the residuals by 1.5e-3)."""
    res = star98_fit(tol=1e-12)
    stata = glm_test_resids.star98_resids
    mu_stata = res.model.data.y - stata[:, OLD_COLUMNS.index("response")]
    mu = res.model.data.y - res.residuals("response").to_numpy()
    np.testing.assert_allclose(mu, mu_stata, rtol=3e-8)  # 1.8e-8 seen
    assert np.max(mu / np.abs(stata[:, OLD_COLUMNS.index("response")])) > 100


def test_scotvote_gap_is_statas_stopping_point():
    """Stata's gamma residuals are 1e-5 from fisherkit's only because Stata stopped early:
    its fitted means (y minus its response residual) are a gamma fit's, 1 / mu linear in the
    covariates to 1e-9, at coefficients up to 6e-7 relative from the optimum; at those
    coefficients fisherkit's Pearson, deviance and Anscombe residuals agree with every
    printed digit."""
    res = scotvote_fit(tol=1e-12)
    stata = glm_test_resids.scotvote_resids
    mu_stata = res.model.data.y - stata[:, OLD_COLUMNS.index("response")]
    X = res.model.data.designs["mu"]
    beta, *_ = np.linalg.lstsq(X, 1.0 / mu_stata, rcond=None)
    assert np.max(np.abs(X @ beta * mu_stata - 1.0)) < 2e-9  # 8.7e-10 seen
    gap = np.abs(beta / res.params.iloc[:X.shape[1]].to_numpy() - 1.0)
    assert 1e-7 < gap.max() < 1e-6  # 5.9e-7 seen, on the intercept
    at_stata = types.SimpleNamespace(model=res.model, theta=np.r_[beta, res.theta[X.shape[1]:]])
    for kind in ("pearson", "deviance", "anscombe"):
        printed = stata[:, OLD_COLUMNS.index(kind)]
        ours = residuals_at(at_stata, kind).to_numpy()
        # within 1.1 half-units of the last printed digit (largest 1.01: the recovered
        # coefficients carry the rounding of the printed response residuals); at the
        # converged fit the same residuals are up to 1e-5 relative (about 150 half-units) off
        np.testing.assert_array_less(np.abs(ours - printed), 1.1 * half_unit(printed),
                                     err_msg=kind)


# ---- cpunish, Poisson, unweighted and weighted (results_glm_poisson_weights.py) ---------

WEIGHTED = [  # (weight_type, Stata's results): glm ... [fweight|aweight|pweight=fweight]
    (None, stata_weights.results_poisson_none_nonrobust),
    ("frequency", stata_weights.results_poisson_fweight_nonrobust),
    ("analytic", stata_weights.results_poisson_aweight_nonrobust),
    ("probability", stata_weights.results_poisson_pweight_nonrobust),
]
COVARIATES = ["INCOME", "PERPOVERTY", "PERBLACK", "LN_VC100k96", "SOUTH", "DEGREE"]


def as_stata_floats(df):
    """The covariates as the do-file's Stata held them: ``insheet`` reads decimals into
    float variables and ``generate LN_VC100k96 = log(vc100k96)`` makes a float. On these
    fisherkit's coefficients are 5e-9 relative from Stata's 14-digit ones (1.3e-6 on the
    float64 values, the gap tests/test_models_weights allows for as "Stata's tolerance")."""
    out = df.copy()
    out[COVARIATES] = out[COVARIATES].astype("float32").astype("float64")
    return out


def weighted_fit(weight_type, **kw):
    return fk.fit(CPUNISH_FORMULA, as_stata_floats(cpunish_data()), "poisson",
                  weights=None if weight_type is None else "fw", weight_type=weight_type,
                  tol=1e-12, cluster="id", **kw)


def stata_residuals(ref):
    return {kind: ref.resids[:, list(ref.resids_colnames).index(f"resid_{kind}")]
            for kind in KINDS}


def stata_order(values):
    """Stata lists the constant last; fisherkit first."""
    return np.r_[values[-1], values[:-1]]


@pytest.mark.parametrize("weight_type, ref", WEIGHTED, ids=[str(w) for w, _ in WEIGHTED])
def test_cpunish_residuals_under_every_weight_type(weight_type, ref):
    # Stata's residuals carry no weight: its aweight Pearson and deviance residuals are the
    # unweighted formulas (statsmodels' test_glm_weights multiplies them by sqrt(aweight)
    # to match its var_weights), and so are fisherkit's under every weight_type
    res = weighted_fit(weight_type)
    b = ref.params_table[:, 0]
    np.testing.assert_allclose(res.params, stata_order(b), rtol=1e-8)  # 5.0e-9 seen
    at_stata = types.SimpleNamespace(model=res.model, theta=stata_order(b))
    for kind, stored in stata_residuals(ref).items():
        unit = float32_half_ulp(stored)  # mkmat kept Stata's float variables
        # at Stata's coefficients: the float rounding of the stored value, within 1.1 of
        # its half-ulp (largest 1.05, the 14-digit coefficients' own rounding)
        ours = residuals_at(at_stata, kind).to_numpy()
        np.testing.assert_array_less(np.abs(ours - stored), 1.1 * unit, err_msg=kind)
        # at fisherkit's optimum: within 3 half-ulps (largest 2.5)
        np.testing.assert_array_less(np.abs(res.residuals(kind).to_numpy() - stored),
                                     3 * unit, err_msg=kind)


def _stata_fits():
    """Every cpunish Poisson fit the do-file ran: (weight_type, cov, Stata's results)."""
    out = []
    for weight, short in ((None, "none"), ("frequency", "fweight"), ("analytic", "aweight"),
                          ("probability", "pweight")):
        for cov, suffix in (("observed", "nonrobust"), ("robust", "hc1"), ("cluster", "clu1")):
            # pweights: Stata's "nonrobust" run reports its default, robust, covariance
            cov = "robust" if weight == "probability" and cov == "observed" else cov
            out.append((weight, cov, getattr(stata_weights, f"results_poisson_{short}_{suffix}")))
    return out


STATA_FITS = _stata_fits()


@pytest.mark.parametrize("weight_type, cov, ref", STATA_FITS,
                         ids=[f"{w}-{c}" for w, c, _ in STATA_FITS])
def test_cpunish_mu_and_stdp(weight_type, cov, ref):
    """``predict, mu`` and ``predict, stdp`` (the link-scale se under the fit's vce), on the
    floats Stata fitted: within Stata's own float rounding of the stored prediction
    (tests/test_models_weights compares the weighted ones at 1e-5 on the float64 data)."""
    res = weighted_fit(weight_type, cov=cov)
    names = list(ref.predicted_colnames)
    for ours, column in ((res.predict()["estimate"], "predict_mu"),
                         (res.predict(scale="link")["se"], "predict_linpred_std")):
        stored = ref.predicted[:, names.index(column)]
        np.testing.assert_array_less(np.abs(ours.to_numpy() - stored),
                                     1.1 * float32_half_ulp(stored), err_msg=column)


# ---- spector, logit with gpa = psi (results_glm_logit_constrained.py) -------------------

def test_spector_constrained_logit_mu_and_stdp():
    """``glm grade gpa tuce psi, family(binomial) constraints(2)``, constraint 2 being
    gpa = psi (statsmodels' TestGLMLogitConstrained2 fits "x1 - x3 = 0"): the constrained
    fit is the unconstrained fit of ``GRADE ~ I(GPA + PSI) + TUCE``, with the same linear
    predictor and, Stata's constrained covariance being that fit's mapped back, the same
    stdp."""
    ref = results_glm_logit_constrained.results_constraint2
    res = fk.fit("GRADE ~ I(GPA + PSI) + TUCE", data=fk.datasets.load("spector"),
                 family="logit", tol=1e-12)
    b, se = ref.params_table[:, 0], ref.params_table[:, 1]  # gpa tuce psi _cons
    assert b[0] == b[2] and se[0] == se[2]
    # Stata's coefficients are printed to 14 digits but stopped 1.5e-7 from the optimum
    # (largest seen, on TUCE); its OIM se are 8.2e-8 from fisherkit's
    np.testing.assert_allclose(res.params.to_numpy(), b[[3, 0, 1]], rtol=3e-7)
    np.testing.assert_allclose(res.se.to_numpy(), se[[3, 0, 1]], rtol=1e-7)
    # the predictions follow: mu within 3.9e-7 relative (3.3e-8 absolute), stdp 9.0e-8
    np.testing.assert_allclose(res.predict()["estimate"], ref.predict_mu, rtol=5e-7)
    np.testing.assert_allclose(res.predict(scale="link")["se"], ref.predict_linpred_std,
                               rtol=2e-7)
