"""A user's own Family: fitted like a built-in, checked against independent fits."""

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
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


def lognormal_logpdf(y, mu, sigma):
    z = (anp.log(y) - mu) / sigma
    return -0.5 * z ** 2 - anp.log(sigma) - 0.5 * np.log(2 * np.pi) - anp.log(y)


def lognormal_mean(mu, sigma):
    return anp.exp(mu + 0.5 * sigma ** 2)


def folded_lognormal(p, data):
    """The same model with the log-sigma offset written into the likelihood by hand."""
    mu = p["beta"][0] + p["beta"][1] * data["x"]
    sigma = anp.exp(p["gamma"][0] + p["gamma"][1] * data["z"] + data["s_off"])
    return lognormal_logpdf(data["y"], mu, sigma)


@pytest.fixture(scope="module")
def heteroscedastic():
    rng = np.random.default_rng(11)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                       "s_off": rng.uniform(-0.5, 0.5, n)})
    sigma = np.exp(-0.3 + 0.4 * df["z"] + df["s_off"])
    df["y"] = np.exp(0.5 + 0.8 * df["x"] + sigma * rng.normal(size=n))
    return df


def offset_family(offset="s_off"):
    return fk.Family(lognormal_logpdf, mean=lognormal_mean, mu=fk.Predictor(),
                     sigma=fk.Predictor("~ z", link="log", offset=offset))


def test_an_offset_of_the_second_predictor_equals_the_model_with_it_folded_in(heteroscedastic):
    df = heteroscedastic
    res = fk.fit("y ~ x", data=df, family=offset_family())
    data = {c: df[c].to_numpy() for c in df.columns}
    ref = fk.fit_likelihood(fk.Likelihood(folded_lognormal, data,
                                          params={"beta": np.zeros(2), "gamma": np.zeros(2)}))
    # the same likelihood maximized by Newton on both sides to a gradient of ~1e-10
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), atol=1e-8)
    np.testing.assert_allclose(res.se.to_numpy(), ref.se.to_numpy(), atol=1e-8)
    assert res.loglik == pytest.approx(ref.loglik, abs=1e-8)
    np.testing.assert_array_equal(res.model.data.offsets["sigma"], df["s_off"].to_numpy())
    assert res.model.data.offsets["mu"] is None
    # residuals use the fitted sigma, offset included, through the mean exp(mu + sigma^2/2)
    p = ref.params.to_numpy()
    sigma = np.exp(p[2] + p[3] * df["z"] + df["s_off"])
    mean = np.exp(p[0] + p[1] * df["x"] + 0.5 * sigma ** 2)
    np.testing.assert_allclose(res.residuals("response").to_numpy(), df["y"] - mean, rtol=1e-7)
    # the same offset as an array, or as a Series in another row order, is the same fit
    by_array = fk.fit("y ~ x", data=df, family=offset_family(df["s_off"].to_numpy()))
    by_series = fk.fit("y ~ x", data=df, family=offset_family(df["s_off"].iloc[::-1]))
    for other in (by_array, by_series):
        np.testing.assert_allclose(other.params.to_numpy(), res.params.to_numpy(), rtol=1e-12)


def test_a_predictor_offset_at_new_data_is_read_from_its_column(heteroscedastic):
    df = heteroscedastic
    res = fk.fit("y ~ x", data=df, family=offset_family())
    new = df.head(4).copy()
    new["s_off"] = [0.0, 0.5, -0.5, np.nan]
    pred = res.predict(new)
    p = res.params.to_numpy()
    sigma = np.exp(p[2] + p[3] * new["z"] + new["s_off"])
    expected = np.exp(p[0] + p[1] * new["x"] + 0.5 * sigma ** 2)
    np.testing.assert_allclose(pred["estimate"].to_numpy()[:3], expected[:3], rtol=1e-12)
    assert np.isnan(pred["estimate"].iloc[3]) and pred.attrs["n_missing"] == 1
    with pytest.raises(fk.DataError, match="need the offset column 's_off' \\(of the predictor "
                                           "'sigma'\\)"):
        res.predict(new.drop(columns="s_off"))
    with pytest.raises(fk.SpecificationError, match="the new data give them, not offset="):
        res.predict(new, offset=np.zeros(4))
    by_array = fk.fit("y ~ x", data=df, family=offset_family(df["s_off"].to_numpy()))
    at_new = by_array.predict(new.drop(columns="s_off"), offset=new["s_off"].to_numpy())
    np.testing.assert_allclose(at_new["estimate"].to_numpy()[:3], expected[:3], rtol=1e-8)


