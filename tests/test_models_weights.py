"""Observation weights: Stata's published Poisson fits of the cpunish data, frequency weights
against replicated rows on every family and covariance kind, analytic and probability
weights' conventions, and the refusals."""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.genmod.tests.results.results_glm_poisson_weights as stata
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from statsmodels.datasets.cpunish import load as load_cpunish

import fisherkit as fk
from fisherkit.models.builtins import FAMILIES
from fisherkit.models.weights import check_weights, effective_n, model_weights
from tests.shared import simulate

CPUNISH_FORMULA = "EXECUTIONS ~ INCOME + PERPOVERTY + PERBLACK + LN_VC100k96 + SOUTH + DEGREE"


@pytest.fixture(scope="module")
def cpunish():
    """The cpunish data as statsmodels' weight tests use them: log of VC100k96, the
    frequency weights of the do-file and its clusters (row number // 2). Stata held the
    covariates as float32: rounded so, the fits are Stata's to its 15 stored digits
    (unrounded, they differ in the 7th)."""
    df = pd.DataFrame(load_cpunish().data)
    df["LN_VC100k96"] = np.log(df["VC100k96"])
    covariates = ["INCOME", "PERPOVERTY", "PERBLACK", "LN_VC100k96", "SOUTH", "DEGREE"]
    df[covariates] = df[covariates].astype(np.float32).astype(float)
    df["fw"] = [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3]
    df["id"] = np.arange(1, 18) // 2
    return df


def _stata_order(table):
    """Stata lists the constant last; fisherkit first."""
    return np.r_[table[-1], table[:-1]]


# (weight_type, cov, Stata's results): the convention each row checks
STATA_CASES = [
    # fweights: n_obs = 33 = sum of weights; OIM; robust N/(N-1) with N = 33; cluster G/(G-1)
    ("frequency", "observed", stata.results_poisson_fweight_nonrobust),
    ("frequency", "robust", stata.results_poisson_fweight_hc1),
    ("frequency", "cluster", stata.results_poisson_fweight_clu1),
    # aweights: rescaled to sum to 17 rows, so loglik -27.29 (not -52.97); meat (w s)(w s)'
    ("analytic", "observed", stata.results_poisson_aweight_nonrobust),
    ("analytic", "robust", stata.results_poisson_aweight_hc1),
    ("analytic", "cluster", stata.results_poisson_aweight_clu1),
    # pweights: unscaled pseudo-loglik; the default covariance is robust (N = 17 rows)
    ("probability", None, stata.results_poisson_pweight_nonrobust),
    ("probability", "robust", stata.results_poisson_pweight_hc1),
    ("probability", "cluster", stata.results_poisson_pweight_clu1),
    # no weights: vce(robust) and vce(cluster id)
    (None, "robust", stata.results_poisson_none_hc1),
    (None, "cluster", stata.results_poisson_none_clu1),
]


@pytest.mark.parametrize("weight_type, cov, ref", STATA_CASES,
                         ids=[f"{w}-{c}" for w, c, _ in STATA_CASES])
def test_poisson_weights_match_stata_on_cpunish(cpunish, weight_type, cov, ref):
    weights = None if weight_type is None else "fw"
    res = fk.fit(CPUNISH_FORMULA, cpunish, "poisson", weights=weights, weight_type=weight_type,
                 cov=cov, cluster="id")
    table = ref.params_table
    # what is left is Stata's own stopping rule (its estimates are within 5e-9)
    np.testing.assert_allclose(res.params.to_numpy(), _stata_order(table[:, 0]), rtol=1e-8)
    np.testing.assert_allclose(res.se.to_numpy(), _stata_order(table[:, 1]), rtol=5e-9)
    n, _, loglik, df_model, aic, bic = ref.infocrit
    assert res.n_obs == n
    assert res.loglik == pytest.approx(loglik, abs=1e-10)
    assert res.aic == pytest.approx(aic, abs=1e-10)
    assert res.bic == pytest.approx(bic, abs=1e-10)
    assert res.cov_type == (cov or "robust")


