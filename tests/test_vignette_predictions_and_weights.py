"""The predictions-and-weights vignette runs from a clean directory, and the numbers it prints
are statsmodels' and Stata's."""

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.genmod.tests.results.results_glm_poisson_weights as stata
from scipy import stats

import fisherkit as fk
from tests.test_vignettes import printed_to, table_rows

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"
COVARIATES = ["GPA", "TUCE", "PSI"]
GRID = np.linspace(2.0, 4.0, 81)
RESIDUALS = ["response", "pearson", "deviance", "anscombe", "working"]
STATA_RUNS = {"frequency": stata.results_poisson_fweight_nonrobust,
              "analytic": stata.results_poisson_aweight_nonrobust,
              "probability": stata.results_poisson_pweight_nonrobust}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The vignette run once into a fresh directory (a few seconds): the folder and text."""
    out = tmp_path_factory.mktemp("predictions_and_weights")
    subprocess.run([sys.executable, str(VIGNETTES / "predictions_and_weights.py"),
                    "--output-dir", str(out)], check=True, capture_output=True, timeout=300)
    return out, (out / "predictions_and_weights.md").read_text()


@pytest.fixture(scope="module")
def spector_fits():
    """The Spector logit by statsmodels, as a binomial GLM and as a Logit."""
    spector = fk.datasets.load("spector")
    X = sm.add_constant(spector[COVARIATES])
    glm = sm.GLM(spector["GRADE"], X, family=sm.families.Binomial()).fit(tol=1e-12)
    logit = sm.Logit(spector["GRADE"], X).fit(method="newton", tol=1e-12, disp=0)
    return spector, X, glm, logit


def near_stata(printed: str, value: float, digits: int, rtol: float) -> bool:
    """Whether a number printed to ``digits`` significant digits is Stata's ``value``: half a
    unit of the last digit for the rounding, plus ``rtol`` for Stata's own stopping rule
    (its ml stops earlier than fisherkit's Newton, about 7 digits)."""
    half_unit = 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return abs(float(printed) - value) <= half_unit * (1 + 1e-6) + rtol * abs(value)


def stata_order(column):
    """Stata lists the constant last; the page lists it first."""
    return np.r_[column[-1], column[:-1]]


@pytest.mark.slow
def test_the_page_and_its_figure_are_written(page):
    out, text = page
    png = (out / "figures" / "predictions_and_weights.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert text.startswith("# After the fit: predictions, residuals, weights and saving")
    assert "](figures/predictions_and_weights.png)" in text


@pytest.mark.slow
def test_grid_predictions_are_statsmodels_and_the_naive_interval_leaves_0_1(page,
                                                                             spector_fits):
    _, text = page
    spector, _, glm, _ = spector_fits
    grid = sm.add_constant(pd.DataFrame({"GPA": GRID, "TUCE": spector["TUCE"].mean(),
                                         "PSI": 0.0}), has_constant="add")
    mean = glm.get_prediction(grid).summary_frame()
    linear = glm.get_prediction(grid, which="linear").summary_frame()
    z = stats.norm.ppf(0.975)
    naive_lower = mean["mean"] - z * mean["mean_se"]
    naive_upper = mean["mean"] + z * mean["mean_se"]
    rows = table_rows(text, "|  | eta | se(eta) | p | se(p) |")
    assert list(rows) == ["2.0", "2.5", "3.0", "3.5", "4.0"]
    for label, cells in rows.items():
        i = int(np.argmin(np.abs(GRID - float(label))))
        want = [linear["predicted"][i], linear["se"][i], mean["mean"][i], mean["mean_se"][i],
                mean["mean_ci_lower"][i], mean["mean_ci_upper"][i], naive_lower[i],
                naive_upper[i], mean["mean_ci_lower"][i], mean["mean_ci_upper"][i]]
        for value, printed in zip(want, cells):
            assert printed_to(value, printed), (label, value, printed)
    # the transformed interval is the link interval through the inverse logit, in (0, 1)
    np.testing.assert_allclose(mean["mean_ci_lower"], 1 / (1 + np.exp(-linear["ci_lower"])),
                               rtol=1e-10)
    assert ((mean["mean_ci_lower"] > 0) & (mean["mean_ci_upper"] < 1)).all()
    claim = re.search(r"reaches below zero at (\d+) of the\s+(\d+) grid points \(down to "
                      r"([-\d.]+)\) and above one at (\d+) \(up\s+to ([\d.]+)\)", text)
    assert claim is not None
    assert int(claim.group(1)) == int(np.sum(naive_lower < 0)) > 0
    assert int(claim.group(2)) == len(GRID)
    assert float(claim.group(3)) == round(naive_lower.min(), 3)
    assert int(claim.group(4)) == int(np.sum(naive_upper > 1)) > 0
    assert float(claim.group(5)) == round(naive_upper.max(), 3)
    agreement = re.search(r"`mean_ci_upper`\) to ([\d.e+-]+)", text)
    assert agreement is not None and float(agreement.group(1)) < 1e-8


@pytest.mark.slow
def test_average_predictions_are_statsmodels_margins(page, spector_fits):
    _, text = page
    spector, X, _, logit = spector_fits
    average = logit.get_prediction(average=True).summary_frame().iloc[0]
    # the mean linear predictor and its delta-method se, from statsmodels' estimates
    x_bar = X.mean().to_numpy()
    link = x_bar @ logit.params.to_numpy()
    link_se = np.sqrt(x_bar @ logit.cov_params().to_numpy() @ x_bar)
    rows = table_rows(text, "|  | fisherkit estimate | statsmodels estimate |")
    for label, (estimate, se) in {"response (probability)": (average["predicted"],
                                                             average["se"]),
                                  "link (log-odds)": (link, link_se)}.items():
        cells = rows[label]
        for printed, value in zip(cells, (estimate, estimate, se, se)):
            assert printed_to(value, printed, digits=6), (label, value, printed)
    # a logit with an intercept averages its fitted probabilities to the sample share
    assert average["predicted"] == pytest.approx(spector["GRADE"].mean(), rel=1e-10)


@pytest.mark.slow
def test_residuals_are_statsmodels_glm_residuals(page, spector_fits):
    _, text = page
    spector, _, glm, _ = spector_fits
    reference = {"response": glm.resid_response, "pearson": glm.resid_pearson,
                 "deviance": glm.resid_deviance, "anscombe": glm.resid_anscombe,
                 "working": glm.resid_working}
    rows = table_rows(text, "|  | GRADE | fitted | response |")
    assert len(rows) == 6
    for i, (label, cells) in enumerate(rows.items()):
        assert label == f"student {i + 1}"
        assert float(cells[0]) == spector["GRADE"][i]
        assert printed_to(glm.fittedvalues[i], cells[1])
        for kind, printed in zip(RESIDUALS, cells[2:]):
            assert printed_to(float(reference[kind][i]), printed), (label, kind, printed)
    sums = re.search(r"add up to the deviance, ([\d.]+), which for\s+0/1 outcomes is "
                     r"`-2 loglik` \(([\d.]+):", text)
    assert sums is not None
    assert float(sums.group(1)) == round(glm.deviance, 4) == round(-2 * glm.llf, 4)
    pearson = re.search(r"Pearson's chi-square, ([\d.]+)\.", text)
    assert pearson is not None and float(pearson.group(1)) == round(glm.pearson_chi2, 4)


@pytest.mark.slow
def test_weighted_fits_are_statas_published_numbers(page):
    _, text = page
    names = ["Intercept", "INCOME", "PERPOVERTY", "PERBLACK", "LN_VC100k96", "SOUTH",
             "DEGREE"]
    b = stata_order(STATA_RUNS["frequency"].params_table[:, 0])
    rows = table_rows(text, "|  | frequency | analytic | probability | Stata |")
    assert list(rows) == names
    for i, name in enumerate(names):
        for printed in rows[name][:3]:
            assert near_stata(printed, b[i], digits=6, rtol=2e-6), (name, printed)
        assert printed_to(b[i], rows[name][3], digits=6)

    rows = table_rows(text, "|  | frequency | frequency, Stata | analytic |")
    for j, kind in enumerate(STATA_RUNS):
        se = stata_order(STATA_RUNS[kind].params_table[:, 1])
        for i, name in enumerate(names):
            ours, theirs = rows[name][2 * j], rows[name][2 * j + 1]
            assert near_stata(ours, se[i], digits=5, rtol=1e-6), (kind, name, ours)
            assert printed_to(se[i], theirs, digits=5), (kind, name, theirs)

    rows = table_rows(text, "|  | cov | n_obs | n_obs, Stata | loglik |")
    assert [rows[k][0] for k in STATA_RUNS] == ["observed", "observed", "robust"]
    for kind, ref in STATA_RUNS.items():
        n, _, loglik, _, aic, bic = ref.infocrit
        cells = rows[kind]
        assert int(cells[1]) == int(cells[2]) == int(n)
        for value, ours, theirs in zip((loglik, aic, bic), cells[3::2], cells[4::2]):
            assert near_stata(ours, value, digits=7, rtol=1e-7), (kind, ours)
            assert printed_to(value, theirs, digits=7), (kind, theirs)
    # analytic weights rescaled to sum to the 17 rows give Stata's -27.29
    assert "weights, -27.29." in text


@pytest.mark.slow
def test_weight_conventions_the_page_states(page):
    _, text = page
    assert ("> cov='observed' is not valid with probability weights: the weighted sum is a "
            "pseudo-log-likelihood") in text
    gaps = re.search(r"differences are ([\d.e+-]+) in the estimates, ([\d.e+-]+) in the "
                     r"standard\s+errors, ([\d.e+-]+) in the sandwich standard errors and "
                     r"([\d.e+-]+)\s+in the log-likelihood", text)
    assert gaps is not None and max(float(g) for g in gaps.groups()) < 1e-9
    # robust = HC0 x N / (N - 1) on the covariance, N = n_obs (33 and 17)
    ratios = re.search(r"Its standard errors are ([\d.]+) times `cov=\"HC0\"`'s\s+for the "
                       r"frequency-weighted fit \(`sqrt\(33 / 32\)` =\s+([\d.]+)\) and ([\d.]+) "
                       r"for the probability-weighted one\s+\(`sqrt\(17 / 16\)` = ([\d.]+)\)",
                       text)
    assert ratios is not None
    values = [float(v) for v in ratios.groups()]
    assert values[:2] == [round(np.sqrt(33 / 32), 6)] * 2
    assert values[2:] == [round(np.sqrt(17 / 16), 6)] * 2
    hc1 = re.search(r"vce\(robust\)` to ([\d.e+-]+) \(relative\)", text)
    assert hc1 is not None and float(hc1.group(1)) < 1e-5
    analytic = re.search(r"analytic standard errors are ([\d.]+) times the frequency", text)
    se_f = STATA_RUNS["frequency"].params_table[:, 1]
    se_a = STATA_RUNS["analytic"].params_table[:, 1]
    assert analytic is not None
    np.testing.assert_allclose(se_a / se_f, float(analytic.group(1)), rtol=1e-5)
    assert float(analytic.group(1)) == round(np.sqrt(33 / 17), 6)


@pytest.mark.slow
def test_a_pickled_result_predicts_the_same(page):
    _, text = page
    same = re.search(r"largest difference over every column:\s+([\d.e+-]+)\), so do the "
                     r"standard errors \(largest difference\s+([\d.e+-]+)\)", text)
    assert same is not None and float(same.group(1)) == float(same.group(2)) == 0.0
