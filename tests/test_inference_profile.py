"""fisherkit.inference.profile: profile likelihoods and their intervals against closed forms
and against refits."""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special, stats

import fisherkit as fk

LEVEL = stats.chi2.ppf(0.95, 1)


def lambert_ratio(c):
    """The two solutions x of ``x - log x = c`` (c > 1): below and above 1."""
    z = -np.exp(-c)
    return -special.lambertw(z, 0).real, -special.lambertw(z, -1).real


def test_poisson_rate_interval_matches_the_lambert_w_closed_form():
    # 2 [S log(lam_hat / lam) - n (lam_hat - lam)] = q; with x = lam / lam_hat this is
    # x - log x = 1 + q / (2 S)
    y = np.random.default_rng(0).poisson(3.0, size=40)
    res = fk.fit("y ~ 1", data=pd.DataFrame({"y": y}), family="poisson")
    S, n = y.sum(), y.size
    lower, upper = lambert_ratio(1 + LEVEL / (2 * S))
    ci = np.exp(res.profile_ci().loc["Intercept", ["ci_lower", "ci_upper"]].to_numpy(float))
    np.testing.assert_allclose(ci, [S / n * lower, S / n * upper], rtol=1e-9)


def test_exponential_mean_interval_matches_the_closed_form_in_both_interfaces():
    # 2 n [log(mu / mu_hat) + mu_hat / mu - 1] = q; with x = mu_hat / mu: x - log x = 1 + q/(2n)
    t = np.random.default_rng(1).exponential(2.0, size=25)
    mean, n = t.mean(), t.size
    small, large = lambert_ratio(1 + LEVEL / (2 * n))
    expected = [mean / large, mean / small]
    res = fk.fit("t ~ 1", data=pd.DataFrame({"t": t}), family="exponential")
    np.testing.assert_allclose(np.exp(res.profile_ci()[["ci_lower", "ci_upper"]].to_numpy()[0]),
                               expected, rtol=1e-9)
    # a user-written likelihood in the mean itself, a positive parameter
    lik = fk.Likelihood(lambda p, d: -anp.log(p["mean"]) - d["t"] / p["mean"], {"t": t},
                        params={"mean": fk.Scalar("positive")})
    own = fk.fit_likelihood(lik).profile_ci()
    np.testing.assert_allclose(own.loc["mean", ["ci_lower", "ci_upper"]].to_numpy(float),
                               expected, rtol=1e-9)


def test_normal_mean_and_sigma_intervals_with_the_other_profiled_out():
    y = np.random.default_rng(2).normal(1.0, 2.0, size=30)
    n, mean = y.size, y.mean()
    s = np.sqrt(np.mean((y - mean) ** 2))
    res = fk.fit("y ~ 1", data=pd.DataFrame({"y": y}), family="normal")
    ci = res.profile_ci(alpha=0.05)
    # mean: n log(1 + (ybar - mu)^2 / s^2) = q
    half = s * np.sqrt(np.exp(LEVEL / n) - 1)
    np.testing.assert_allclose(ci.loc["Intercept", ["ci_lower", "ci_upper"]].to_numpy(float),
                               [mean - half, mean + half], rtol=1e-9)
    # sigma: n (u - 1 - log u) = q with u = s^2 / sigma^2
    u_small, u_large = lambert_ratio(1 + LEVEL / n)
    np.testing.assert_allclose(ci.loc["sigma", ["ci_lower", "ci_upper"]].to_numpy(float),
                               [s / np.sqrt(u_large), s / np.sqrt(u_small)], rtol=1e-9)
    assert ci.attrs["alpha"] == 0.05


def test_profile_equals_refits_with_the_parameter_as_an_offset():
    spector = fk.datasets.load("spector")
    res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=spector, family="logit")
    values = [0.5, 2.0, 4.5]
    table = res.profile("GPA", values)
    for value in values:
        refit = fk.fit("GRADE ~ TUCE + PSI", data=spector, family="logit",
                       offset=value * spector["GPA"], tol=1e-14)
        assert table.loc[value, "loglik"] == pytest.approx(refit.loglik, abs=1e-9)
        for name in ("Intercept", "TUCE", "PSI"):
            assert table.loc[value, name] == pytest.approx(refit.params[name], abs=1e-6)
    # at each interval end the refit's deviance is the chi-squared quantile
    ci = res.profile_ci("GPA")
    for end in ci.loc["GPA", ["ci_lower", "ci_upper"]]:
        refit = fk.fit("GRADE ~ TUCE + PSI", data=spector, family="logit",
                       offset=end * spector["GPA"], tol=1e-14)
        assert 2 * (res.loglik - refit.loglik) == pytest.approx(LEVEL, abs=1e-8)