def test_poisson_weights_link_scale_se_match_stata_stdp(cpunish):
    """Stata's ``predict, stdp`` after each weighted fit: the link-scale se of the fitted
    rows, and ``predict, mu`` (stored by Stata as float32, hence 2e-7)."""
    for weight_type, cov, ref in STATA_CASES[:9]:
        res = fk.fit(CPUNISH_FORMULA, cpunish, "poisson", weights="fw",
                     weight_type=weight_type, cov=cov, cluster="id")
        names = list(ref.predicted_colnames)
        got = res.predict(scale="link")
        np.testing.assert_allclose(got["se"], ref.predicted[:, names.index("predict_linpred_std")],
                                   rtol=2e-7)
        np.testing.assert_allclose(res.predict()["estimate"],
                                   ref.predicted[:, names.index("predict_mu")], rtol=2e-7)


# ---- frequency weights are replicated rows --------------------------------------------

def _replicated(df, w):
    return df.loc[df.index.repeat(w)].reset_index(drop=True)


def _fit_pair(name, df, kwargs, w, **options):
    # both fits to full precision: the comparison is then of the answers, not the stopping
    options.setdefault("tol", 1e-14)
    weighted = df.assign(w=w, g=np.arange(len(df)) // 3)
    long = _replicated(weighted, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fk.fit("y ~ x1 + x2", weighted, name, weights="w", weight_type="frequency",
                   cluster="g", **kwargs, **options)
        b = fk.fit("y ~ x1 + x2", long, name, cluster="g", **kwargs, **options)
    return a, b


def _kinds(res):
    kinds = ["observed", "opg", "sandwich", "HC1", "robust", "cluster"]
    # a Monte Carlo expected information draws a different sample for the replicated rows,
    # and censored survival models have none
    try:
        if res.expected_information.method != "monte_carlo":
            kinds.append("expected")
    except fk.DataError:
        pass
    return kinds


def _assert_same_fit(a, b, rtol):
    assert a.n_obs == b.n_obs
    np.testing.assert_allclose(a.params, b.params, rtol=rtol, atol=rtol)
    for attr in ("loglik", "aic", "bic"):
        assert getattr(a, attr) == pytest.approx(getattr(b, attr), rel=rtol)
    for kind in _kinds(a):
        np.testing.assert_allclose(a.with_cov(kind).se, b.with_cov(kind).se, rtol=100 * rtol,
                                   err_msg=kind)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_frequency_weights_equal_replicated_rows_on_every_family(name):
    df, kwargs = simulate(name, n=60, seed=3)
    w = np.random.default_rng(1).integers(1, 4, size=len(df))
    a, b = _fit_pair(name, df, kwargs, w)
    _assert_same_fit(a, b, 1e-10)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(FAMILIES)), seed=st.integers(0, 10_000),
       top=st.integers(1, 5))
def test_frequency_weights_equal_replication_property(name, seed, top):
    df, kwargs = simulate(name, n=50, seed=seed)
    w = np.random.default_rng(seed).integers(0, top + 1, size=len(df))
    w[:12] = np.maximum(w[:12], 1)  # enough rows of every kind survive the zero weights
    a, b = _fit_pair(name, df, kwargs, w)
    assert a.n_dropped == int(np.sum(w == 0))
    # a fit heading to a boundary (a Student t whose df runs off) is compared elsewhere
    assume(not a.flags and not b.flags and np.max(np.abs(b.params)) < 1e4)
    _assert_same_fit(a, b, 1e-9)


def test_frequency_weights_equal_replication_for_a_likelihood_and_a_user_family():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.normal(1.0, 2.0, 40), "x": rng.uniform(size=40)})
    w = rng.integers(1, 4, 40)

    def normal(p, d):
        z = (d["y"] - p["a"] - p["b"] * d["x"]) / p["sigma"]
        return -0.5 * z ** 2 - anp.log(p["sigma"])

    params = {"a": 0.0, "b": 0.0, "sigma": fk.Scalar("positive")}
    a = fk.fit_likelihood(fk.Likelihood(normal, df.assign(w=w), params=params, weights="w",
                                        weight_type="frequency"))
    b = fk.fit_likelihood(fk.Likelihood(normal, _replicated(df, w), params=params))
    assert a.n_obs == b.n_obs == w.sum()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    for kind in ("observed", "opg", "sandwich", "robust"):
        np.testing.assert_allclose(a.with_cov(kind).se, b.with_cov(kind).se, rtol=1e-8)

    def logpdf(y, mu, sigma):
        return -0.5 * ((y - mu) / sigma) ** 2 - anp.log(sigma)

    family = fk.Family(logpdf, mu=fk.Predictor(), sigma=fk.Scalar("positive"))
    c = fk.fit("y ~ x", df.assign(w=w), family, weights="w", weight_type="frequency")
    d = fk.fit("y ~ x", _replicated(df, w), family)
    np.testing.assert_allclose(c.params, d.params, rtol=1e-10)
    np.testing.assert_allclose(c.se, d.se, rtol=1e-8)
    np.testing.assert_allclose(c.params.to_numpy(), a.params.to_numpy(), rtol=1e-8)


