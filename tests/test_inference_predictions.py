"""Predictions against statsmodels' ``get_prediction`` and closed forms.

statsmodels' standard errors of predictions are the delta method with the covariance of
its fit (``cov_params()``: the observed information of a Newton fit, equal to the expected
one for the canonical links, or HC0 when asked); both sides fit by Newton to a gradient of
~1e-12, so estimates, standard errors and intervals agree to 1e-8 relative.
"""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special, stats

import fisherkit as fk

SPECTOR = "GRADE ~ GPA + TUCE + PSI"
RTOL = 1e-8


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.fixture(scope="module")
def logit(spector):
    return fk.fit(SPECTOR, data=spector, family="logit", tol=1e-12)


@pytest.fixture(scope="module")
def counts():
    """Overdispersed counts with a continuous and a three-level categorical covariate."""
    rng = np.random.default_rng(11)
    n = 300
    frame = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(list("abc"), n),
                          "t": rng.uniform(0.5, 2.0, n)})
    mu = frame.t * np.exp(0.5 + 0.4 * frame.x + 0.3 * (frame.g == "b") - 0.2 * (frame.g == "c"))
    frame["y"] = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    frame["log_t"] = np.log(frame.t)
    return frame


def count_design(frame):
    return sm.add_constant(pd.DataFrame({"x": frame.x, "b": (frame.g == "b") * 1.0,
                                         "c": (frame.g == "c") * 1.0}))


def assert_frames(ours, theirs):
    np.testing.assert_allclose(ours["estimate"], theirs["predicted"], rtol=RTOL)
    np.testing.assert_allclose(ours["se"], theirs["se"], rtol=RTOL)
    # link-scale limits cross zero: relative to the size of the limits, not each one
    for column in ("ci_lower", "ci_upper"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=RTOL,
                                   atol=RTOL * float(np.max(np.abs(theirs[column]))))


@pytest.mark.parametrize("scale, which", [("response", "mean"), ("link", "linear")])
def test_logit_matches_statsmodels(spector, logit, scale, which):
    X = sm.add_constant(spector[["GPA", "TUCE", "PSI"]])
    theirs = sm.Logit(spector.GRADE, X).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    assert_frames(logit.predict(spector, scale=scale),
                  theirs.get_prediction(X, which=which).summary_frame())


def test_logit_average_matches_statsmodels(spector, logit):
    X = sm.add_constant(spector[["GPA", "TUCE", "PSI"]])
    theirs = sm.Logit(spector.GRADE, X).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    ours = logit.predict(average=True)
    assert list(ours.index) == ["average"]
    frame = theirs.get_prediction(X, average=True).summary_frame()
    # Stata's margins estimate and se; the interval is of logit(average), carried back
    # (statsmodels' is the Wald interval), see the test of intervals inside (0, 1)
    np.testing.assert_allclose(ours["estimate"], frame["predicted"], rtol=RTOL)
    np.testing.assert_allclose(ours["se"], frame["se"], rtol=RTOL)


@pytest.mark.parametrize("scale, which", [("response", "mean"), ("link", "linear")])
def test_poisson_with_offset_matches_glm(counts, scale, which):
    res = fk.fit("y ~ x + C(g)", data=counts, family="poisson", offset="log_t", tol=1e-12)
    X = count_design(counts)
    theirs = sm.GLM(counts.y, X, family=sm.families.Poisson(), offset=counts.log_t).fit(
        tol=1e-12)
    frame = theirs.get_prediction(X, offset=counts.log_t, which=which).summary_frame()
    assert_frames(res.predict(counts, scale=scale),
                  frame.rename(columns={"mean": "predicted", "mean_se": "se",
                                        "mean_ci_lower": "ci_lower",
                                        "mean_ci_upper": "ci_upper"}))


def test_poisson_sandwich_matches_glm_hc0(counts):
    res = fk.fit("y ~ x + C(g)", data=counts, family="poisson", tol=1e-12)
    X = count_design(counts)
    theirs = sm.GLM(counts.y, X, family=sm.families.Poisson()).fit(tol=1e-12, cov_type="HC0")
    frame = theirs.get_prediction(X).summary_frame()
    ours = res.with_cov("sandwich").predict(counts)
    np.testing.assert_allclose(ours["se"], frame["mean_se"], rtol=RTOL)
    assert ours.attrs["cov_type"] == "sandwich"


@pytest.mark.filterwarnings("ignore:using default log-link:UserWarning")
@pytest.mark.parametrize("scale, which", [("response", "mean"), ("link", "linear")])
def test_negbin_matches_statsmodels(counts, scale, which):
    res = fk.fit("y ~ x + C(g)", data=counts, family="negbin", tol=1e-12)
    X = count_design(counts)
    theirs = sm.NegativeBinomial(counts.y, X).fit(disp=0, method="newton", tol=1e-12,
                                                  maxiter=300)
    assert_frames(res.predict(counts, scale=scale),
                  theirs.get_prediction(X, which=which).summary_frame())


