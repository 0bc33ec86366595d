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
from test_models_mixed import CBPP, cbpp, cbpp_fit, grouped_frame  # noqa: F401 (fixtures)


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


# ---- predictions -------------------------------------------------------------------------------


def _cbpp_design(frame):
    return np.column_stack([np.ones(len(frame))] + [(frame["period"] == k).to_numpy(float)
                                                    for k in (2, 3, 4)])


def test_population_predictions_are_the_fixed_part(cbpp, cbpp_fit):
    X, b = _cbpp_design(cbpp), cbpp_fit.params.iloc[:4].to_numpy()
    V = cbpp_fit.cov.iloc[:4, :4].to_numpy()
    se = np.sqrt(np.einsum("ij,jk,ik->i", X, V, X))
    link = cbpp_fit.predict(random_effects=False, scale="link")
    np.testing.assert_allclose(link["estimate"], X @ b, rtol=1e-12)
    np.testing.assert_allclose(link["se"], se, rtol=1e-10)
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(link["ci_lower"], X @ b - z * se, rtol=1e-10)
    response = cbpp_fit.predict(random_effects=False)
    np.testing.assert_allclose(response["estimate"], special.expit(X @ b), rtol=1e-12)
    p = special.expit(X @ b)
    np.testing.assert_allclose(response["se"], p * (1 - p) * se, rtol=1e-10)
    np.testing.assert_allclose(response["ci_upper"], special.expit(X @ b + z * se), rtol=1e-10)
    assert response.attrs["random_effects"] is False


def test_conditional_predictions_add_the_groups_modes(cbpp, cbpp_fit):
    X, b = _cbpp_design(cbpp), cbpp_fit.params.iloc[:4].to_numpy()
    modes = cbpp_fit.random_effects()["mode(Intercept)"]
    eta = X @ b + modes.loc[cbpp["herd"]].to_numpy()
    link = cbpp_fit.predict(scale="link")
    np.testing.assert_allclose(link["estimate"], eta, rtol=1e-10)
    population = cbpp_fit.predict(random_effects=False, scale="link")
    # the modes are held at their estimates: the same se as the fixed part's
    np.testing.assert_allclose(link["se"], population["se"], rtol=1e-12)
    response = cbpp_fit.predict()
    np.testing.assert_allclose(response["estimate"], special.expit(eta), rtol=1e-10)
    assert response.attrs["random_effects"] is True
    explicit = cbpp_fit.predict(random_effects=True)
    pd.testing.assert_frame_equal(explicit, response)


def test_predictions_at_new_rows_equal_those_at_the_fitted_ones(cbpp, cbpp_fit):
    new = cbpp.iloc[[40, 3, 17]]
    for conditional in (True, False):
        at_new = cbpp_fit.predict(new, random_effects=conditional)
        fitted = cbpp_fit.predict(random_effects=conditional).loc[new.index]
        pd.testing.assert_frame_equal(at_new, fitted, check_exact=False, rtol=1e-12)


def test_the_average_conditional_prediction_and_its_se(cbpp, cbpp_fit):
    X, b = _cbpp_design(cbpp), cbpp_fit.params.iloc[:4].to_numpy()
    modes = cbpp_fit.random_effects()["mode(Intercept)"].loc[cbpp["herd"]].to_numpy()
    p = special.expit(X @ b + modes)
    gradient = (p * (1 - p)) @ X / len(p)
    table = cbpp_fit.predict(average=True)
    assert table["estimate"].iloc[0] == pytest.approx(p.mean(), rel=1e-10)
    V = cbpp_fit.cov.iloc[:4, :4].to_numpy()
    assert table["se"].iloc[0] == pytest.approx(np.sqrt(gradient @ V @ gradient), rel=1e-8)


def test_conditional_predictions_with_a_random_slope(frame):
    res = fk.fit("y ~ x + (1 + x | g)", frame, "normal")
    modes = res.random_effects()
    u0 = modes["mode(Intercept)"].loc[frame["g"]].to_numpy()
    u1 = modes["mode(x)"].loc[frame["g"]].to_numpy()
    b = res.params[["Intercept", "x"]].to_numpy()
    expected = b[0] + b[1] * frame["x"].to_numpy() + u0 + u1 * frame["x"].to_numpy()
    np.testing.assert_allclose(res.predict()["estimate"], expected, rtol=1e-10)
    new = pd.DataFrame({"x": [0.5, -1.0], "g": ["group3", "group0"]})
    at_new = res.predict(new)["estimate"].to_numpy()
    by_hand = [b[0] + b[1] * x + modes.loc[g, "mode(Intercept)"] + modes.loc[g, "mode(x)"] * x
               for x, g in zip(new["x"], new["g"])]
    np.testing.assert_allclose(at_new, by_hand, rtol=1e-10)


