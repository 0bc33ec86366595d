"""fisherkit.models.builtins: every built-in family against an independent fit of the same
model on the same data; what is particular to a family (separation, the censored families'
expected information, pickling).

Each test simulates a seeded DataFrame, fits it with ``fk.fit`` and fits the same likelihood
with statsmodels, scipy or a closed form. Unless a comment says otherwise the tolerances are

- parameters: 1e-6 relative. Both optimizers are driven to a tolerance far below this (Newton
  with a quadratic convergence test, statsmodels with ``tol`` 1e-12 or smaller), so the
  remaining difference is rounding in two different evaluation orders.
- standard errors: 1e-5 relative, always from the *same* information type. fisherkit uses
  the observed information (minus the Hessian at the estimate); where statsmodels reports
  something else the reference is converted first, and the comment beside it says how.
- log-likelihood: 1e-8 relative (both sides evaluate the same closed form at estimates that
  agree to 1e-6, and the log-likelihood is flat to second order at the maximum).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, special, stats
from statsmodels.miscmodels.ordinal_model import OrderedModel

import fisherkit as fk
from fisherkit.models.builtins import FAMILIES, make_family
from fisherkit.models.formula import build_data
from fisherkit.models.index_model import Model

PARAMS_RTOL = 1e-6
SE_RTOL = 1e-5
LOGLIK_RTOL = 1e-8
SUMMARY_COLUMNS = ["estimate", "se", "z", "p_value", "ci_lower", "ci_upper"]
LINKS = sm.families.links


# ---- helpers --------------------------------------------------------------------------------


def covariates(n: int, seed: int) -> pd.DataFrame:
    """Two regressors: a standard normal and a uniform on (-1, 1)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.uniform(-1.0, 1.0, size=n)})


def design(df: pd.DataFrame) -> pd.DataFrame:
    """The statsmodels design of ``~ x1 + x2``: constant first, as fisherkit orders it."""
    return sm.add_constant(df[["x1", "x2"]], prepend=True)


def tight_fmin(func, x0, args=(), disp=0):
    """Nelder-Mead for ``scipy.stats.*.fit`` with tolerances far below the checks'.

    scipy's default ``fmin`` stops at ``xtol=1e-4``, which leaves its estimate ~1e-5 from the
    maximum; these tolerances (both must hold; ``ftol`` is absolute, on a negative
    log-likelihood of order 1e3) take it to ~1e-9, in a few hundred evaluations.
    """
    xopt, _, _, _, warnflag = optimize.fmin(func, x0, args=args, xtol=1e-10, ftol=1e-11,
                                            maxiter=20_000, maxfun=20_000, disp=disp,
                                            full_output=True)
    assert warnflag == 0, "Nelder-Mead stopped at its evaluation limit"
    return xopt


def check_result(res, names):
    """Converged, named as expected, and a summary with the documented columns."""
    assert res.converged
    assert list(res.params.index) == names
    table = res.summary()
    assert list(table.columns) == SUMMARY_COLUMNS
    assert list(table.index) == names
    np.testing.assert_allclose(table["z"], res.params / res.se, rtol=1e-12)
    half = stats.norm.ppf(0.975) * res.se
    np.testing.assert_allclose(table["ci_upper"] - table["ci_lower"], 2 * half, rtol=1e-10)
    np.testing.assert_allclose(table["ci_lower"] + half, res.params, rtol=1e-10, atol=1e-12)
    # two-sided normal p-values of the z statistics, from scipy
    np.testing.assert_allclose(table["p_value"], 2 * stats.norm.sf(np.abs(table["z"])),
                               rtol=1e-10, atol=1e-300)


def se_from_hessian(hessian: np.ndarray) -> np.ndarray:
    """Standard errors from a log-likelihood Hessian (observed information = -H)."""
    return np.sqrt(np.diag(np.linalg.inv(-hessian)))


def weibull_hessian(log_t, event, X, beta, k):
    """Closed-form Hessian of the censored Weibull AFT log-likelihood in ``(beta, k)``.

    With ``w = log t - X beta`` and ``u = exp(k w)`` the log-likelihood is
    ``sum d (log k - log t + k w) - u`` (Kalbfleisch and Prentice, 2002, ch. 2), so

    - ``d2 l / d beta d beta' = -k^2 X' diag(u) X``
    - ``d2 l / d beta d k     = X' (u - d + k u w)``
    - ``d2 l / d k^2          = -sum(d) / k^2 - sum(u w^2)``.
    """
    w = log_t - X @ beta
    u = np.exp(k * w)
    p = X.shape[1]
    H = np.empty((p + 1, p + 1))
    H[:p, :p] = -k**2 * (X.T * u) @ X
    H[:p, p] = H[p, :p] = X.T @ (u - event + k * u * w)
    H[p, p] = -np.sum(event) / k**2 - np.sum(u * w * w)
    return H


