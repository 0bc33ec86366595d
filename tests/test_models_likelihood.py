"""fisherkit.models.likelihood: a user's Likelihood, against the structured path, on a
mixture, by finite differences, and its refusals."""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import fisherkit as fk
from fisherkit.models.expected import expected_information
from fisherkit.models.formula import build_data
from fisherkit.models.index_model import Model


def normal_regression(p, d):
    mu = p["Intercept"] + p["x"] * d["x"]
    z = (d["y"] - mu) / p["sigma"]
    return -0.5 * z ** 2 - anp.log(p["sigma"]) - 0.5 * anp.log(2 * anp.pi)


def mixture(p, d):
    """Two normal components: weight on the first, means and scales of both."""
    y = d[:, None]
    logs = -0.5 * ((y - p["mu"]) / p["sigma"]) ** 2 - anp.log(p["sigma"]) - 0.5 * np.log(2 * np.pi)
    return anp.logaddexp(anp.log(p["weight"]) + logs[:, 0], anp.log1p(-p["weight"]) + logs[:, 1])


MIXTURE_PARAMS = {"weight": fk.Scalar("unit_interval", start=0.5),
                  "mu": np.array([-1.0, 1.0]),
                  "sigma": fk.Array([1.0, 1.0], "positive")}


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(11)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.integers(0, 12, size=n)})
    df["y"] = 1.0 + 2.0 * df["x"] + rng.normal(scale=1.5, size=n)
    return df


@pytest.fixture(scope="module")
def normal_pair(regression_data):
    lik = fk.Likelihood(normal_regression, regression_data[["x", "y"]],
                        params={"Intercept": 0.0, "x": 0.0, "sigma": fk.Scalar("positive")})
    return fk.fit_likelihood(lik), fk.fit("y ~ x", regression_data, family="normal")


@pytest.fixture(scope="module")
def mixture_data():
    rng = np.random.default_rng(5)
    n = 400
    first = rng.random(n) < 0.3
    return np.where(first, rng.normal(-2.0, 0.7, n), rng.normal(2.0, 1.2, n))


@pytest.fixture(scope="module")
def mixture_fit(mixture_data):
    return fk.fit_likelihood(fk.Likelihood(mixture, mixture_data, params=MIXTURE_PARAMS))


def central_hessian(f, x, h=1e-4):
    """Second differences of a scalar function (tests only)."""
    p = len(x)
    H = np.empty((p, p))
    E = np.eye(p) * h
    for a in range(p):
        for b in range(p):
            H[a, b] = (f(x + E[a] + E[b]) - f(x + E[a] - E[b]) - f(x - E[a] + E[b])
                       + f(x - E[a] - E[b])) / (4 * h * h)
    return H


# ---- the general path equals the structured one --------------------------------------


