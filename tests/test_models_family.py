"""A user's own Family: fitted like a built-in, checked against independent fits."""

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from autograd.scipy.special import gammaln
from statsmodels.discrete.count_model import ZeroInflatedPoisson
from statsmodels.tools.numdiff import approx_hess3

import fisherkit as fk

RANDHIE_RHS = "lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp"


def zip_logpdf(y, rate, zero):
    log_poisson = y * anp.log(rate) - rate - gammaln(y + 1)
    log_zero = anp.log(zero + (1 - zero) * anp.exp(-rate))
    return anp.where(y == 0, log_zero, anp.log1p(-zero) + log_poisson)


def test_zero_inflated_poisson_matches_statsmodels():
    # the README's example; statsmodels' ZeroInflatedPoisson with a constant inflation
    # model is the same likelihood, its inflation parameter on the logit scale
    df = fk.datasets.load("randhie")
    family = fk.Family(zip_logpdf, rate=fk.Predictor(link="log"), zero=fk.Scalar("unit_interval"))
    res = fk.fit(f"mdvis ~ {RANDHIE_RHS}", data=df, family=family)
    X = sm.add_constant(df[RANDHIE_RHS.split(" + ")])
    ref = ZeroInflatedPoisson(df["mdvis"], X, exog_infl=np.ones((len(df), 1))).fit(
        method="newton", maxiter=100, disp=0, tol=1e-12)
    assert res.converged
    coef = res.params.iloc[:-1].to_numpy()
    np.testing.assert_allclose(coef, ref.params.iloc[1:].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(res.params_working["logit(zero)"], ref.params.iloc[0], rtol=1e-6)
    # statsmodels' ZIP `bse` come from an approximate Hessian (they differ from central
    # differences of its own log-likelihood by up to 1%), so the reference here is the
    # finite-difference Hessian of statsmodels' log-likelihood at its optimum; 1e-4 is the
    # accuracy of a central-difference Hessian at these scales
    fd_cov = np.linalg.inv(-approx_hess3(ref.params.to_numpy(), ref.model.loglike))
    fd_se = np.sqrt(np.diag(fd_cov))
    np.testing.assert_allclose(res.se.iloc[:-1].to_numpy(), fd_se[1:], rtol=1e-4)
    np.testing.assert_allclose(res.loglik, ref.llf, rtol=1e-10)
    # the natural-scale SE of zero is the delta method from logit(zero): p (1 - p) se
    p = res.params["zero"]
    np.testing.assert_allclose(res.se["zero"], p * (1 - p) * fd_se[0], rtol=1e-4)
    assert list(res.summary().columns) == ["estimate", "se", "z", "p_value", "ci_lower", "ci_upper"]


def weibull_logpdf(t, scale, shape, event):
    z = (t / scale) ** shape
    return event * (anp.log(shape) - anp.log(scale) + (shape - 1) * anp.log(t / scale)) - z


def test_censored_weibull_from_scratch_equals_builtin():
    df = fk.datasets.load("rossi")
    family = fk.Family(weibull_logpdf, aux=("event",), scale=fk.Predictor(link="log"),
                       shape=fk.Scalar("positive"))
    mine = fk.fit("week ~ fin + age + prio", data=df, family=family, event=df["arrest"])
    builtin = fk.fit("week ~ fin + age + prio", data=df, family="weibull", event="arrest")
    np.testing.assert_allclose(mine.params.to_numpy(), builtin.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(mine.se.to_numpy(), builtin.se.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(mine.loglik, builtin.loglik, rtol=1e-12)


def test_secondary_predictor_gets_prefixed_names():
    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    df["y"] = 1.0 + 2.0 * df["x"] + np.exp(0.2 + 0.5 * df["z"]) * rng.normal(size=n)

    def normal_logpdf(y, mu, sigma):
        return -anp.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2 - 0.5 * np.log(2 * np.pi)

    family = fk.Family(normal_logpdf, mu=fk.Predictor(), sigma=fk.Predictor("~ z", link="log"))
    res = fk.fit("y ~ x", data=df, family=family)
    assert list(res.params.index) == ["Intercept", "x", "sigma:Intercept", "sigma:z"]
    np.testing.assert_allclose(res.params.to_numpy(), [1.0, 2.0, 0.2, 0.5], atol=0.1)
    # structured and general Hessians agree on a model with two linear predictors
    m = res.model
    np.testing.assert_allclose(m.hessian(res.theta), m.hessian_general(res.theta), rtol=1e-10,
                               atol=1e-10 * np.abs(m.hessian(res.theta)).max())


def test_family_rejects_undeclared_parameter_kinds():
    with pytest.raises(fk.SpecificationError, match="'rate' must be declared"):
        fk.Family(zip_logpdf, rate=1.0, zero=fk.Scalar("unit_interval"))
    with pytest.raises(fk.SpecificationError, match="at least one fk.Predictor"):
        fk.Family(zip_logpdf, rate=fk.Scalar(), zero=fk.Scalar("unit_interval"))
    with pytest.raises(fk.SpecificationError, match="Unknown constraint 'bounded'"):
        fk.Scalar("bounded")