def test_profile_table_layout_and_the_quadratic_limit():
    rng = np.random.default_rng(4)
    x = rng.normal(size=20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(0.2 + 0.5 * x)))).astype(float)
    res = fk.fit("y ~ x", data=pd.DataFrame({"y": y, "x": x}), family="logit")
    table = res.profile("x", n_points=8)
    assert len(table) == 9 and table.index.name == "x"
    assert list(table.columns) == ["loglik", "signed_root", "wald", "converged", "Intercept"]
    assert table["converged"].all()
    assert table.loc[res.params["x"], "signed_root"] == 0.0
    assert np.all(np.diff(table["signed_root"]) > 0)
    # a large sample: the log-likelihood is nearly quadratic, so the signed root is close
    # to the Wald z over three standard errors
    np.testing.assert_allclose(table["signed_root"], table["wald"], atol=0.03)
    wald = res.conf_int().loc["x"].to_numpy()
    profile = res.profile_ci("x").loc["x", ["ci_lower", "ci_upper"]].to_numpy(float)
    np.testing.assert_allclose(profile, wald, rtol=2e-3)


@pytest.mark.slow
def test_open_interval_under_quasi_separation_warns():
    # y = 1 for every x > 4 and 0 below, one tie at x = 4 with both outcomes: the slope's
    # likelihood keeps rising towards infinity, so the upper end of its interval is open
    df = pd.DataFrame({"y": [0, 0, 0, 0, 1, 1, 1, 1, 1], "x": [1, 2, 3, 4, 4, 5, 6, 7, 8.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fk.fit("y ~ x", data=df, family="logit")
    with pytest.warns(fk.OpenIntervalWarning, match="'x' does not fall .* upper side"):
        ci = res.profile_ci("x")
    assert ci.loc["x", "ci_upper"] == np.inf
    assert np.isfinite(ci.loc["x", "ci_lower"])
    # the supremum of the log-likelihood is 2 log(1/2): as the slope grows, every row but
    # the tied pair at x = 4 is fitted exactly and the pair gets probability 1/2 each. The
    # lower end is where the profile (statsmodels' intercept-only logit with the slope
    # term as an offset) falls the chi-squared quantile below it; 1e-6 covers the gap
    # between the fit's log-likelihood and the supremum (4e-11) and both optimizers' tol
    lower = ci.loc["x", "ci_lower"]
    profile = sm.Logit(df["y"], np.ones((len(df), 1)), offset=lower * df["x"]).fit(
        disp=0, method="newton", tol=1e-14)
    assert 2 * (2 * np.log(0.5) - profile.llf) == pytest.approx(LEVEL, abs=1e-6)


def test_profile_errors():
    spector = fk.datasets.load("spector")
    res = fk.fit("GRADE ~ GPA", data=spector, family="logit")
    with pytest.raises(fk.SpecificationError, match="Unknown parameter 'gpa'"):
        res.profile("gpa")
    with pytest.raises(fk.SpecificationError, match="'n_points' must be an integer"):
        res.profile("GPA", n_points=1)
    with pytest.raises(fk.SpecificationError, match=r"'alpha' must lie in \(0, 1\); got 1.5"):
        res.profile_ci("GPA", alpha=1.5)
    with pytest.raises(fk.SpecificationError, match="profile values of 'GPA' must be finite"):
        res.profile("GPA", [np.nan])
    normal = fk.fit("GPA ~ TUCE", data=spector, family="normal")
    with pytest.raises(fk.SpecificationError, match="outside the range of 'sigma'"):
        normal.profile("sigma", [-1.0])
    apply = fk.datasets.load("ucla_apply")
    ordinal = fk.fit("apply ~ gpa", data=apply, family="ordinal")
    cut = [n for n in ordinal.names if n not in ("gpa",)][0]
    with pytest.raises(fk.SpecificationError, match="cannot be profiled on its own"):
        ordinal.profile(cut)
    # the default list skips the cut points
    assert list(ordinal.profile_ci().index) == ["gpa"]
