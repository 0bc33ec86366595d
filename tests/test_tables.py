"""fisherkit/tables.py: a fit's header and fits side by side, against statsmodels."""

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import fisherkit as fk
from fisherkit.tables import STATISTICS, header, side_by_side

FORMULAS = {"small": "GRADE ~ GPA", "big": "GRADE ~ GPA + TUCE + PSI"}


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.fixture(scope="module")
def fits(spector):
    return {name: fk.fit(formula, spector, "logit") for name, formula in FORMULAS.items()}


def statsmodels_logit(spector, columns):
    X = sm.add_constant(spector[columns], prepend=True).rename(columns={"const": "Intercept"})
    return sm.Logit(spector["GRADE"], X).fit(method="newton", tol=1e-12, disp=0)


def test_the_header_is_the_fit_as_statsmodels_reports_it(fits, spector):
    head = fits["big"].header
    reference = statsmodels_logit(spector, ["GPA", "TUCE", "PSI"])
    assert head["family"] == "logit" and head["formula"] == FORMULAS["big"]
    assert head["n_obs"] == reference.nobs == 32 and head["n_dropped"] == 0
    # statsmodels' AIC and BIC for ML models count every estimated parameter, as fisherkit
    np.testing.assert_allclose([head["loglik"], head["aic"], head["bic"]],
                               [reference.llf, reference.aic, reference.bic], rtol=1e-10)
    assert head["converged"] is True and head["method"] == "newton" and head["cov"] == "observed"
    assert head["n_iter"] == fits["big"].n_iter
    assert fits["big"].with_cov("sandwich").header["cov"] == "sandwich"
    pd.testing.assert_series_equal(header(fits["big"]), head)


def test_a_likelihoods_header_names_the_likelihood():
    def exponential(p, data):
        return anp.log(p["rate"]) - p["rate"] * data["t"]

    res = fk.fit_likelihood(fk.Likelihood(exponential, {"t": np.array([0.5, 1.0, 2.5])},
                                          params={"rate": fk.Scalar("positive")}))
    assert res.header["family"] == "exponential" and res.header["n_obs"] == 3
    # closed form: the rate's MLE is 1 / mean, the log-likelihood n (log rate - 1)
    np.testing.assert_allclose(res.header["loglik"], 3 * (np.log(0.75) - 1.0), rtol=1e-10)


def test_fits_side_by_side_against_statsmodels(fits, spector):
    table = side_by_side(fits)
    assert list(table.columns) == ["small", "big"]
    for name, columns in (("small", ["GPA"]), ("big", ["GPA", "TUCE", "PSI"])):
        reference = statsmodels_logit(spector, columns)
        for term in reference.params.index:
            np.testing.assert_allclose(table.loc[(term, "estimate"), name],
                                       reference.params[term], rtol=1e-8)
            np.testing.assert_allclose(table.loc[(term, "se"), name], reference.bse[term],
                                       rtol=1e-8)
        np.testing.assert_allclose(
            [table.loc[(s, ""), name] for s in STATISTICS],
            [reference.nobs, reference.llf, reference.aic, reference.bic], rtol=1e-10)
    assert np.isnan(table.loc[("PSI", "estimate"), "small"])
    assert np.isnan(table.loc[("PSI", "se"), "small"])
    assert list(table.index.get_level_values("term"))[:2] == ["Intercept", "Intercept"]
    assert table.attrs["cov"] == {"small": "observed", "big": "observed"}


def test_a_list_of_fits_is_numbered_and_exports(fits):
    table = side_by_side([fits["small"], fits["big"].with_cov("sandwich")])
    assert list(table.columns) == ["(1)", "(2)"]
    assert table.attrs["cov"] == {"(1)": "observed", "(2)": "sandwich"}
    np.testing.assert_allclose(table.loc[("GPA", "se"), "(2)"],
                               fits["big"].with_cov("sandwich").se["GPA"], rtol=1e-14)
    latex = table.to_latex(float_format="%.3f")
    assert "GPA" in latex and "2.826" in latex and "(2)" in latex
    assert "<table" in table.to_html()