def test_normal_written_generally_matches_the_normal_family(normal_pair):
    general, structured = normal_pair
    assert general.names == structured.names
    assert general.model.working_names == structured.model.working_names
    np.testing.assert_allclose(general.params, structured.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(general.se, structured.se, rtol=1e-8)
    np.testing.assert_allclose(general.loglik, structured.loglik, rtol=1e-12)
    for kind in ("opg", "sandwich", "HC1"):
        np.testing.assert_allclose(general.with_cov(kind).se, structured.with_cov(kind).se,
                                   rtol=1e-8)
    assert list(general.summary().columns) == ["estimate", "se", "z", "p_value", "ci_lower",
                                               "ci_upper"]


def test_derivatives_match_the_structured_model_away_from_the_optimum(regression_data):
    lik = fk.Likelihood(normal_regression, regression_data[["x", "y"]],
                        params={"Intercept": 0.0, "x": 0.0, "sigma": fk.Scalar("positive")})
    fam = fk.families.make_family("normal")
    model = Model(fam, build_data("y ~ x", regression_data, fam))
    theta = np.array([0.3, 1.1, 0.4])
    value, score, hess = lik.derivatives(theta)
    ref_value, ref_score, ref_hess = model.derivatives(theta)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(score, ref_score, rtol=1e-10)
    np.testing.assert_allclose(hess, ref_hess, rtol=1e-10)
    np.testing.assert_allclose(lik.scores_obs(theta), model.scores_obs(theta), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lik.natural_jacobian(theta), model.natural_jacobian(theta), rtol=1e-12)


def test_cluster_covariance_matches_the_structured_fit(regression_data):
    lik = fk.Likelihood(normal_regression, regression_data[["x", "y", "g"]], cluster="g",
                        params={"Intercept": 0.0, "x": 0.0, "sigma": fk.Scalar("positive")})
    general = fk.fit_likelihood(lik, cov="cluster")
    structured = fk.fit("y ~ x", regression_data, family="normal", cluster="g", cov="cluster")
    np.testing.assert_allclose(general.se, structured.se, rtol=1e-8)


def test_other_optimizers_reach_the_same_estimate(normal_pair, regression_data):
    lik = normal_pair[0].model
    for method in ("bfgs", "lbfgs"):
        res = fk.fit_likelihood(lik, method=method)
        assert res.converged
        np.testing.assert_allclose(res.params, normal_pair[1].params, rtol=1e-6)
    res = fk.fit_likelihood(lik, method="natural_gradient", options={"fisher": "empirical"})
    np.testing.assert_allclose(res.params, normal_pair[1].params, rtol=1e-5)


# ---- finite differences -----------------------------------------------------------------


def test_hessian_equals_central_finite_differences(mixture_data):
    lik = fk.Likelihood(mixture, mixture_data, params=MIXTURE_PARAMS)
    theta = np.array([0.2, -1.5, 1.7, -0.3, 0.1])
    _, score, hess = lik.derivatives(theta)
    fd = central_hessian(lik.loglik, theta)
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-4)
    h = 1e-6
    fd_score = np.array([(lik.loglik(theta + h * e) - lik.loglik(theta - h * e)) / (2 * h)
                         for e in np.eye(5)])
    np.testing.assert_allclose(score, fd_score, rtol=1e-6, atol=1e-5)
    S = lik.scores_obs(theta)
    assert S.shape == (lik.n_obs, 5)
    np.testing.assert_allclose(S.sum(axis=0), score, rtol=1e-10)
    np.testing.assert_allclose(lik.opg(theta), S.T @ S, rtol=1e-12)


# ---- a two-component mixture -----------------------------------------------------------


def test_mixture_fits_to_a_fixed_point_of_em(mixture_fit, mixture_data):
    res = mixture_fit
    assert res.converged and not res.flags
    p = res.params
    w, mu, sigma = p["weight"], p[["mu[0]", "mu[1]"]].to_numpy(), p[["sigma[0]", "sigma[1]"]].to_numpy()
    # an EM update (Dempster, Laird and Rubin, 1977) leaves the maximum likelihood estimate fixed
    dens = np.column_stack([w * stats.norm.pdf(mixture_data, mu[0], sigma[0]),
                            (1 - w) * stats.norm.pdf(mixture_data, mu[1], sigma[1])])
    r = dens / dens.sum(axis=1, keepdims=True)
    em_mu = (r * mixture_data[:, None]).sum(0) / r.sum(0)
    em_sigma = np.sqrt((r * (mixture_data[:, None] - em_mu) ** 2).sum(0) / r.sum(0))
    np.testing.assert_allclose(r[:, 0].mean(), w, rtol=1e-8)
    np.testing.assert_allclose(em_mu, mu, rtol=1e-8)
    np.testing.assert_allclose(em_sigma, sigma, rtol=1e-8)
    np.testing.assert_allclose(res.loglik, np.log(dens.sum(axis=1)).sum(), rtol=1e-12)


def test_mixture_curvature_and_standard_errors(mixture_fit):
    report = mixture_fit.curvature()
    assert report.classification == "maximum"
    assert report.flat_directions == []
    se = mixture_fit.se
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    # the standard errors from second differences of the log-likelihood alone, carried to
    # the natural scale by central differences of to_natural (measured 1e-8; 1e-6 covers
    # the h^2 truncation of both differences)
    theta, h = np.array(mixture_fit.theta), 1e-6
    model = mixture_fit.model
    fd_jacobian = np.column_stack([(np.asarray(model.to_natural(theta + h * e))
                                    - np.asarray(model.to_natural(theta - h * e))) / (2 * h)
                                   for e in np.eye(theta.size)])
    fd_cov = fd_jacobian @ np.linalg.inv(-central_hessian(model.loglik, theta)) @ fd_jacobian.T
    np.testing.assert_allclose(se, np.sqrt(np.diag(fd_cov)), rtol=1e-6)
    # the natural-scale covariance is the working one carried through the Jacobian
    J = mixture_fit.model.natural_jacobian(mixture_fit.theta)
    cov_working = np.linalg.inv(-mixture_fit.model.hessian(mixture_fit.theta))
    np.testing.assert_allclose(mixture_fit.cov.to_numpy(), J @ cov_working @ J.T, rtol=1e-8)