# ---- analytic and probability weights -------------------------------------------------

def test_analytic_weights_are_rescaled_and_probability_weights_are_not(cpunish):
    w = cpunish["fw"].to_numpy()
    base = {k: fk.fit(CPUNISH_FORMULA, cpunish, "poisson", weights="fw", weight_type=k)
            for k in ("analytic", "probability")}
    scaled = {k: fk.fit(CPUNISH_FORMULA, cpunish.assign(fw=7.5 * w), "poisson",
                        weights="fw", weight_type=k) for k in ("analytic", "probability")}
    # analytic: a common factor changes nothing at all
    np.testing.assert_allclose(scaled["analytic"].se, base["analytic"].se, rtol=1e-10)
    assert scaled["analytic"].loglik == pytest.approx(base["analytic"].loglik, rel=1e-12)
    # probability: the pseudo-loglik scales, the robust covariance does not
    np.testing.assert_allclose(scaled["probability"].se, base["probability"].se, rtol=1e-8)
    assert scaled["probability"].loglik == pytest.approx(7.5 * base["probability"].loglik,
                                                         rel=1e-12)
    assert base["analytic"].n_obs == base["probability"].n_obs == 17


def test_analytic_weights_match_statsmodels_var_weights_on_a_normal_model():
    rng = np.random.default_rng(5)
    n = 80
    x = rng.uniform(size=n)
    w = rng.uniform(0.2, 3.0, size=n)
    y = 1.0 + 2.0 * x + rng.normal(size=n) / np.sqrt(w)
    df = pd.DataFrame({"y": y, "x": x, "w": w})
    res = fk.fit("y ~ x", df, "normal", weights="w",
                 weight_type="analytic")
    wls = sm.WLS(y, sm.add_constant(x), weights=w).fit()
    np.testing.assert_allclose(res.params[["Intercept", "x"]], wls.params, rtol=1e-10)
    # sigma by ML: the weighted residual sum of squares over n, with weights summing to n
    wn = w * n / w.sum()
    sigma = np.sqrt(np.sum(wn * wls.resid ** 2) / n)
    assert res.params["sigma"] == pytest.approx(sigma, rel=1e-10)


def test_weighted_averages_are_weighted_means_over_the_rows(cpunish):
    w = cpunish["fw"].to_numpy()
    res = fk.fit(CPUNISH_FORMULA, cpunish, "poisson", weights="fw", weight_type="frequency")
    long = fk.fit(CPUNISH_FORMULA, _replicated(cpunish, w), "poisson")
    for got, want in ((res.predict(average=True), long.predict(average=True)),
                      (res.marginal_effects(), long.marginal_effects()),
                      (res.marginal_effects(at="mean"), long.marginal_effects(at="mean"))):
        np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-9)
        np.testing.assert_allclose(got["se"], want["se"], rtol=1e-8)