def student_t_hessian(y, mu, sigma, nu):
    """Closed-form Hessian of the location-scale t log-likelihood in ``(mu, sigma, nu)``.

    Per observation, with ``e = y - mu`` and ``S = nu sigma^2 + e^2``,
    ``l = A(nu) + (nu + 1)/2 log nu + nu log sigma - (nu + 1)/2 log S`` where
    ``A(nu) = log Gamma((nu + 1)/2) - log Gamma(nu/2) - log(nu pi)/2``; the entries below are
    its second derivatives, summed over observations.
    """
    e, s2 = y - mu, sigma**2
    S = nu * s2 + e**2
    a2 = (0.25 * special.polygamma(1, (nu + 1) / 2) - 0.25 * special.polygamma(1, nu / 2)
          + 0.5 / nu**2)
    h_mm = np.sum((nu + 1) * (2 * e**2 - S) / S**2)
    h_ms = np.sum(-2 * (nu + 1) * nu * sigma * e / S**2)
    h_mn = np.sum(e / S - (nu + 1) * e * s2 / S**2)
    h_ss = np.sum(-nu / s2 - (nu + 1) * nu * (S - 2 * nu * s2) / S**2)
    h_sn = np.sum(1 / sigma - (2 * nu + 1) * sigma / S + (nu + 1) * nu * sigma * s2 / S**2)
    h_nn = np.sum(a2 + 1 / (2 * nu) - 1 / (2 * nu**2) - s2 / S + 0.5 * (nu + 1) * s2**2 / S**2)
    return np.array([[h_mm, h_ms, h_mn], [h_ms, h_ss, h_sn], [h_mn, h_sn, h_nn]])


# ---- binary and count models: statsmodels' discrete models, observed information ------------


