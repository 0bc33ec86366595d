"""fisherkit.inference.hypothesis_tests: Wald, likelihood-ratio and score tests against
statsmodels, and against each other."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import fisherkit as fk

FULL = "GRADE ~ GPA + TUCE + PSI"


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.fixture(scope="module")
def design(spector):
    X = sm.add_constant(spector[["GPA", "TUCE", "PSI"]])
    X.columns = ["Intercept", "GPA", "TUCE", "PSI"]
    return X


@pytest.fixture(scope="module")
def logit(spector):
    return fk.fit(FULL, data=spector, family="logit")


# ---- Wald --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["GPA = TUCE", "GPA = 0, TUCE = 0", "2*GPA + TUCE = 1",
                                  "GPA - 3 = TUCE/2; PSI = 2"])
@pytest.mark.parametrize("cov", [None, "HC0"])
def test_wald_matches_statsmodels_logit(spector, design, logit, text, cov):
    reference = sm.Logit(spector["GRADE"], design).fit(disp=0, cov_type=cov or "nonrobust")
    expected = reference.wald_test(text.replace(";", ","), scalar=True, use_f=False)
    got = logit.wald_test(text, cov=cov)
    assert got["statistic"] == pytest.approx(float(expected.statistic), rel=1e-7)
    assert got["p_value"] == pytest.approx(float(expected.pvalue), rel=1e-6)
    assert got["df"] == text.count("=")


def test_wald_forms_agree_and_match_the_closed_form_for_one_coefficient(logit):
    by_string = logit.wald_test("GPA = 0, PSI = 0")
    by_mapping = logit.wald_test({"GPA": 0.0, "PSI": 0.0})
    R = pd.DataFrame([[1.0, 0.0], [0.0, 1.0]], columns=["GPA", "PSI"])
    by_matrix = logit.wald_test((R, [0.0, 0.0]))
    np.testing.assert_allclose(by_mapping.to_numpy(), by_string.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_matrix.to_numpy(), by_string.to_numpy(), rtol=1e-12)
    # one coefficient against 0: the square of the summary's z
    single = fk.wald_test(logit, "PSI")
    assert single["statistic"] == pytest.approx(logit.summary().loc["PSI", "z"] ** 2, rel=1e-12)
    assert single["p_value"] == pytest.approx(logit.summary().loc["PSI", "p_value"], rel=1e-10)


def test_wald_on_a_natural_scale_parameter_matches_statsmodels_negbin():
    rng = np.random.default_rng(3)
    x = rng.normal(size=2000)
    mu = np.exp(0.5 + 0.4 * x)
    y = rng.negative_binomial(1 / 0.6, 1 / (1 + 0.6 * mu))
    df = pd.DataFrame({"y": y, "x": x})
    res = fk.fit("y ~ x", data=df, family="negbin")
    reference = sm.NegativeBinomial(df["y"], sm.add_constant(df[["x"]])).fit(
        disp=0, method="newton", maxiter=100, tol=1e-12)
    expected = reference.wald_test("alpha = 0.5", scalar=True, use_f=False)
    got = res.wald_test("alpha = 0.5")
    assert got["statistic"] == pytest.approx(float(expected.statistic), rel=1e-5)


def test_wald_refuses_unidentified_parameters():
    def normal_with_an_idle_parameter(p, data):
        # "idle" never enters the density: the data say nothing about it
        return -0.5 * (data["y"] - p["mu"]) ** 2 + 0.0 * p["idle"]

    data = {"y": np.array([0.3, -1.2, 0.8, 2.0])}
    lik = fk.Likelihood(normal_with_an_idle_parameter, data, params={"mu": 0.0, "idle": 0.0})
    with pytest.warns(fk.SingularInformationWarning, match="idle is not identified"):
        res = fk.fit_likelihood(lik)
        assert np.isnan(res.se["idle"])
    # l = -sum (y - mu)^2 / 2: the information of mu is n = 4, so its SE is 1/2 exactly
    assert res.se["mu"] == pytest.approx(0.5, rel=1e-12)
    assert res.wald_test("mu = 0")["statistic"] == pytest.approx(4 * np.mean(data["y"]) ** 2)
    with pytest.raises(fk.SpecificationError, match=r"\['idle'\] are not identified"):
        res.wald_test("idle = 0")


# ---- likelihood ratio ---------------------------------------------------------------------

def test_lr_against_the_null_matches_statsmodels_llr(spector, design, logit):
    reference = sm.Logit(spector["GRADE"], design).fit(disp=0)
    null = fk.fit("GRADE ~ 1", data=spector, family="logit")
    got = fk.lr_test(null, logit)
    assert got["statistic"] == pytest.approx(reference.llr, rel=1e-9)
    assert got["p_value"] == pytest.approx(reference.llr_pvalue, rel=1e-7)
    assert got["df"] == reference.df_model


def test_lr_between_poisson_fits_equals_the_deviance_difference():
    ships = fk.datasets.load("ships")
    ships = ships[ships["service"] > 0]
    offset = np.log(ships["service"])
    small = fk.fit("accident ~ op_75_79", data=ships, family="poisson", offset=offset)
    big = fk.fit("accident ~ op_75_79 + C(ship) + C(yr_con)", data=ships, family="poisson",
                 offset=offset)

    def glm(formula):
        import statsmodels.formula.api as smf
        return smf.glm(formula, data=ships, family=sm.families.Poisson(),
                       offset=offset).fit(tol=1e-13)

    reference = glm("accident ~ op_75_79").deviance - glm(
        "accident ~ op_75_79 + C(ship) + C(yr_con)").deviance
    got = fk.lr_test(small, big)
    assert got["statistic"] == pytest.approx(reference, rel=1e-8)
    assert got["df"] == 4 + 3


def test_lr_errors_and_warnings(spector, logit):
    small = fk.fit("GRADE ~ GPA", data=spector, family="logit")
    with pytest.raises(fk.SpecificationError, match="more parameters than the restricted one.*swapped"):
        fk.lr_test(logit, small)
    fewer = fk.fit("GRADE ~ GPA + TUCE + PSI + Z", data=spector.assign(
        Z=np.where(np.arange(32) == 3, np.nan, np.linspace(0, 1, 32))), family="logit")
    with pytest.raises(fk.SpecificationError, match="32 observations and the full one 31"):
        fk.lr_test(small, fewer)
    other = fk.fit("PSI ~ GPA + TUCE", data=spector, family="logit")
    with pytest.raises(fk.SpecificationError, match="different outcome"):
        fk.lr_test(small, other)
    not_nested = fk.fit("GRADE ~ TUCE + I(TUCE**2) + I(TUCE**3)", data=spector, family="logit")
    restricted = fk.fit("GRADE ~ GPA + PSI", data=spector, family="logit")
    with pytest.warns(fk.NestingWarning, match="not nested"):
        out = fk.lr_test(restricted, not_nested)
    # the "full" fit is below the restricted one, so 2 (l_full - l_restricted) < 0 is
    # reported as 0 (p-value 1) beside the warning
    assert not_nested.loglik < restricted.loglik - 1.0
    assert out["statistic"] == 0.0 and out["p_value"] == 1.0
    with pytest.raises(fk.SpecificationError, match="full model must be a fit result; got str"):
        fk.lr_test(small, "GRADE ~ GPA + TUCE")


# ---- score --------------------------------------------------------------------------------

@pytest.mark.parametrize("family, reference_model", [("logit", sm.Logit), ("probit", sm.Probit)])
def test_score_matches_statsmodels_with_observed_information(spector, design, family,
                                                            reference_model):
    small = fk.fit("GRADE ~ GPA", data=spector, family=family)
    reference = reference_model(spector["GRADE"], design[["Intercept", "GPA"]]).fit(
        disp=0, tol=1e-12).score_test(exog_extra=design[["TUCE", "PSI"]])
    got = fk.score_test(small, FULL, data=spector, information="observed")
    assert got["statistic"] == pytest.approx(float(reference.statistic[0]), rel=1e-7)
    assert got["p_value"] == pytest.approx(float(reference.pvalue[0]), rel=1e-6)
    assert got["df"] == 2


def test_score_with_expected_information_matches_statsmodels_glm(spector, design):
    small = fk.fit("GRADE ~ GPA", data=spector, family="probit")
    glm = sm.GLM(spector["GRADE"], design[["Intercept", "GPA"]],
                 family=sm.families.Binomial(sm.families.links.Probit())).fit(tol=1e-14)
    reference = glm.score_test(exog_extra=design[["TUCE", "PSI"]], observed=False)
    got = fk.score_test(small, FULL, data=spector, information="expected")
    assert got["statistic"] == pytest.approx(float(reference.statistic[0]), rel=1e-6)


def test_score_forms_of_full_model_agree(spector, logit):
    small = fk.fit("GRADE ~ GPA", data=spector, family="logit")
    by_formula = fk.score_test(small, FULL, data=spector)
    by_fit = fk.score_test(small, logit)
    by_model = fk.score_test(small, logit.model)
    np.testing.assert_allclose(by_fit.to_numpy(), by_formula.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_model.to_numpy(), by_formula.to_numpy(), rtol=1e-12)
    # the canonical link: observed and expected information coincide
    observed = fk.score_test(small, logit, information="observed")
    assert observed["statistic"] == pytest.approx(by_fit["statistic"], rel=1e-10)


def test_score_errors(spector, logit):
    small = fk.fit("GRADE ~ GPA", data=spector, family="logit")
    with pytest.raises(fk.SpecificationError, match="needs data="):
        fk.score_test(small, FULL)
    with pytest.raises(fk.SpecificationError, match="Unknown information 'hessian'"):
        fk.score_test(small, logit, information="hessian")
    with pytest.raises(fk.SpecificationError, match=r"\['GPA'\] are not in the full model"):
        fk.score_test(small, "GRADE ~ TUCE + PSI", data=spector)
    with pytest.raises(fk.SpecificationError, match="not nested this way"):
        fk.score_test(small, FULL, data=spector, offset=np.full(32, 0.5))
    ships = fk.datasets.load("ships")
    ships = ships[ships["service"] > 0]
    poisson = fk.fit("accident ~ op_75_79", data=ships, family="poisson")
    with pytest.raises(fk.SpecificationError, match="'alpha' is not in the restricted fit"):
        fk.score_test(poisson, fk.fitting.build_model("accident ~ op_75_79", ships, "negbin"))
    with pytest.raises(fk.SpecificationError, match="data= and model options"):
        fk.score_test(small, logit, data=spector)


# ---- the three together -------------------------------------------------------------------

def test_wald_lr_and_score_agree_on_a_large_sample_under_a_local_alternative():
    rng = np.random.default_rng(11)
    n = 100_000
    X = rng.normal(size=(n, 3))
    # coefficients of order 1/sqrt(n): the statistics stay O(1) and differ by O(n^-1/2)
    eta = -0.3 + 0.8 * X[:, 0] + (6.0 / np.sqrt(n)) * X[:, 1] - (5.0 / np.sqrt(n)) * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df = pd.DataFrame({"y": y, "x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2]})
    small = fk.fit("y ~ x0", data=df, family="logit")
    big = fk.fit("y ~ x0 + x1 + x2", data=df, family="logit")
    stats = {"wald": big.wald_test("x1 = 0, x2 = 0")["statistic"],
             "lr": fk.lr_test(small, big)["statistic"],
             "score_expected": fk.score_test(small, big)["statistic"],
             "score_opg": fk.score_test(small, big, information="opg")["statistic"]}
    values = np.array(list(stats.values()))
    assert values.min() > 5.0  # the alternative is visible, so the comparison means something
    assert (values.max() - values.min()) / values.mean() < 0.01, stats