def test_probability_weights_refuse_model_based_covariances_and_lr_tests(cpunish):
    res = fk.fit(CPUNISH_FORMULA, cpunish, "poisson", weights="fw", weight_type="probability")
    assert res.cov_type == "robust"
    for kind in ("observed", "expected", "opg"):
        with pytest.raises(fk.SpecificationError, match=f"cov='{kind}' is not valid with "
                                                        "probability weights"):
            res.with_cov(kind)
    with pytest.raises(fk.SpecificationError, match="pseudo-log-likelihood"):
        fk.fit(CPUNISH_FORMULA, cpunish, "poisson", weights="fw", weight_type="probability",
               cov="observed")
    small = fk.fit("EXECUTIONS ~ INCOME", cpunish, "poisson", weights="fw",
                   weight_type="probability")
    with pytest.raises(fk.SpecificationError, match="A likelihood-ratio test needs a likelihood"):
        fk.lr_test(small, res)
    with pytest.raises(fk.SpecificationError, match="A profile-likelihood interval needs a "
                                                    "likelihood.*res.conf_int"):
        res.profile_ci("INCOME")
    with pytest.raises(fk.SpecificationError, match="information-matrix test is not available "
                                                    "for a fit with probability weights"):
        res.information_matrix_test()
    assert list(res.se_table().columns) == ["sandwich", "robust"]


# ---- what is refused ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(weights="w"), fk.SpecificationError,
     "weights= needs weight_type=, one of 'frequency', 'analytic' or 'probability'"),
    (dict(weight_type="frequency"), fk.SpecificationError, "was given without weights="),
    (dict(weights="w", weight_type="survey"), fk.SpecificationError,
     "Unknown weight_type 'survey'"),
    (dict(weights="nope", weight_type="analytic"), fk.DataError,
     "weights column 'nope' is not in the data"),
    (dict(weights=[1.0, 2.0], weight_type="analytic"), fk.DataError,
     "weights has 2 values but the data has 6 rows"),
])
def test_weight_options_are_refused_with_their_name(kwargs, error, match):
    df = pd.DataFrame({"y": [0, 1, 0, 1, 1, 0], "x": [1.0, 2, 3, 4, 5, 7], "w": 1.0})
    with pytest.raises(error, match=match):
        fk.fit("y ~ x", df, "logit", **kwargs)


@pytest.mark.parametrize("w, weight_type, match", [
    ([1, 2, -1, 1, 1, 1, 1, 1], "analytic", r"row 2 is negative \(-1.0\)"),
    ([1, 2, 1.5, 1, 1, 1, 1, 1], "frequency", r"row 2 is not a whole number"),
    ([1, 2, np.inf, 1, 1, 1, 1, 1], "probability", "row 2 is infinite"),
    (["1", "a", 1, 1, 1, 1, 1, 1], "analytic", r"must be numbers; got 'a' at row 1"),
    ([0, 0, 0, 0, 0, 0, 0, 0], "frequency", "Every one of the weights 'w' is zero"),
])
def test_bad_weights_are_refused_naming_the_row(w, weight_type, match):
    df = pd.DataFrame({"y": [0, 1, 0, 1, 1, 0, 1, 0], "x": np.arange(8.0), "w": w})
    with pytest.raises(fk.DataError, match=match):
        fk.fit("y ~ x", df, "logit", weights="w", weight_type=weight_type)


def test_missing_and_zero_weights_drop_their_rows():
    df, _ = simulate("poisson", n=50, seed=2)
    w = np.ones(50)
    w[[3, 7]] = np.nan
    w[[10, 11, 12]] = 0.0
    res = fk.fit("y ~ x1 + x2", df.assign(w=w), "poisson", weights="w",
                 weight_type="frequency")
    kept = fk.fit("y ~ x1 + x2", df.drop(index=[3, 7, 10, 11, 12]), "poisson")
    assert res.n_dropped == 5 and res.n_obs == 45
    np.testing.assert_allclose(res.params, kept.params, rtol=1e-12)
    with pytest.raises(fk.DataError, match="Missing values in column"):
        fk.fit("y ~ x1 + x2", df.assign(w=w), "poisson", weights="w",
               weight_type="frequency", missing="raise")


def test_weight_helpers():
    assert effective_n(np.array([2.0, 3.0]), "frequency", 2) == 5
    assert effective_n(np.array([2.0, 3.0]), "analytic", 2) == 2
    np.testing.assert_allclose(model_weights(np.array([1.0, 2.0, 3.0]), "analytic"),
                               [0.5, 1.0, 1.5])
    np.testing.assert_allclose(check_weights(pd.Series(["1", "2.5"], dtype=object),
                                             "analytic"), [1.0, 2.5])
