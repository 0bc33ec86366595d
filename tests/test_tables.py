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