def test_identical_components_are_reported_as_a_saddle(mixture_data):
    mean, sd = mixture_data.mean(), mixture_data.std()
    params = {"weight": fk.Scalar("unit_interval", start=0.5), "mu": np.array([mean, mean]),
              "sigma": fk.Array([sd, sd], "positive")}
    lik = fk.Likelihood(mixture, mixture_data, params=params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.SingularInformationWarning)
        with pytest.warns(fk.SaddlePointWarning, match="saddle"):
            res = fk.fit_likelihood(lik)
    assert "saddle" in res.flags


# ---- parameters, data and expected information -----------------------------------------


def test_flat_vector_and_names():
    y = np.array([0.5, 1.5, 2.0, 4.0])
    lik = fk.Likelihood(lambda t, d: -0.5 * (d - t[0]) ** 2 * anp.exp(-2 * t[1]) - t[1], y,
                        start=[0.0, 0.0], names=["mu", "log_sigma"])
    res = fk.fit_likelihood(lik)
    np.testing.assert_allclose(res.params, [y.mean(), np.log(y.std())], rtol=1e-10)
    assert res.names == ("mu", "log_sigma")
    assert fk.Likelihood(lambda t, d: -(d - t[0]) ** 2, y, start=[1.0]).names == ("theta[0]",)


def test_missing_rows_are_dropped_or_refused(regression_data):
    df = regression_data[["x", "y"]].copy()
    df.iloc[[3, 7], 1] = np.nan
    params = {"Intercept": 0.0, "x": 0.0, "sigma": fk.Scalar("positive")}
    lik = fk.Likelihood(normal_regression, df, params=params)
    assert lik.n_obs == len(df) - 2 and lik.data.n_dropped == 2
    assert fk.fit_likelihood(lik).n_dropped == 2
    with pytest.raises(fk.DataError, match=r"Missing values in columns \['y'\]"):
        fk.Likelihood(normal_regression, df, params=params, missing="raise")


def test_expected_information_needs_a_sampler(normal_pair):
    general = normal_pair[0]
    with pytest.raises(fk.SpecificationError,
                       match="'normal_regression' has no closed-form expected information.*sample="):
        general.with_cov("expected").se


def test_expected_information_by_monte_carlo(regression_data):
    def draw(rng, p, d):
        y = p["Intercept"] + p["x"] * d["x"] + p["sigma"] * rng.standard_normal(len(d["x"]))
        return {"x": d["x"], "y": y}

    lik = fk.Likelihood(normal_regression, regression_data[["x", "y"]], sample=draw,
                        params={"Intercept": 0.0, "x": 0.0, "sigma": fk.Scalar("positive")})
    res = fk.fit_likelihood(lik)
    info = expected_information(lik, res.theta, draws=50, seed=1)
    assert info.method == "monte_carlo"
    # closed form for the normal model on the (beta, log sigma) scale: X'X / sigma^2 and 2n
    X = np.column_stack([np.ones(lik.n_obs), regression_data["x"]])
    closed = np.zeros((3, 3))
    closed[:2, :2] = X.T @ X / res.params["sigma"] ** 2
    closed[2, 2] = 2 * lik.n_obs
    # the beta block of -H does not depend on y; the rest is within 5 Monte Carlo errors
    np.testing.assert_allclose(info.matrix[:2, :2], closed[:2, :2], rtol=1e-10)
    assert np.all(np.abs(info.matrix - closed) <= 5 * info.mc_se + 1e-8)


# ---- errors -----------------------------------------------------------------------------


def _ok(p, d):
    return -(d - p["m"]) ** 2