def test_average_is_the_delta_method_of_the_mean(counts):
    res = fk.fit("y ~ x + C(g)", data=counts, family="negbin", tol=1e-12)
    X = count_design(counts).to_numpy()
    by_hand = res.delta(lambda p: anp.mean(anp.exp(anp.dot(X, anp.stack(
        [p["Intercept"], p["x"], p["C(g)[T.b]"], p["C(g)[T.c]"]])))))
    ours = res.predict(average=True)
    np.testing.assert_allclose(ours[["estimate", "se"]].to_numpy()[0],
                               by_hand[["estimate", "se"]].to_numpy()[0], rtol=1e-10)


def test_logit_intervals_stay_in_the_unit_interval(logit):
    extreme = pd.DataFrame({"GPA": [-40.0, 0.0, 40.0], "TUCE": [20.0] * 3, "PSI": [1.0] * 3})
    ours = logit.predict(extreme)
    assert np.all(ours[["ci_lower", "ci_upper"]].to_numpy() >= 0.0)
    assert np.all(ours[["ci_lower", "ci_upper"]].to_numpy() <= 1.0)
    assert np.all(ours.ci_lower <= ours.estimate) and np.all(ours.estimate <= ours.ci_upper)
    assert ours.attrs["alpha"] == 0.05 and ours.attrs["scale"] == "response"


def test_fitted_rows_by_default_equal_predict_on_the_data(spector, logit):
    pd.testing.assert_frame_equal(logit.predict(), logit.predict(spector))


def test_new_data_keep_the_categorical_levels_and_index(counts):
    res = fk.fit("y ~ x + C(g)", data=counts, family="poisson")
    new = pd.DataFrame({"x": [0.0, 0.0], "g": ["c", "a"]}, index=["r1", "r2"])
    ours = res.predict(new, scale="link")
    assert list(ours.index) == ["r1", "r2"]
    expected = [res.params["Intercept"] + res.params["C(g)[T.c]"], res.params["Intercept"]]
    np.testing.assert_allclose(ours["estimate"], expected, rtol=1e-12)


def test_an_unseen_level_is_refused_naming_column_and_level(counts):
    res = fk.fit("y ~ x + C(g)", data=counts, family="poisson")
    with pytest.raises(fk.DataError, match="column 'g' holds the level 'z'"):
        res.predict(pd.DataFrame({"x": [0.0], "g": ["z"]}))


def test_missing_values_give_nan_rows_counted_in_attrs(counts):
    res = fk.fit("y ~ x + C(g)", data=counts, family="poisson")
    new = pd.DataFrame({"x": [0.0, np.nan, 1.0], "g": ["a", "b", None]})
    ours = res.predict(new)
    assert ours.attrs["n_missing"] == 2
    assert np.isfinite(ours.estimate.iloc[0]) and ours.iloc[1:].isna().all().all()


def test_offsets_by_column_and_by_array(counts):
    by_column = fk.fit("y ~ x", data=counts, family="poisson", offset="log_t")
    with pytest.raises(fk.DataError, match="offset column 'log_t'"):
        by_column.predict(counts[["x"]])
    by_array = fk.fit("y ~ x", data=counts, family="poisson", offset=counts.log_t.to_numpy())
    with pytest.raises(fk.SpecificationError, match="pass offset="):
        by_array.predict(counts)
    np.testing.assert_allclose(by_array.predict(counts, offset=counts.log_t)["estimate"],
                               by_column.predict(counts)["estimate"], rtol=1e-10)
    np.testing.assert_allclose(by_array.predict()["estimate"],
                               by_column.predict()["estimate"], rtol=1e-10)


def test_weibull_mean_goes_through_the_shape():
    rng = np.random.default_rng(5)
    n = 200
    frame = pd.DataFrame({"x": rng.normal(size=n)})
    frame["t"] = np.exp(0.3 + 0.5 * frame.x) * rng.weibull(1.7, n)
    frame["d"] = (rng.random(n) < 0.8).astype(float)
    res = fk.fit("t ~ x", data=frame, family="weibull", event="d")
    new = pd.DataFrame({"x": [0.5]})
    ours = res.predict(new)
    scale = np.exp(res.params["Intercept"] + 0.5 * res.params["x"])
    mean = stats.weibull_min(res.params["shape"], scale=scale).mean()
    by_hand = res.delta(lambda p: anp.exp(p["Intercept"] + 0.5 * p["x"]
                                          + special.gammaln(1.0 + 1.0 / p["shape"])))
    np.testing.assert_allclose(ours.estimate.iloc[0], mean, rtol=1e-12)
    np.testing.assert_allclose(ours.se.iloc[0], by_hand.se.iloc[0], rtol=1e-8)
    assert ours.ci_lower.iloc[0] > 0.0


