"""fisherkit.results: a FitResult's covariance attributes, its views with another covariance
(``with_cov``) sharing the model's information, its tables, and its immutability.

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
from shared import logit_statsmodels, relabel, spector_frame

SPECTOR = "GRADE ~ GPA + TUCE + PSI"


@pytest.fixture(scope="module")
def spector():
    return spector_frame()


@pytest.fixture(scope="module")
def logit(spector):
    df, _ = spector
    return fk.fit(SPECTOR, data=df, family="logit")


# ---- the covariance attributes of a result --------------------------------------------------


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


# ---- tables and views with another covariance -----------------------------------------------


def test_se_table_is_with_cov_column_by_column(nb2_ships):
    res = nb2_ships
    table = res.se_table()
    assert list(table.columns) == ["observed", "expected", "opg", "sandwich", "cluster"]
    for kind in table.columns:
        pd.testing.assert_series_equal(table[kind], res.with_cov(kind).se, check_names=False)
    table = res.se_table(["HC0", "HC1"])
    assert list(table.columns) == ["HC0", "HC1"]
    n, p = res.n_obs, res.n_params
    np.testing.assert_allclose(table["HC1"], table["HC0"] * np.sqrt(n / (n - p)), rtol=1e-14)


def test_with_cov_does_not_refit(monkeypatch):
    df, X = spector_frame()
    res = fk.fit(SPECTOR, data=df, family="logit")
    model = res.model

    def refit(*args, **kwargs):
        raise AssertionError("with_cov evaluated the log-likelihood or its derivatives")

    # any optimizer needs the log-likelihood, its score or its Hessian at new points: the
    # sandwich needs none of them (the Hessian at the estimate is kept), only the OPG
    for name in ("loglik", "derivatives", "score", "hessian"):
        monkeypatch.setattr(model, name, refit)
    passes = model.passes
    other = res.with_cov("sandwich")
    se = other.se
    assert model.passes - passes <= 1  # the OPG's one pass; a refit takes one per iteration
    assert other.theta is res.theta and other.optimize_result is res.optimize_result
    pd.testing.assert_series_equal(other.params, res.params)
    assert other.cov_type == "sandwich" and res.cov_type == "observed"
    # statsmodels' HC0 on the same data (no factor, as fisherkit's sandwich)
    ref = sm.Logit(df["GRADE"], X).fit(method="newton", tol=1e-12, disp=0, cov_type="HC0")
    np.testing.assert_allclose(se, ref.bse, rtol=1e-8)
    assert not np.allclose(se, res.se)


def test_with_cov_rejects_unknown_kinds():
    res = fk.fit(SPECTOR, data=fk.datasets.load("spector"), family="logit")
    with pytest.raises(fk.SpecificationError, match="Unknown cov 'HC3'"):
        res.with_cov("HC3")
    with pytest.raises(fk.SpecificationError, match="cov='cluster' needs cluster="):
        res.with_cov("cluster")
    with pytest.raises(fk.SpecificationError, match="Unknown information kind"):
        res.information("sandwich")