Y = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(loglik_obs=3, data=Y, params={"m": 0.0}), "must be callable"),
    (dict(loglik_obs=_ok, data=Y), "Give either params="),
    (dict(loglik_obs=_ok, data=Y, params={"m": 0.0}, start=[0.0]), "not both"),
    (dict(loglik_obs=_ok, data=Y, params={"m": "a"}), "parameter 'm' must be a number"),
    (dict(loglik_obs=_ok, data=Y, params={"m": fk.Scalar("positive", start=-1.0)}),
     "starting value of 'm' must be finite and positive"),
    (dict(loglik_obs=_ok, data=Y, params={}), "at least one parameter"),
    (dict(loglik_obs=lambda t, d: -(d - t[0]) ** 2, data=Y, start=[0.0], names=["a", "b"]),
     "2 names for 1 starting values"),
    (dict(loglik_obs=lambda t, d: -(d - t[0]) ** 2, data=Y, start=[0.0, 1.0], names=["a", "a"]),
     "must be distinct"),
    (dict(loglik_obs=lambda t, d: -(d - t[0]) ** 2, data=Y, start=[[0.0]]), "flat vector"),
    (dict(loglik_obs=_ok, data=Y, params={"m": 0.0}, names=["m"]), "names= goes with start="),
    (dict(loglik_obs=lambda p, d: anp.sum(-(d - p["m"]) ** 2), data=Y, params={"m": 0.0}),
     "one log-likelihood per observation"),
    (dict(loglik_obs=lambda p, d: anp.log(d - p["m"]), data=Y, params={"m": 2.0}),
     r"not finite at the starting values for 2 observations \(positions \[0, 1\]\)"),
    (dict(loglik_obs=_ok, data=Y, params={"m": 0.0}, cluster=[1, 2]), "2 values for 3"),
    (dict(loglik_obs=_ok, data=Y, params={"m": 0.0}, cluster="g"), "only when data is a DataFrame"),
    (dict(loglik_obs=_ok, data=pd.DataFrame({"y": Y}), params={"m": 0.0}, cluster="g"),
     "cluster column 'g'"),
    (dict(loglik_obs=_ok, data=pd.DataFrame({"y": Y}), params={"m": 0.0}, missing="keep"),
     "'missing' option must be"),
    (dict(loglik_obs=_ok, data=Y, params={"m": 0.0}, sample=4), "'sample' of a Likelihood"),
])
def test_specification_errors(kwargs, match):
    with pytest.raises((fk.SpecificationError, fk.DataError), match=match):
        fk.Likelihood(**kwargs)


def test_not_converging_warns_and_flags(mixture_data):
    lik = fk.Likelihood(mixture, mixture_data, params=MIXTURE_PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.SingularInformationWarning)
        warnings.simplefilter("ignore", fk.SaddlePointWarning)  # one step leaves a saddle here
        with pytest.warns(fk.ConvergenceWarning, match="did not converge"):
            res = fk.fit_likelihood(lik, maxiter=1)
    assert "not_converged" in res.flags


def test_float_matrices_of_a_dict_are_kept_column_major_with_the_same_fit():
    rng = np.random.default_rng(21)
    X = np.column_stack([np.ones(500), rng.standard_normal((500, 3))])
    y = (rng.random(500) < 1 / (1 + np.exp(-X @ [0.2, 0.5, -0.3, 0.1]))).astype(float)
    codes = np.arange(1000).reshape(500, 2)  # not float: left alone

    def logit(beta, data):
        eta = data["X"] @ beta
        return data["y"] * eta - anp.logaddexp(0.0, eta)

    data = {"X": X, "y": y, "codes": codes}
    lik = fk.Likelihood(logit, data, start=np.zeros(4))
    assert lik.data.values["X"].flags.f_contiguous and lik.data.values["codes"] is codes
    assert data["X"] is X and X.flags.c_contiguous  # the caller's dict is not touched
    np.testing.assert_array_equal(lik.data.values["X"], X)
    res = fk.fit_likelihood(lik)
    ref = sm.Logit(y, X).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(res.params.to_numpy(), ref.params, rtol=1e-8)
    np.testing.assert_allclose(res.se.to_numpy(), ref.bse, rtol=1e-8)


def _first_rows(p, d):
    return (-(d["y"] - p["m"]) ** 2)[:10]


def test_a_likelihood_of_a_dataframe_must_give_one_value_per_complete_row():
    df = pd.DataFrame({"y": np.arange(50.0)})
    with pytest.raises(fk.SpecificationError, match="returned 10 log-likelihoods for the 50 "
                                                    "rows of its data"):
        fk.Likelihood(_first_rows, df, params={"m": 0.0})