def test_side_by_side_refuses_what_is_not_a_list_of_fits(fits):
    with pytest.raises(fk.SpecificationError, match="takes a list of fits or a dict"):
        side_by_side(fits["big"])
    with pytest.raises(fk.SpecificationError, match="needs at least one fit"):
        side_by_side([])
    with pytest.raises(fk.SpecificationError, match=r"entry '\(2\)' of side_by_side is not a fit"):
        side_by_side([fits["big"], "GRADE ~ GPA"])
    df = pd.DataFrame({"y": [1.0, 2.0, 4.0, 3.0, 5.0], "aic": [0.1, 0.4, 0.2, 0.9, 0.5]})
    named_like_a_statistic = fk.fit("y ~ aic", df, "normal")
    with pytest.raises(fk.SpecificationError, match=r"named like a fit statistic \(\['aic'\]\)"):
        side_by_side([named_like_a_statistic])


def normal_columns(p, data):
    """Independent normal columns, means ``p["mean"]`` (2 x 3) and sds ``p["sd"]`` (6,),
    and a scalar ``c`` with a standard normal penalty (so that it is identified)."""
    z = (data - anp.ravel(p["mean"])) / p["sd"]
    return anp.sum(-0.5 * z ** 2 - anp.log(p["sd"]), axis=1) - 0.5 * p["c"] ** 2 / len(data)


@pytest.fixture(scope="module")
def array_fit():
    rng = np.random.default_rng(8)
    data = rng.normal(np.arange(6.0), np.linspace(0.5, 2.0, 6), size=(400, 6))
    params = {"mean": np.zeros((2, 3)), "sd": fk.Array(np.ones(6), "positive"), "c": 0.0}
    return data, fk.fit_likelihood(fk.Likelihood(normal_columns, data, params=params))


def test_an_array_parameter_in_its_own_shape_has_the_closed_form_estimates(array_fit):
    data, res = array_fit
    n = len(data)
    mean, sd = data.mean(axis=0), data.std(axis=0)
    # the normal MLEs: column means and root mean squares, se sd/sqrt(n) and sd/sqrt(2n)
    # (observed information at the MLE); Newton ends within ~1e-10 of them
    estimate = res.array("mean")
    assert isinstance(estimate, pd.DataFrame) and estimate.shape == (2, 3)
    assert list(estimate.index) == [0, 1] and list(estimate.columns) == [0, 1, 2]
    np.testing.assert_allclose(estimate.to_numpy(), mean.reshape(2, 3), rtol=1e-9)
    np.testing.assert_allclose(res.array("mean", "se").to_numpy(), (sd / np.sqrt(n)).reshape(2, 3),
                               rtol=1e-8)
    assert estimate.loc[1, 2] == res.params["mean[1,2]"]
    sds = res.array("sd")
    assert isinstance(sds, pd.Series) and list(sds.index) == list(range(6))
    np.testing.assert_allclose(sds.to_numpy(), sd, rtol=1e-9)
    np.testing.assert_allclose(res.array("sd", "se").to_numpy(), sd / np.sqrt(2 * n), rtol=1e-8)
    lower = res.array("sd", "ci_lower", alpha=0.1)
    np.testing.assert_allclose(lower.to_numpy(),
                               res.conf_int(0.1)["ci_lower"][[f"sd[{i}]" for i in range(6)]])
    assert lower.attrs == {"parameter": "sd", "column": "ci_lower", "alpha": 0.1}


def test_a_three_dimensional_array_is_a_series_by_position():
    def cube(p, data):
        return -0.5 * anp.sum((data - anp.ravel(p["t"])) ** 2, axis=1)

    data = np.arange(16.0).reshape(2, 8)
    res = fk.fit_likelihood(fk.Likelihood(cube, data, params={"t": np.zeros((2, 2, 2))}))
    table = res.array("t")
    assert list(table.index) == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0),
                                 (1, 0, 1), (1, 1, 0), (1, 1, 1)]
    np.testing.assert_allclose(table.to_numpy(), data.mean(axis=0), rtol=1e-9)


def test_array_refuses_what_is_not_an_array_parameter(array_fit):
    _, res = array_fit
    with pytest.raises(fk.SpecificationError, match="no array parameter 'c' \\(a scalar"):
        res.array("c")
    with pytest.raises(fk.SpecificationError, match="no array parameter 'means'; its parameters"):
        res.array("means")
    with pytest.raises(fk.SpecificationError, match="The 'column' must be one of \\['estimate'"):
        res.array("mean", "std")