def test_a_predictor_offset_drops_rows_where_it_is_missing(heteroscedastic):
    df = heteroscedastic.copy()
    df.loc[[3, 7], "s_off"] = np.nan
    res = fk.fit("y ~ x", data=df, family=offset_family())
    assert res.n_obs == len(df) - 2 and res.n_dropped == 2
    kept = fk.fit("y ~ x", data=df.dropna(), family=offset_family())
    np.testing.assert_allclose(res.params.to_numpy(), kept.params.to_numpy(), rtol=1e-12)
    with pytest.raises(fk.DataError, match=r"Missing values in column\(s\) \['sigma offset'\]"):
        fk.fit("y ~ x", data=df, family=offset_family(), missing="raise")


def test_the_first_predictor_offset_is_fits_offset(heteroscedastic):
    df = heteroscedastic.assign(log_t=np.log(np.arange(1, len(heteroscedastic) + 1)))
    own = fk.Family(lognormal_logpdf, mu=fk.Predictor(offset="log_t"), sigma=fk.Scalar("positive"))
    plain = fk.Family(lognormal_logpdf, mu=fk.Predictor(), sigma=fk.Scalar("positive"))
    a = fk.fit("y ~ x", data=df, family=own)
    b = fk.fit("y ~ x", data=df, family=plain, offset="log_t")
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=1e-12)
    with pytest.raises(fk.SpecificationError, match="has an offset of its own; give fit\\(offset=\\)"):
        fk.fit("y ~ x", data=df, family=own, offset="log_t")


def test_bad_predictor_offsets_are_refused(heteroscedastic):
    with pytest.raises(fk.SpecificationError, match="must be a column name or one value per row"):
        fk.Predictor("~ z", offset=1.0)
    with pytest.raises(fk.DataError, match="The sigma offset column 'nope' is not in the data"):
        fk.fit("y ~ x", data=heteroscedastic, family=offset_family("nope"))
    with pytest.raises(fk.DataError, match="The sigma offset has 3 values but the data has 300"):
        fk.fit("y ~ x", data=heteroscedastic, family=offset_family([0.0, 1.0, 2.0]))


def test_coefficient_names_prefix_every_predictor_but_the_formulas():
    # the rule of fisherkit.models.parameters.Predictor: the predictor taking the formula's
    # right-hand side is unprefixed wherever it is declared, every other one is "key:"
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200),
                       "g": rng.choice(["a", "b"], 200)})
    df["y"] = np.exp(df["x"] + rng.normal(size=200))
    first = fk.Family(lognormal_logpdf, mu=fk.Predictor(),
                      sigma=fk.Predictor("~ z + C(g)", link="log"))
    last = fk.Family(lognormal_logpdf, sigma=fk.Predictor("~ z + C(g)", link="log"),
                     mu=fk.Predictor())
    main = ["Intercept", "x", "C(g)[T.b]"]
    other = ["sigma:Intercept", "sigma:z", "sigma:C(g)[T.b]"]
    assert list(fk.fit("y ~ x + C(g)", df, first).params.index) == main + other
    assert list(fk.fit("y ~ x + C(g)", df, last).params.index) == other + main
    # one predictor: the names of statsmodels' OLS on the same formula (patsy orders the
    # terms otherwise), and the family's own parameter after them
    one = fk.fit("y ~ x + C(g)", df, "normal")
    assert sorted(one.params.index[:-1]) == sorted(smf.ols("y ~ x + C(g)", df).fit().params.index)
    assert one.params.index[-1] == "sigma"