def test_a_new_group_level_is_refused_unless_at_the_population_level(cbpp, cbpp_fit):
    new = cbpp.head(2).assign(herd=[3, 99])
    with pytest.raises(fk.DataError, match=r"The grouping column 'herd' holds the level 99, "
                                           r"which the fit did not see.*random_effects=False"):
        cbpp_fit.predict(new)
    population = cbpp_fit.predict(new.drop(columns="herd"), random_effects=False)
    X, b = _cbpp_design(new), cbpp_fit.params.iloc[:4].to_numpy()
    np.testing.assert_allclose(population["estimate"], special.expit(X @ b), rtol=1e-12)
    with pytest.raises(fk.DataError, match=r"lack the column\(s\) \['herd'\] of the "
                                           "random-effects term"):
        cbpp_fit.predict(new.drop(columns="herd"))


def test_a_row_missing_its_group_is_predicted_as_nan(cbpp, cbpp_fit):
    new = cbpp.head(3).astype({"herd": float})
    new.loc[1, "herd"] = np.nan
    table = cbpp_fit.predict(new)
    assert table.attrs["n_missing"] == 1 and np.isnan(table["estimate"].iloc[1])
    fitted = cbpp_fit.predict().iloc[[0, 2]]
    np.testing.assert_allclose(table["estimate"].iloc[[0, 2]], fitted["estimate"], rtol=1e-12)


def test_random_effects_option_is_checked(cbpp, cbpp_fit):
    fixed = fk.fit("incidence ~ C(period)", cbpp, "binomial", trials="size")
    with pytest.raises(fk.SpecificationError, match=r"predict\(random_effects=\) are for "
                                                    "models with random-effects terms"):
        fixed.predict(random_effects=False)
    with pytest.raises(fk.SpecificationError, match=r"The 'random_effects' parameter of "
                                                    r"predict must be True or False. Got 'yes'"):
        cbpp_fit.predict(random_effects="yes")


# ---- a variance estimated at zero --------------------------------------------------------------


@pytest.fixture(scope="module")
def flat():
    frame = grouped_frame(seed=3)
    rng = np.random.default_rng(4)
    frame["noise"] = 1.0 + 0.5 * frame["x"] + 0.4 * rng.normal(size=len(frame))
    return frame


def test_a_variance_at_zero_warns_with_the_fisherkit_class_and_names_it(flat):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fk.fit("noise ~ x + (1 | g)", flat, "normal")
    found = [w for w in caught if issubclass(w.category, fk.BoundaryWarning)]
    assert len(found) == 1
    assert found[0].category is fk.BoundaryWarning
    assert issubclass(found[0].category, fk.FisherkitWarning)
    assert found[0].filename == __file__  # it points at the caller's fit
    assert ("random-effect standard deviation 'sd(Intercept | g)' is estimated at"
            in str(found[0].message))
    assert "at the boundary zero" in str(found[0].message)
    assert "variance_at_zero" in res.flags
    assert res.params["sd(Intercept | g)"] < 1e-4


def test_the_lr_test_of_a_variance_at_zero_is_the_point_mass(flat):
    fixed = fk.fit("noise ~ x", flat, "normal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.BoundaryWarning)
        mixed = fk.fit("noise ~ x + (1 | g)", flat, "normal")
    test = fk.lr_test(fixed, mixed)
    assert test["statistic"] == pytest.approx(0.0, abs=1e-6)
    assert test["p_value"] == 1.0 and test.attrs["null"] == "chibar2(01)"


def test_a_series_option_of_a_mixed_fit_is_matched_by_its_labels():
    cbpp = fk.datasets.load("cbpp")
    shuffled = cbpp["size"].sample(frac=1.0, random_state=3)
    aligned = fk.fit("incidence ~ C(period) + (1 | herd)", cbpp, "binomial", trials="size")
    by_label = fk.fit("incidence ~ C(period) + (1 | herd)", cbpp, "binomial", trials=shuffled)
    np.testing.assert_allclose(by_label.params, aligned.params, rtol=1e-10)
    assert by_label.loglik == pytest.approx(aligned.loglik, rel=1e-12)
