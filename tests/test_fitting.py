"""fisherkit.fitting: fit, fit_likelihood and fit_model, the settings they check and the one
core they share."""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest

import fisherkit as fk
from fisherkit.fitting import FitSettings, fit_model

#: a normal regression and its closed-form maximum likelihood estimate (least squares, and
#: sigma^2 = RSS / n)
RNG = np.random.default_rng(17)
X_VALUES = RNG.normal(size=150)
NORMAL = pd.DataFrame({"x": X_VALUES, "y": 1.0 - 0.5 * X_VALUES + 0.8 * RNG.normal(size=150)})


def least_squares(df):
    X = np.column_stack([np.ones(len(df)), df["x"]])
    beta, rss = np.linalg.lstsq(X, df["y"].to_numpy(), rcond=None)[:2]
    return beta, np.sqrt(rss[0] / len(df))


def normal_regression(p, d):
    z = (d["y"] - p["Intercept"] - p["x"] * d["x"]) / p["sigma"]
    return -0.5 * z * z - anp.log(p["sigma"]) - 0.5 * np.log(2 * np.pi)


def _ok(p, d):
    return -(d - p["m"]) ** 2


Y = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="adam"), "Unknown method 'adam'"),
    (dict(cov="hc3"), "Unknown cov 'hc3'"),
    (dict(maxiter=0), "'maxiter' must be a positive integer"),
    (dict(tol=-1.0), "'tol' must be a positive number"),
    (dict(start=[0.0, 1.0]), r"'start' must have 1 values \(m\)"),
])
def test_fit_errors(kwargs, match):
    with pytest.raises(fk.SpecificationError, match=match):
        fk.fit_likelihood(fk.Likelihood(_ok, Y, params={"m": 0.0}), **kwargs)


def test_fit_needs_a_likelihood():
    with pytest.raises(fk.SpecificationError, match="takes a fk.Likelihood"):
        fk.fit_likelihood(_ok)


# ---- one core for every entry point -------------------------------------------------------

def test_fit_is_fit_model_of_the_built_model_and_both_are_least_squares():
    res = fk.fit("y ~ x", data=NORMAL, family="normal")
    again = fit_model(fk.fitting.build_model("y ~ x", NORMAL, "normal"), formula="y ~ x")
    assert res.formula == again.formula == "y ~ x" and res.method == again.method == "newton"
    np.testing.assert_array_equal(again.theta, res.theta)
    np.testing.assert_array_equal(again.se.to_numpy(), res.se.to_numpy())
    assert again.n_iter == res.n_iter and again.loglik == res.loglik
    beta, sigma = least_squares(NORMAL)
    np.testing.assert_allclose(res.params.to_numpy(), [*beta, sigma], rtol=1e-10)


def test_fit_likelihood_reaches_the_same_estimate_through_the_same_core():
    lik = fk.Likelihood(normal_regression, NORMAL,
                        params={"Intercept": 0.0, "x": 0.0, "sigma": fk.Scalar("positive")})
    res = fk.fit_likelihood(lik)
    same = fit_model(lik)
    np.testing.assert_array_equal(same.theta, res.theta)
    assert res.formula == same.formula == "normal_regression"  # the model's label
    beta, sigma = least_squares(NORMAL)
    np.testing.assert_allclose(res.params.to_numpy(), [*beta, sigma], rtol=1e-10)


def test_settings_are_checked_before_any_model_is_built():
    # the data would be refused too (no column 'nope'); the setting is named first
    with pytest.raises(fk.SpecificationError, match="Unknown method 'adam'"):
        fk.fit("y ~ nope", data=NORMAL, method="adam")
    with pytest.raises(fk.SpecificationError, match="Unknown cov 'hc3'"):
        fk.fit("y ~ nope", data=NORMAL, cov="hc3")
    with pytest.raises(fk.SpecificationError, match="The 'maxiter' must be a positive integer; got 2.5"):
        FitSettings.check("newton", None, "observed", 2.5, 1e-10, False)
    with pytest.raises(fk.SpecificationError, match="The 'tol' must be a positive number; got '1'"):
        FitSettings.check("newton", None, "observed", 10, "1", False)
    settings = FitSettings.check("bfgs", {"callback": print}, "HC1", np.int64(7), 1e-8, False)
    assert (settings.optimizer.name, settings.cov, settings.maxiter, settings.tol) == (
        "bfgs", "HC1", 7, 1e-8)
    assert settings.callback is not None


def test_each_finding_warns_once_and_flags_the_result():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fk.fit("y ~ x", data=NORMAL, family="normal", maxiter=1)
    ours = [w for w in caught if issubclass(w.category, fk.FisherkitWarning)]
    assert [w.category for w in ours] == [fk.ConvergenceWarning]
    assert "after 1 iterations" in str(ours[0].message)
    assert res.flags == {"not_converged"}


@pytest.mark.parametrize("settings, message", [
    (dict(maxiter=True), r"'maxiter' must be a positive integer; got True"),
    (dict(tol=True), r"'tol' must be a positive number; got True"),
    (dict(tol=float("inf")), r"'tol' must be a positive number; got inf"),
    (dict(tol=float("nan")), r"'tol' must be a positive number; got nan"),
])
def test_booleans_and_non_finite_stopping_settings_are_refused(settings, message):
    with pytest.raises(fk.SpecificationError, match=message):
        fk.fit("GRADE ~ GPA", fk.datasets.load("spector"), "logit", **settings)