def test_logit_matches_statsmodels_logit():
    df = covariates(1000, seed=11)
    rng = np.random.default_rng(12)
    df["y"] = (rng.uniform(size=len(df)) < special.expit(-0.3 + 0.8 * df.x1 - 0.5 * df.x2)) * 1.0
    res = fk.fit("y ~ x1 + x2", data=df, family="logit")
    ref = sm.Logit(df.y, design(df)).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    assert ref.mle_retvals["converged"]
    check_result(res, ["Intercept", "x1", "x2"])
    np.testing.assert_allclose(res.params, ref.params, rtol=PARAMS_RTOL)
    # statsmodels' Logit bse is the inverse observed information, like fisherkit's
    np.testing.assert_allclose(res.se, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


def test_probit_matches_statsmodels_probit():
    df = covariates(1000, seed=21)
    rng = np.random.default_rng(22)
    df["y"] = (rng.uniform(size=len(df)) < special.ndtr(0.2 + 0.5 * df.x1 - 0.4 * df.x2)) * 1.0
    res = fk.fit("y ~ x1 + x2", data=df, family="probit")
    ref = sm.Probit(df.y, design(df)).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    assert ref.mle_retvals["converged"]
    check_result(res, ["Intercept", "x1", "x2"])
    np.testing.assert_allclose(res.params, ref.params, rtol=PARAMS_RTOL)
    # Probit's bse uses its analytic Hessian: observed information, as here (the probit link
    # is not canonical, so expected-information SEs would differ in the third digit)
    np.testing.assert_allclose(res.se, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


def test_poisson_matches_statsmodels_poisson():
    df = covariates(1000, seed=31)
    rng = np.random.default_rng(32)
    df["y"] = rng.poisson(np.exp(0.5 + 0.3 * df.x1 - 0.2 * df.x2))
    res = fk.fit("y ~ x1 + x2", data=df, family="poisson")
    ref = sm.Poisson(df.y, design(df)).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    assert ref.mle_retvals["converged"]
    check_result(res, ["Intercept", "x1", "x2"])
    np.testing.assert_allclose(res.params, ref.params, rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.se, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


@pytest.mark.filterwarnings("ignore:The Identity link function does not respect")
def test_poisson_identity_link_matches_glm():
    df = covariates(1000, seed=35)
    rng = np.random.default_rng(36)
    df["y"] = rng.poisson(3.0 + 0.5 * df.x1 - 0.8 * df.x2)
    res = fk.fit("y ~ x1 + x2", data=df, family="poisson", link="identity")
    model = sm.GLM(df.y, design(df), family=sm.families.Poisson(link=LINKS.Identity()))
    ref = model.fit(tol=1e-12, maxiter=100)
    assert ref.converged
    check_result(res, ["Intercept", "x1", "x2"])
    np.testing.assert_allclose(res.params, ref.params, rtol=PARAMS_RTOL)
    # the identity link is not canonical for the Poisson: IRLS bse are expected
    # information; statsmodels' observed Hessian is the comparable one
    observed = model.hessian(ref.params.to_numpy(), observed=True, scale=1.0)
    np.testing.assert_allclose(res.se, se_from_hessian(observed), rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


def test_negbin_matches_statsmodels_nb2():
    df = covariates(1500, seed=41)
    rng = np.random.default_rng(42)
    mu, alpha = np.exp(0.5 + 0.3 * df.x1 - 0.2 * df.x2), 0.7
    df["y"] = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
    res = fk.fit("y ~ x1 + x2", data=df, family="negbin")
    ref = sm.NegativeBinomial(df.y, design(df), loglike_method="nb2").fit(
        method="newton", tol=1e-12, maxiter=200, disp=0)
    assert ref.mle_retvals["converged"]
    check_result(res, ["Intercept", "x1", "x2", "alpha"])
    # statsmodels reports alpha on the natural scale, as fisherkit's params do; fisherkit
    # estimates log(alpha) and carries the SE over by the delta method, which at a maximum
    # (score zero) equals the SE from the Hessian in alpha itself, which is what
    # statsmodels' analytic nb2 Hessian gives
    np.testing.assert_allclose(res.params, ref.params, rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.se, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(res.params_working["log(alpha)"], np.log(ref.params["alpha"]),
                               rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


# ---- GLM families: statsmodels GLM, information converted where it differs ------------------


BINOMIAL_LINKS = {
    "logit": (special.expit, LINKS.Logit),
    "probit": (special.ndtr, LINKS.Probit),
    "cloglog": (lambda eta: -np.expm1(-np.exp(eta)), LINKS.CLogLog),
}


@pytest.mark.parametrize("link", sorted(BINOMIAL_LINKS))
def test_binomial_with_trials_matches_glm(link):
    inverse, sm_link = BINOMIAL_LINKS[link]
    df = covariates(800, seed=51)
    rng = np.random.default_rng(52)
    df["m"] = rng.integers(1, 12, size=len(df))
    df["k"] = rng.binomial(df.m, inverse(-0.2 + 0.5 * df.x1 - 0.3 * df.x2))
    res = fk.fit("k ~ x1 + x2", data=df, family="binomial", link=link, trials="m")
    model = sm.GLM(np.column_stack([df.k, df.m - df.k]), design(df),
                   family=sm.families.Binomial(link=sm_link()))
    ref = model.fit(tol=1e-12, maxiter=100)  # IRLS
    assert ref.converged
    check_result(res, ["Intercept", "x1", "x2"])
    np.testing.assert_allclose(res.params, ref.params, rtol=PARAMS_RTOL)
    # GLM's IRLS bse is the expected information (binomial dispersion fixed at 1). It equals
    # the observed information only for the canonical logit link; for probit and cloglog
    # the observed information is statsmodels' own analytic Hessian, observed=True
    if link == "logit":
        np.testing.assert_allclose(res.se, ref.bse, rtol=SE_RTOL)
    observed = model.hessian(ref.params.to_numpy(), observed=True, scale=1.0)
    np.testing.assert_allclose(res.se, se_from_hessian(observed), rtol=SE_RTOL)
    # both include the binomial coefficient log C(m, k)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


def gamma_shape_mle(y, mu):
    """ML gamma shape ``k`` given fitted means: the root of ``log k - psi(k) = D / (2 n)``.

    ``D = 2 sum((y - mu)/mu - log(y/mu))`` is the gamma deviance; the equation is the score of
    the gamma log-likelihood in ``k`` (McCullagh and Nelder, 1989, sec. 8.3.5).
    """
    target = np.mean(y / mu - np.log(y / mu) - 1.0)
    return optimize.brentq(lambda k: np.log(k) - special.digamma(k) - target, 1e-3, 1e4,
                           xtol=1e-14, rtol=1e-15)


GAMMA_LINKS = {
    "inverse": (lambda eta: 1.0 / eta, LINKS.InversePower, (0.5, 0.1, -0.1)),
    "log": (np.exp, LINKS.Log, (0.5, 0.3, -0.2)),
    "identity": (lambda eta: eta, LINKS.Identity, (2.0, 0.3, -0.2)),
}


@pytest.mark.filterwarnings("ignore:The (InversePower|Identity) link function does not respect")
@pytest.mark.parametrize("link", sorted(GAMMA_LINKS))
def test_gamma_matches_glm_with_ml_shape(link):
    inverse, sm_link, beta = GAMMA_LINKS[link]
    df = covariates(1000, seed=61)
    rng = np.random.default_rng(62)
    mu, shape = inverse(beta[0] + beta[1] * df.x1 + beta[2] * df.x2), 2.5
    df["y"] = rng.gamma(shape, mu / shape)
    res = fk.fit("y ~ x1 + x2", data=df, family="gamma", link=link)
    model = sm.GLM(df.y, design(df), family=sm.families.Gamma(link=sm_link()))
    ref = model.fit(tol=1e-12, maxiter=100)
    assert ref.converged
    check_result(res, ["Intercept", "x1", "x2", "shape"])
    # the coefficients of a gamma GLM do not depend on the dispersion, so IRLS gives the ML
    # coefficients; the shape is then the ML root given those means
    k = gamma_shape_mle(df.y.to_numpy(), ref.mu)
    np.testing.assert_allclose(res.params, [*ref.params, k], rtol=PARAMS_RTOL)
    # statsmodels scales by the Pearson dispersion ref.scale; the ML fit's dispersion is 1/k.
    # The (beta, k) information is block diagonal at the estimate (the cross derivative is
    # the beta score over k), so beta's SEs are the GLM's at dispersion 1/k ...
    if link == "inverse":
        # ... and for the canonical inverse link the IRLS (expected) information is the
        # observed one, so only the dispersion needs converting
        np.testing.assert_allclose(res.se.iloc[:3], ref.bse * np.sqrt((1 / k) / ref.scale),
                                   rtol=SE_RTOL)
    # ... in general: statsmodels' observed Hessian at dispersion 1/k
    observed = model.hessian(ref.params.to_numpy(), observed=True, scale=1 / k)
    np.testing.assert_allclose(res.se.iloc[:3], se_from_hessian(observed), rtol=SE_RTOL)
    # the shape's information is n (psi'(k) - 1/k)
    se_shape = 1 / np.sqrt(len(df) * (special.polygamma(1, k) - 1 / k))
    np.testing.assert_allclose(res.se["shape"], se_shape, rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf_scaled(scale=1 / k), rtol=LOGLIK_RTOL)


def test_normal_identity_matches_ols():
    df = covariates(1000, seed=71)
    rng = np.random.default_rng(72)
    df["y"] = 1.0 + 0.5 * df.x1 - 0.3 * df.x2 + rng.normal(scale=0.7, size=len(df))
    res = fk.fit("y ~ x1 + x2", data=df, family="normal")
    ref = sm.OLS(df.y, design(df)).fit()
    check_result(res, ["Intercept", "x1", "x2", "sigma"])
    n, k = len(df), 3
    sigma_ml = np.sqrt(ref.ssr / n)  # ML divides by n, OLS's s^2 by n - k
    np.testing.assert_allclose(res.params, [*ref.params, sigma_ml], rtol=PARAMS_RTOL)
    # OLS bse = sqrt(s^2 diag((X'X)^-1)) with s^2 = SSR/(n - k); the ML observed information
    # of beta is X'X / sigma_ml^2 (and block diagonal with sigma's), hence the factor
    np.testing.assert_allclose(res.se.iloc[:3], ref.bse * np.sqrt((n - k) / n), rtol=SE_RTOL)
    # sigma's observed information at the ML estimate is 2 n / sigma^2
    np.testing.assert_allclose(res.se["sigma"], sigma_ml / np.sqrt(2 * n), rtol=SE_RTOL)
    # OLS's llf is the concentrated log-likelihood, at sigma^2 = SSR/n
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


def test_normal_log_link_matches_glm_gaussian():
    df = covariates(1000, seed=81)
    rng = np.random.default_rng(82)
    df["y"] = np.exp(0.5 + 0.3 * df.x1 - 0.2 * df.x2) + rng.normal(scale=0.5, size=len(df))
    res = fk.fit("y ~ x1 + x2", data=df, family="normal", link="log")
    model = sm.GLM(df.y, design(df), family=sm.families.Gaussian(link=LINKS.Log()))
    ref = model.fit(tol=1e-12, maxiter=100)
    assert ref.converged
    check_result(res, ["Intercept", "x1", "x2", "sigma"])
    sigma2_ml = np.sum((df.y - ref.mu) ** 2) / len(df)
    np.testing.assert_allclose(res.params, [*ref.params, np.sqrt(sigma2_ml)], rtol=PARAMS_RTOL)
    # the log link is not canonical for the normal: IRLS bse (expected information, Pearson
    # scale SSR/(n - k)) are not comparable; statsmodels' observed Hessian at the ML scale is
    observed = model.hessian(ref.params.to_numpy(), observed=True, scale=sigma2_ml)
    np.testing.assert_allclose(res.se.iloc[:3], se_from_hessian(observed), rtol=SE_RTOL)
    np.testing.assert_allclose(res.se["sigma"], np.sqrt(sigma2_ml / (2 * len(df))),
                               rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf_scaled(scale=sigma2_ml), rtol=LOGLIK_RTOL)


# ---- survival: exponential and Weibull with right censoring ---------------------------------


def censored_times(scale, shape, n, seed, censor_scale=4.0):
    """Weibull event times with independent exponential censoring: (time, event)."""
    rng = np.random.default_rng(seed)
    t = np.asarray(scale) * rng.weibull(shape, size=n)
    c = rng.exponential(censor_scale, size=n)
    return np.minimum(t, c), (t <= c).astype(float)


def test_exponential_intercept_only_closed_form():
    t, d = censored_times(2.0, 1.0, 600, seed=91)
    df = pd.DataFrame({"t": t, "d": d})
    assert 0 < d.sum() < len(d)  # some censoring
    res = fk.fit("t ~ 1", data=df, family="exponential", event="d")
    check_result(res, ["Intercept"])
    # MLE of the mean: total time over events; Intercept is its log (AFT form). The observed
    # information of log(mean) is the number of events D, so its SE is 1/sqrt(D)
    total, events = t.sum(), d.sum()
    np.testing.assert_allclose(res.params["Intercept"], np.log(total / events), rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.se["Intercept"], 1 / np.sqrt(events), rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, -events * np.log(total / events) - events,
                               rtol=LOGLIK_RTOL)


def test_exponential_regression_matches_poisson_on_events():
    # the censored exponential likelihood d (-eta) - t exp(-eta) is, up to sum(d log t), the
    # Poisson likelihood of d with offset log t and coefficients -beta (Aitkin and Clayton,
    # 1980): same Hessian, so same SEs
    df = covariates(800, seed=101)
    t, d = censored_times(np.exp(0.7 + 0.3 * df.x1 - 0.4 * df.x2), 1.0, len(df), seed=102,
                          censor_scale=3.0)
    df["t"], df["d"] = t, d
    res = fk.fit("t ~ x1 + x2", data=df, family="exponential", event="d")
    ref = sm.Poisson(d, design(df), offset=np.log(t)).fit(method="newton", tol=1e-12,
                                                          maxiter=100, disp=0)
    assert ref.mle_retvals["converged"]
    check_result(res, ["Intercept", "x1", "x2"])
    np.testing.assert_allclose(res.params, -ref.params, rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.se, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf - np.sum(d * np.log(t)), rtol=LOGLIK_RTOL)


@pytest.mark.parametrize("censored", [False, True], ids=["uncensored", "censored"])
def test_weibull_intercept_only_matches_scipy(censored):
    t, d = censored_times(2.0, 1.5, 600, seed=111, censor_scale=4.0 if censored else np.inf)
    assert (d.sum() < len(d)) == censored
    res = fk.fit("t ~ 1", data=pd.DataFrame({"t": t, "d": d}), family="weibull", event="d")
    check_result(res, ["Intercept", "shape"])
    data = stats.CensoredData(uncensored=t[d == 1], right=t[d == 0]) if censored else t
    shape, loc, scale = stats.weibull_min.fit(data, floc=0, optimizer=tight_fmin)
    assert loc == 0
    np.testing.assert_allclose(res.params, [np.log(scale), shape], rtol=PARAMS_RTOL)
    # natural-scale SEs (Intercept = log scale, shape): the closed-form information in
    # (log scale, shape) at scipy's estimate
    H = weibull_hessian(np.log(t), d, np.ones((len(t), 1)), np.array([np.log(scale)]), shape)
    np.testing.assert_allclose(res.se, se_from_hessian(H), rtol=SE_RTOL)
    loglik = (np.sum(stats.weibull_min.logpdf(t[d == 1], shape, scale=scale))
              + np.sum(stats.weibull_min.logsf(t[d == 0], shape, scale=scale)))
    np.testing.assert_allclose(res.loglik, loglik, rtol=LOGLIK_RTOL)


def test_weibull_regression_censored_matches_profiled_poisson():
    # for fixed shape k, the censored Weibull AFT likelihood is the Poisson likelihood of d
    # with offset k log t and coefficients -k beta, plus sum d (log k - log t); profiling k
    # with Brent's method over statsmodels GLM fits gives the full MLE independently
    df = covariates(800, seed=121)
    t, d = censored_times(np.exp(0.7 + 0.3 * df.x1 - 0.4 * df.x2), 1.6, len(df), seed=122,
                          censor_scale=3.0)
    df["t"], df["d"] = t, d
    res = fk.fit("t ~ x1 + x2", data=df, family="weibull", event="d")
    X, log_t = design(df).to_numpy(), np.log(t)

    def profile(k):
        glm = sm.GLM(d, X, family=sm.families.Poisson(), offset=k * log_t).fit(tol=1e-14)
        return glm.llf + np.sum(d * (np.log(k) - log_t)), glm

    best = optimize.minimize_scalar(lambda k: -profile(k)[0], bracket=(0.5, 3.0),
                                    method="brent", tol=1e-12)
    k = best.x
    loglik, glm = profile(k)
    beta = -glm.params / k
    check_result(res, ["Intercept", "x1", "x2", "shape"])
    np.testing.assert_allclose(res.params, [*beta, k], rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.se, se_from_hessian(weibull_hessian(log_t, d, X, beta, k)),
                               rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, loglik, rtol=LOGLIK_RTOL)


# ---- Student t ------------------------------------------------------------------------------


def test_student_t_intercept_only_matches_scipy():
    rng = np.random.default_rng(131)
    y = 1.0 + 0.8 * rng.standard_t(5, size=800)
    res = fk.fit("y ~ 1", data=pd.DataFrame({"y": y}), family="student_t")
    check_result(res, ["Intercept", "sigma", "df"])
    nu, loc, scale = stats.t.fit(y, optimizer=tight_fmin)
    np.testing.assert_allclose(res.params, [loc, scale, nu], rtol=PARAMS_RTOL)
    # the t is not an exponential family: observed and expected information differ; this is
    # the observed one, in closed form at scipy's estimate
    np.testing.assert_allclose(res.se, se_from_hessian(student_t_hessian(y, loc, scale, nu)),
                               rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, np.sum(stats.t.logpdf(y, nu, loc, scale)),
                               rtol=LOGLIK_RTOL)


# ---- ordinal: statsmodels OrderedModel ------------------------------------------------------


ORDINAL_LINKS = {
    # OrderedModel takes a scipy distribution: the cloglog link's F(x) = 1 - exp(-exp(x)) is
    # the minimum-Gumbel distribution function
    "logit": ("logit", stats.logistic),
    "probit": ("probit", stats.norm),
    "cloglog": (stats.gumbel_l, stats.gumbel_l),
}


def natural_cut_jacobian(working_cuts: np.ndarray) -> np.ndarray:
    """``d c / d w`` for ``c_j = w_0 + sum_{i=1..j} exp(w_i)``: 1, then exp(w_i) for i <= j."""
    m = len(working_cuts)
    J = np.zeros((m, m))
    J[:, 0] = 1.0
    for i in range(1, m):
        J[i:, i] = np.exp(working_cuts[i])
    return J


@pytest.mark.parametrize("slope", [0.8, 2.0], ids=["moderate", "strong"])
@pytest.mark.parametrize("link", sorted(ORDINAL_LINKS))
def test_ordinal_matches_ordered_model(link, slope):
    # cloglog-strong is a regression test: it failed at
    # `assert res.converged` in check_result, the Newton fit stopping with "line search
    # failed" at loglik -773.1 against OrderedModel's -754.5, because the ordinal cloglog
    # score was NaN for middle categories once the linear predictor was ~4 below a cut point
    # (see test_models_logpdfs.py::test_ordinal_derivatives_finite_wherever_the_loglik_is)
    distr, noise = ORDINAL_LINKS[link]
    df = covariates(1000, seed=141)
    latent = slope * df.x1 - 0.5 * df.x2 + noise.rvs(size=len(df), random_state=142)
    df["y"] = np.digitize(latent, [-1.0, 0.0, 1.2])
    res = fk.fit("y ~ x1 + x2", data=df, family="ordinal", link=link)
    # OrderedModel: P(Y <= j) = F(c_j - x'beta), no constant, as fisherkit. Its score and
    # Hessian are numerical, so its Newton steps stall at ~1e-9 (noise in the gradient);
    # tol=1e-8 on the step is reached in a handful of iterations, and since Newton
    # converges quadratically the estimate is then as good as that noise allows
    model = OrderedModel(df.y.to_numpy(), df[["x1", "x2"]].to_numpy(), distr=distr)
    ref = model.fit(method="newton", tol=1e-8, maxiter=100, disp=0)
    assert ref.mle_retvals["converged"]
    check_result(res, ["x1", "x2", "0|1", "1|2", "2|3"])
    # statsmodels' cut points: the first, then log increments; the natural ones are a
    # cumulative sum of (first, exp(log increments)), fisherkit's working scale is theirs
    working = ref.params[2:]
    cuts = np.cumsum(np.concatenate([working[:1], np.exp(working[1:])]))
    np.testing.assert_allclose(res.params, [*ref.params[:2], *cuts], rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.params_working, ref.params, rtol=PARAMS_RTOL)
    # OrderedModel's bse come from a finite-difference Hessian of its log-likelihood, good
    # to ~1e-7..1e-6 relative (measured here: at most 1.1e-6), so the check is 1e-5, still
    # far below any difference in the information itself. Compared on the working scale
    # directly, and on the natural scale through the Jacobian of the cut-point map
    working_info = res.information("observed", scale="working").to_numpy()
    np.testing.assert_allclose(np.sqrt(np.diag(np.linalg.inv(working_info))), ref.bse,
                               rtol=SE_RTOL)
    J = np.eye(len(ref.params))
    J[2:, 2:] = natural_cut_jacobian(working)
    np.testing.assert_allclose(res.se, np.sqrt(np.diag(J @ ref.cov_params() @ J.T)),
                               rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)


# ---- offsets --------------------------------------------------------------------------------


def poisson_with_exposure(seed=151, n=1000):
    df = covariates(n, seed)
    rng = np.random.default_rng(seed + 1)
    exposure = rng.uniform(0.5, 5.0, size=n)
    df["logexposure"] = np.log(exposure)
    df["y"] = rng.poisson(exposure * np.exp(-0.5 + 0.3 * df.x1 - 0.2 * df.x2))
    return df


def test_poisson_offset_column_matches_statsmodels_offset():
    df = poisson_with_exposure()
    res = fk.fit("y ~ x1 + x2", data=df, family="poisson", offset="logexposure")
    ref = sm.Poisson(df.y, design(df), offset=df.logexposure).fit(
        method="newton", tol=1e-12, maxiter=100, disp=0)
    assert ref.mle_retvals["converged"]
    check_result(res, ["Intercept", "x1", "x2"])
    np.testing.assert_allclose(res.params, ref.params, rtol=PARAMS_RTOL)
    np.testing.assert_allclose(res.se, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=LOGLIK_RTOL)
    # the offset matters: without it the intercept absorbs mean log exposure
    plain = fk.fit("y ~ x1 + x2", data=df, family="poisson")
    assert abs(plain.params["Intercept"] - res.params["Intercept"]) > 0.5


def test_offset_as_array_equals_offset_as_column():
    df = poisson_with_exposure(seed=161)
    by_name = fk.fit("y ~ x1 + x2", data=df, family="poisson", offset="logexposure")
    by_array = fk.fit("y ~ x1 + x2", data=df.drop(columns="logexposure"), family="poisson",
                      offset=df["logexposure"].to_numpy())
    # the same numbers reach the same arithmetic: equal to rounding
    np.testing.assert_allclose(by_array.params, by_name.params, rtol=1e-12)
    np.testing.assert_allclose(by_array.se, by_name.se, rtol=1e-12)
    np.testing.assert_allclose(by_array.loglik, by_name.loglik, rtol=1e-14)


# ---- what is particular to a family ---------------------------------------------------------


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.mark.parametrize("family, link", [("logit", None), ("probit", None),
                                          ("binomial", "cloglog"), ("binomial", "logit")])
def test_separation_count_from_eta_bounds_equals_the_count_on_mu(family, link):
    rng = np.random.default_rng(5)
    n = 400
    x = rng.standard_normal(n)
    trials = np.full(n, 3.0) if family == "binomial" else None
    y = (x > 0).astype(float) * (3.0 if trials is not None else 1.0)
    df = pd.DataFrame({"y": y, "x": x})
    fam = make_family(family, link)
    extra = {"trials": trials} if trials is not None else {}
    model = Model(fam, build_data("y ~ x", df, fam, **extra))
    counts = []
    for slope in (1.0, 8.0, 30.0, 200.0):
        theta = np.array([0.0, slope])
        eta = model.data.designs["mu"] @ theta
        mu = np.asarray(fam.link.inverse(eta))
        share = model.data.y / model.data.aux.get("trials", 1.0)
        expected = int(np.sum(((share == 1) & (mu > 1 - 1e-8)) | ((share == 0) & (mu < 1e-8))))
        assert model.count_separated(theta) == expected
        counts.append(expected)
    assert counts[0] == 0 and counts[-1] > n // 2  # both sides of the question are asked


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_built_in_families_pickle_with_their_derivatives(name):
    family = make_family(name)
    again = pickle.loads(pickle.dumps(family))
    assert type(again) is type(family) and again.link.name == family.link.name
    assert again.params == family.params and again.aux == family.aux
    n = 30
    rng = np.random.default_rng(1)
    aux = {"trials": np.full(n, 5.0)} if "trials" in family.aux else (
        {"event": np.ones(n)} if "event" in family.aux else {})
    eta = rng.normal(0.5, 0.1, n)
    # one column per scalar, two cut points (first, log gap) for the ordinal family
    rest = [np.full(n, -0.5), np.zeros(n)] if name == "ordinal" else [
        np.full(n, 0.2) for _ in range(len(family.params) - 1)]
    E = np.column_stack([eta] + rest)
    y = family.draw(rng, E, aux)
    columns = [E[:, 0], [E[:, 1], E[:, 2]]] if name == "ordinal" else [E[:, j] for j in range(E.shape[1])]

    def loglik(fam, eta):
        return fam.loglik_obs(y, [eta] + columns[1:], aux)

    np.testing.assert_array_equal(loglik(again, eta), loglik(family, eta))
    # the derivative rules of the autograd primitives inside survive the round trip
    from autograd import elementwise_grad
    np.testing.assert_array_equal(elementwise_grad(lambda e: loglik(again, e))(eta),
                                  elementwise_grad(lambda e: loglik(family, e))(eta))
    step = 1e-6
    central = (loglik(family, eta + step) - loglik(family, eta - step)) / (2 * step)
    np.testing.assert_allclose(elementwise_grad(lambda e: loglik(again, e))(eta), central,
                               rtol=1e-6, atol=1e-8)


def test_an_unpickled_family_fits_to_the_same_numbers(spector):
    family = pickle.loads(pickle.dumps(make_family("probit")))
    a = fk.fit("GRADE ~ GPA + PSI", spector, "probit")
    b = fk.fit("GRADE ~ GPA + PSI", spector, family)
    np.testing.assert_array_equal(a.params.to_numpy(), b.params.to_numpy())
    np.testing.assert_array_equal(a.se.to_numpy(), b.se.to_numpy())


def test_expected_information_of_censored_weibull_is_refused():
    heart = fk.datasets.load("heart")
    with pytest.raises(fk.DataError, match="censored weibull model depends on the censoring"):
        fk.fit("survival ~ age", data=heart, family="weibull", event="censors", cov="expected")
    res = fk.fit("survival ~ age", data=heart, family="weibull", event="censors")
    with pytest.raises(fk.DataError, match="censored weibull model depends on the censoring"):
        res.with_cov("expected").se


@pytest.mark.parametrize("make", [lambda v: v.astype(str), lambda v: pd.Categorical(v)],
                         ids=["text", "unordered"])
def test_an_ordinal_outcome_of_unknown_order_is_refused(make):
    # alphabetically "10" < "2" and "high" < "low": only the user knows the order
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    levels = np.array(["2", "10", "30"])[np.digitize(x + rng.logistic(size=60), [-0.5, 0.5])]
    df = pd.DataFrame({"x": x, "y": make(pd.Series(levels))})
    with pytest.raises(fk.DataError, match=r"'y' of an ordinal model holds (text|an unordered "
                                           r"Categorical), whose order is not known"):
        fk.fit("y ~ x", df, "ordinal")
    df["y"] = pd.Categorical(levels, categories=["2", "10", "30"], ordered=True)
    ordered = fk.fit("y ~ x", df, "ordinal")
    assert list(ordered.params.index) == ["x", "2|10", "10|30"]
    # the same outcome as the numbers 2 < 10 < 30: the numeric order is the outcome's
    df["y"] = levels.astype(float)
    numeric = fk.fit("y ~ x", df, "ordinal")
    np.testing.assert_allclose(numeric.params.to_numpy(), ordered.params.to_numpy(), rtol=1e-10)
