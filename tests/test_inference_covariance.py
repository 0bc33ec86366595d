"""fisherkit.inference.covariance: the kinds of covariance, the shared information, the
public covariance attributes of a result, checked against statsmodels.

statsmodels' fits below use Newton's method with tol=1e-12, so both sides stop at the MLE to
about 1e-10 in the estimates; 1e-8 on variances leaves room for that and for the different
orders of summation.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import fisherkit as fk
from fisherkit.inference.covariance import COV_TYPES, Covariance, InformationCache

SPECTOR = "GRADE ~ GPA + TUCE + PSI"
STATSMODELS_FIT = {"method": "newton", "tol": 1e-12, "disp": 0}


@pytest.fixture(scope="module")
def spector():
    df = fk.datasets.load("spector")
    X = sm.add_constant(df[["GPA", "TUCE", "PSI"]], prepend=True)
    return df, X


@pytest.fixture(scope="module")
def logit(spector):
    df, _ = spector
    return fk.fit(SPECTOR, data=df, family="logit")


def logit_statsmodels(spector, **kwargs):
    df, X = spector
    return sm.Logit(df["GRADE"], X).fit(**STATSMODELS_FIT, **kwargs)


def relabel(frame: pd.DataFrame) -> np.ndarray:
    """statsmodels' covariance in fisherkit's order ("const" is fisherkit's "Intercept")."""
    frame = frame.rename(index={"const": "Intercept"}, columns={"const": "Intercept"})
    names = ["Intercept", "GPA", "TUCE", "PSI"]
    return frame.loc[names, names].to_numpy()


# ---- the public attributes of a result ----------------------------------------------------

def test_cov_working_is_the_inverse_observed_information_and_statsmodels(spector, logit):
    cov = logit.cov_working
    assert list(cov.index) == list(cov.columns) == list(logit.model.working_names)
    info = logit.information("observed", scale="working").to_numpy()
    np.testing.assert_allclose(cov.to_numpy(), np.linalg.inv(info), rtol=1e-12)
    ref = logit_statsmodels(spector).cov_params()
    np.testing.assert_allclose(cov.to_numpy(), relabel(ref), rtol=1e-8)


def test_cov_is_cov_working_carried_through_the_jacobian():
    df = fk.datasets.load("spector")
    res = fk.fit("GRADE ~ GPA", data=df, family="normal")
    working = res.cov_working
    assert list(working.columns) == ["Intercept", "GPA", "log(sigma)"]
    J = res.model.natural_jacobian(res.theta)
    np.testing.assert_allclose(res.cov.to_numpy(), J @ working.to_numpy() @ J.T, rtol=1e-14)
    # sigma's variance is sigma^2 times that of log(sigma); the coefficients' are unchanged
    sigma = res.params["sigma"]
    assert res.cov.loc["sigma", "sigma"] == pytest.approx(
        sigma ** 2 * working.loc["log(sigma)", "log(sigma)"], rel=1e-14)


def test_cov_working_is_a_copy(logit):
    cov = logit.cov_working
    cov.iloc[0, 0] = -1.0
    assert logit.cov_working.iloc[0, 0] > 0
    info = logit.information("observed", scale="working")
    info.iloc[0, 0] = -1.0
    assert logit.information("observed", scale="working").iloc[0, 0] > 0


def test_expected_options_are_the_fits_and_read_only(logit):
    assert dict(logit.expected_options) == {}
    view = logit.with_cov("expected", method="exact")
    assert dict(view.expected_options) == {"method": "exact"}
    assert dict(view.with_cov("sandwich").expected_options) == {"method": "exact"}
    with pytest.raises(TypeError, match="does not support item assignment"):
        view.expected_options["method"] = "monte_carlo"


def test_expected_information_says_how_it_was_obtained_and_is_shared(logit):
    info = logit.expected_information
    assert info.method == "closed" and info.mc_se is None
    assert logit.with_cov("HC0").expected_information is info
    np.testing.assert_array_equal(info.matrix,
                                  logit.information("expected", scale="working").to_numpy())
    mc = logit.with_cov("expected", method="monte_carlo", draws=50, seed=1)
    assert mc.expected_information.method == "monte_carlo"
    assert mc.expected_information.draws == 50 and mc.expected_information.mc_se is not None
    np.testing.assert_array_equal(mc.expected_information.matrix,
                                  mc.information("expected", scale="working").to_numpy())


def test_a_result_is_immutable(logit):
    with pytest.raises(AttributeError, match="FitResult is immutable; use with_cov"):
        logit.cov_type = "HC0"
    with pytest.raises(AttributeError, match="FitResult is immutable"):
        logit.anything = 1


def test_with_cov_views_share_the_information_matrices(spector):
    df, _ = spector
    res = fk.fit(SPECTOR, data=df, family="logit")
    model = res.model
    _ = res.se, res.with_cov("opg").se, res.with_cov("expected").se
    before = model.passes
    for kind in ("observed", "expected", "opg", "sandwich", "HC0", "HC1"):
        _ = res.with_cov(kind).se
        _ = res.with_cov("HC1").with_cov(kind).se
    _ = res.information("opg"), res.information("expected", scale="working")
    assert model.passes == before  # no view evaluated the model again


def test_an_information_that_does_not_invert_warns_at_the_fit_and_flags(spector):
    df, _ = spector
    df = df.assign(GPA2=2.0 * df["GPA"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.ConvergenceWarning)  # Newton stalls where -H is singular
        with pytest.warns(fk.SingularInformationWarning,
                          match=r"GPA - 0\.5\*GPA2 is not identified"):
            res = fk.fit("GRADE ~ GPA + GPA2", data=df, family="logit")
    assert "singular_information" in res.flags
    view = res.with_cov("sandwich")  # a view inverts its own bread, and warns when it does
    with pytest.warns(fk.SingularInformationWarning, match="GPA, GPA2 are NaN"):
        assert "singular_information" in view.flags
    assert np.isnan(res.se["GPA"]) and np.isnan(res.se["GPA2"])


def test_bad_options_name_the_option_and_what_is_accepted(logit):
    with pytest.raises(fk.SpecificationError, match="'scale' must be 'natural' or 'working'; "
                                                     "got 'foo'"):
        logit.information(scale="foo")
    with pytest.raises(fk.SpecificationError, match=r"'alpha' must lie in \(0, 1\); got 0"):
        logit.conf_int(alpha=0)
    with pytest.raises(fk.SpecificationError, match=r"'alpha' must lie in \(0, 1\); got 0"):
        logit.summary(alpha=0)
    with pytest.raises(fk.SpecificationError, match="Unknown information kind 'HC0'; choose "
                                                     "'observed', 'expected' or 'opg'"):
        logit.information("HC0")


# ---- the kinds, against statsmodels ------------------------------------------------------

def test_sandwich_and_hc0_match_statsmodels_hc0(spector, logit):
    ref = relabel(logit_statsmodels(spector, cov_type="HC0").cov_params())
    for kind in ("sandwich", "HC0"):
        np.testing.assert_allclose(logit.with_cov(kind).cov.to_numpy(), ref, rtol=1e-8)
        cov = Covariance(logit.model, logit.theta, kind)
        np.testing.assert_allclose(cov.natural, ref, rtol=1e-8)


def test_hc1_is_hc0_times_n_over_n_minus_p(spector, logit):
    # statsmodels' discrete models give "HC1" no small-sample factor (it equals their HC0),
    # so its covariance is multiplied by n / (n - p) here, p = 4 estimated parameters
    ref = relabel(logit_statsmodels(spector, cov_type="HC1").cov_params())
    n, p = logit.n_obs, logit.n_params
    assert (n, p) == (32, 4)
    np.testing.assert_allclose(logit.with_cov("HC1").cov.to_numpy(), ref * n / (n - p),
                               rtol=1e-8)


def test_cluster_is_g_over_g_minus_1(spector):
    df, _ = spector
    groups = np.arange(len(df)) % 5  # 5 clusters, each spread over the whole sample
    res = fk.fit(SPECTOR, data=df, family="logit", cluster=groups, cov="cluster")
    ref = relabel(logit_statsmodels(spector, cov_type="cluster",
                                    cov_kwds={"groups": groups}).cov_params())
    # statsmodels' default factor is (G / (G - 1)) * ((N - 1) / (N - K)); fisherkit's is
    # G / (G - 1) (Stata's for ML models), so statsmodels' (N - 1) / (N - K) is divided out
    N, K = res.n_obs, res.n_params
    np.testing.assert_allclose(res.cov.to_numpy(), ref / ((N - 1) / (N - K)), rtol=1e-8)
    # the same from the labels given to with_cov, or to a Covariance directly
    plain = fk.fit(SPECTOR, data=df, family="logit")
    np.testing.assert_allclose(plain.with_cov("cluster", cluster=groups).cov, res.cov,
                               rtol=1e-14)
    cov = Covariance(plain.model, plain.theta, "cluster", cluster=groups)
    np.testing.assert_allclose(cov.natural, res.cov.to_numpy(), rtol=1e-14)


# ---- the module's objects ----------------------------------------------------------------

def test_information_cache_computes_each_matrix_once(logit):
    model = logit.model
    cache = InformationCache(model, logit.theta)
    first = cache.matrix("observed")
    before = model.passes
    assert cache.matrix("observed") is first
    assert cache.matrix("opg") is cache.opg()
    assert cache.expected({}) is cache.expected(None)
    assert model.passes == before + 2  # one pass for the OPG, one for the expected
    assert sorted(map(str, cache.store)) == ["('expected', ())", "observed", "opg"]
    np.testing.assert_allclose(first, logit.information("observed", scale="working"),
                               rtol=1e-12)


def test_covariance_problems_are_empty_when_the_information_inverts(logit):
    cov = Covariance(logit.model, logit.theta)
    assert cov.kind == "observed" and cov.problems == ()
    np.testing.assert_allclose(cov.working, logit.cov_working.to_numpy(), rtol=1e-12)


def test_covariance_rejects_bad_kinds_and_clusters(logit):
    model, theta = logit.model, logit.theta
    assert "cluster" in COV_TYPES
    with pytest.raises(fk.SpecificationError, match=r"Unknown cov 'robust'; choose one of \["):
        Covariance(model, theta, "robust")
    with pytest.raises(fk.SpecificationError, match="cov='cluster' needs cluster="):
        Covariance(model, theta, "cluster")
    with pytest.raises(fk.SpecificationError, match="The cluster labels have 3 values for 32 "):
        Covariance(model, theta, "cluster", cluster=[1, 2, 3])
    one = Covariance(model, theta, "cluster", cluster=np.zeros(32))
    with pytest.raises(fk.SpecificationError, match="needs at least two clusters"):
        _ = one.working
    with pytest.raises(fk.SpecificationError, match="'opg' covariance is the inverse of one "
                                                     "information matrix: it has no sandwich"):
        Covariance(model, theta, "opg").meat()
    with pytest.raises(fk.SpecificationError, match="Unknown information kind 'sandwich'"):
        InformationCache(model, theta).matrix("sandwich")
