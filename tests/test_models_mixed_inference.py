"""Inference after a mixed fit (fisherkit/models/mixed/): likelihood-ratio tests of variance
components against the boundary null, predictions with and without the random effects,
and the warning of a variance estimated at zero.

Independent checks: the boundary p-values by hand from scipy's chi-square (``0.5 *
chi2.sf(stat, 1)``, Self and Liang, 1987), predictions by hand from the fixed effects and
the conditional modes (``X b``, ``X b + z' u_hat[group]``, the inverse link by scipy).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import fisherkit as fk
from test_models_mixed import grouped_frame

CBPP = "incidence ~ C(period) + (1 | herd)"


@pytest.fixture(scope="module")
def cbpp():
    return fk.datasets.load("cbpp")


@pytest.fixture(scope="module")
def cbpp_fit(cbpp):
    return fk.fit(CBPP, cbpp, "binomial", trials="size")


@pytest.fixture(scope="module")
def frame():
    return grouped_frame(n_groups=12, per_group=8, seed=5)


# ---- likelihood-ratio tests of variance components ---------------------------------------------


def test_random_intercept_against_the_fixed_fit_uses_the_chibar2_null(cbpp, cbpp_fit):
    fixed = fk.fit("incidence ~ C(period)", cbpp, "binomial", trials="size")
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FisherkitWarning)  # no nesting warning
        test = fk.lr_test(fixed, cbpp_fit)
    statistic = 2 * (cbpp_fit.loglik - fixed.loglik)
    assert test["statistic"] == pytest.approx(statistic, rel=1e-12)
    assert test["df"] == 1
    assert test["p_value"] == pytest.approx(0.5 * stats.chi2.sf(statistic, 1), rel=1e-12)
    assert test.attrs["null"] == "chibar2(01)"
    assert "'sd(Intercept | herd)' is 0 under the null" in test.attrs["note"]
    assert "50:50 mixture of chi2(0) and chi2(1)" in test.attrs["note"]


def test_random_intercept_logit_against_the_logit(frame):
    fixed = fk.fit("binary ~ x", frame, "logit")
    mixed = fk.fit("binary ~ x + (1 | g)", frame, "logit")
    test = fk.lr_test(fixed, mixed)
    statistic = max(2 * (mixed.loglik - fixed.loglik), 0.0)
    assert test["p_value"] == pytest.approx(0.5 * stats.chi2.sf(statistic, 1), rel=1e-10)
    assert test.attrs["null"] == "chibar2(01)"


def test_a_random_slope_against_the_random_intercept_mixes_chi2_1_and_2(frame):
    small = fk.fit("y ~ x + (1 | g)", frame, "normal")
    big = fk.fit("y ~ x + (1 + x | g)", frame, "normal")
    test = fk.lr_test(small, big)
    statistic = max(2 * (big.loglik - small.loglik), 0.0)
    assert test["df"] == 2 and test.attrs["null"] == "chibar2(1,2)"
    assert test["p_value"] == pytest.approx(
        0.5 * stats.chi2.sf(statistic, 1) + 0.5 * stats.chi2.sf(statistic, 2), rel=1e-10)
    assert "'sd(x | g)'" in test.attrs["note"]


def test_two_standard_deviations_removed_give_the_conservative_chi2(frame):
    fixed = fk.fit("y ~ x", frame, "normal")
    big = fk.fit("y ~ x + (1 + x | g)", frame, "normal")
    test = fk.lr_test(fixed, big)
    statistic = 2 * (big.loglik - fixed.loglik)
    assert test["df"] == 3 and test.attrs["null"] == "chi2(3)"
    assert test["p_value"] == pytest.approx(stats.chi2.sf(statistic, 3), rel=1e-10)
    assert "conservative" in test.attrs["note"]


def test_fixed_effects_removed_from_a_mixed_model_keep_the_plain_chi2(frame):
    small = fk.fit("binary ~ 1 + (1 | g)", frame, "logit")
    big = fk.fit("binary ~ x + (1 | g)", frame, "logit")
    test = fk.lr_test(small, big)
    statistic = 2 * (big.loglik - small.loglik)
    assert test.attrs["null"] == "chi2(1)" and "note" not in test.attrs
    assert test["p_value"] == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-10)


def test_a_fixed_fit_of_another_family_is_not_taken_as_nested(frame):
    probit = fk.fit("binary ~ x", frame, "probit")
    mixed = fk.fit("binary ~ x + (1 | g)", frame, "logit")
    with pytest.warns(fk.NestingWarning, match="may not be nested"):
        test = fk.lr_test(probit, mixed)
    assert test.attrs["null"] == "chi2(1)"


def test_a_fixed_fit_of_another_outcome_is_refused(frame):
    other = fk.fit("successes ~ x", frame.assign(successes=frame["binary"][::-1].to_numpy()),
                   "logit")
    mixed = fk.fit("binary ~ x + (1 | g)", frame, "logit")
    with pytest.raises(fk.SpecificationError, match="different outcome values"):
        fk.lr_test(other, mixed)


def test_mixture_tail_probabilities():
    from fisherkit.inference.hypothesis_tests import mixture_sf
    assert mixture_sf(0.0, {0: 0.5, 1: 0.5}) == 1.0
    assert mixture_sf(2.705543454095404, {0: 0.5, 1: 0.5}) == pytest.approx(0.05, rel=1e-12)
    assert mixture_sf(3.0, {1: 0.5, 2: 0.5}) == pytest.approx(
        0.5 * (stats.chi2.sf(3.0, 1) + stats.chi2.sf(3.0, 2)), rel=1e-14)