def test_ordinal_probabilities_and_expected_code():
    rng = np.random.default_rng(2)
    n = 300
    frame = pd.DataFrame({"x": rng.normal(size=n)})
    latent = 0.8 * frame.x + rng.logistic(size=n)
    frame["y"] = np.digitize(latent, [-1.0, 0.5])
    res = fk.fit("y ~ x", data=frame, family="ordinal")
    probs = res.predict(frame.head(5), scale="probabilities")
    assert list(probs.columns) == ["0", "1", "2", "se[0]", "se[1]", "se[2]"]
    np.testing.assert_allclose(probs[["0", "1", "2"]].sum(axis=1), 1.0, rtol=1e-12)
    code = res.predict(frame.head(5))
    np.testing.assert_allclose(code.estimate, probs["1"] + 2 * probs["2"], rtol=1e-12)
    with pytest.raises(fk.SpecificationError, match="average=True is"):
        res.predict(scale="probabilities", average=True)


def poisson_logpdf(y, rate):
    return y * anp.log(rate) - rate - special.gammaln(y + 1.0)


def poisson_mean(rate):
    return rate


def test_user_family_needs_mean_for_the_response_scale(counts):
    plain = fk.Family(poisson_logpdf, rate=fk.Predictor(link="log"))
    res = fk.fit("y ~ x", data=counts, family=plain)
    with pytest.raises(fk.SpecificationError, match="pass mean= to fk.Family"):
        res.predict()
    builtin = fk.fit("y ~ x", data=counts, family="poisson")
    np.testing.assert_allclose(res.predict(scale="link")["estimate"],
                               builtin.predict(scale="link")["estimate"], rtol=1e-8)
    with_mean = fk.Family(poisson_logpdf, mean=poisson_mean, rate=fk.Predictor(link="log"))
    ours = fk.fit("y ~ x", data=counts, family=with_mean).predict()
    np.testing.assert_allclose(ours["estimate"], builtin.predict()["estimate"], rtol=1e-8)
    np.testing.assert_allclose(ours["se"], builtin.predict()["se"], rtol=1e-6)


def test_a_likelihood_has_no_design():
    def exponential(p, data):
        return anp.log(p["rate"]) - p["rate"] * data["t"]
    res = fk.fit_likelihood(fk.Likelihood(exponential, {"t": np.array([0.5, 1.0, 2.5])},
                                          params={"rate": fk.Scalar("positive")}))
    with pytest.raises(fk.SpecificationError, match="has none; write the prediction"):
        res.predict()


def test_bad_options_are_refused(logit):
    with pytest.raises(fk.SpecificationError, match="'scale' option must be"):
        logit.predict(scale="mean")
    with pytest.raises(fk.SpecificationError, match="'alpha' must lie in"):
        logit.predict(alpha=1.5)
    with pytest.raises(fk.SpecificationError, match="scale='probabilities' is for the ordinal"):
        logit.predict(scale="probabilities")
    with pytest.raises(fk.DataError, match="lack the column"):
        logit.predict(pd.DataFrame({"GPA": [3.0]}))


def test_dask_fit_predicts_at_new_pandas_rows(spector, logit):
    dd = pytest.importorskip("dask.dataframe")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fk.fit(SPECTOR, data=dd.from_pandas(spector, npartitions=2), family="logit",
                     tol=1e-12)
    np.testing.assert_allclose(res.predict(spector).to_numpy(), logit.predict().to_numpy(),
                               rtol=1e-6)
    with pytest.raises(fk.SpecificationError, match="give the rows to predict at"):
        res.predict()


def test_average_response_intervals_stay_inside_the_outcome_range():
    # a rare outcome: the Wald interval of the average probability would dip below 0
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(size=40)})
    df["y"] = (rng.uniform(size=40) < 0.04).astype(float)
    df.loc[0, "y"] = 1.0
    res = fk.fit("y ~ x", df, "logit")
    avg = res.predict(average=True).iloc[0]
    assert 0.0 < avg["ci_lower"] < avg["estimate"] < avg["ci_upper"] < 1.0
    # the interval of logit(average), carried back
    g, z = np.log(avg["estimate"] / (1 - avg["estimate"])), 1.959963984540054
    half = z * avg["se"] / (avg["estimate"] * (1 - avg["estimate"]))
    np.testing.assert_allclose([avg["ci_lower"], avg["ci_upper"]],
                               1 / (1 + np.exp(-np.array([g - half, g + half]))), rtol=1e-10)
    assert avg["estimate"] - z * avg["se"] < 0.0 < avg["ci_lower"]
    link = res.predict(scale="link", average=True).iloc[0]
    np.testing.assert_allclose(link["ci_upper"] - link["estimate"], z * link["se"], rtol=1e-12)
