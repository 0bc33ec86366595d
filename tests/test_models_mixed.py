"""Mixed models (fisherkit/models/mixed/): the formula's random-effects terms, the Laplace and
adaptive quadrature marginal log-likelihoods, their exact derivatives, and published fits.

Independent checks: the normal family's marginal log-likelihood in closed form
(``y ~ N(X b, sigma^2 I + Z Sigma Z')``, scipy's multivariate normal); the cbpp Laplace and
quadrature log-likelihoods written out by hand below with scipy's root finder for the inner
modes (no autograd, no fisherkit code); finite differences of the score and Hessian.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

import fisherkit as fk
from fisherkit.building import build_model
from fisherkit.models.mixed import BoundaryWarning, RandomTerm, has_random_terms, split_random_terms
from test_conformance import assert_relative, central_difference

CBPP = "incidence ~ C(period) + (1 | herd)"


@pytest.fixture(scope="module")
def cbpp():
    return fk.datasets.load("cbpp")


@pytest.fixture(scope="module")
def cbpp_fit(cbpp):
    return fk.fit(CBPP, cbpp, "binomial", trials="size")


def grouped_frame(n_groups=8, per_group=6, seed=0):
    """Simulated grouped data with outcomes for every family tested."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per_group)
    x = rng.normal(size=g.size)
    u = 0.6 * rng.normal(size=n_groups)[g]
    eta = 0.3 + 0.5 * x + u
    trials = rng.integers(1, 6, size=g.size).astype(float)
    return pd.DataFrame({
        "g": np.array([f"group{k}" for k in g]), "x": x,
        "y": 1.0 + 0.5 * x + u + 0.4 * rng.normal(size=g.size),
        "binary": (rng.random(g.size) < special.expit(eta)).astype(float),
        "successes": rng.binomial(trials.astype(int), special.expit(eta)).astype(float),
        "trials": trials,
        "count": rng.poisson(np.exp(eta)).astype(float),
        "positive": rng.gamma(3.0, np.exp(eta) / 3.0),
        "event": (rng.random(g.size) < 0.8).astype(float),
        "level": pd.Categorical(np.digitize(eta, [0.0, 0.8]), categories=[0, 1, 2],
                                ordered=True),
    })


# ---- the formula's random-effects terms --------------------------------------------------------


@pytest.mark.parametrize("formula, fixed, term", [
    ("y ~ x + (1 | g)", "y ~ x", RandomTerm("1", "g")),
    ("y ~ (1 + x | g) + x", "y ~ x", RandomTerm("1 + x", "g")),
    ("y ~ (1|g)", "y ~ 1", RandomTerm("1", "g")),
    ("y ~ np.log(z) + C(a) + (0 + x | subject)", "y ~ np.log(z) + C(a)",
     RandomTerm("0 + x", "subject")),
])
def test_random_terms_are_split_from_the_fixed_part(formula, fixed, term):
    assert has_random_terms(formula)
    assert split_random_terms(formula) == (fixed, [term])


def test_formulas_without_bars_in_parentheses_have_no_random_terms():
    assert not has_random_terms("y ~ x + (a + b)")
    assert not has_random_terms("y ~ x")


@pytest.mark.parametrize("formula, match", [
    ("y ~ x + (1 | g) + (1 | h)", "2 random-effects terms; one term with one grouping factor"),
    ("y ~ x + (1 || g)", r"uses '\|\|' \(uncorrelated effects\), which is not available yet"),
    ("y ~ x + (1 | a/b)", "nested or interacted grouping; nested and crossed factors are not "
                          "available yet"),
    ("y ~ x + (1 | np.log(g))", "must be a column name"),
    ("y ~ x + ( | g)", "nothing left of its '|'"),
])
def test_random_terms_not_available_yet_are_refused(formula, match):
    with pytest.raises(fk.SpecificationError, match=match):
        split_random_terms(formula)


def test_nagq_needs_a_random_effects_term(cbpp):
    with pytest.raises(fk.SpecificationError, match=r"nagq= sets the quadrature over random "
                                                    r"effects; the formula 'incidence ~ size'"):
        fk.fit("incidence ~ size", cbpp, "poisson", nagq=3)


@pytest.mark.parametrize("nagq", [0, 2.5, True, 101, "7"])
def test_nagq_must_be_a_whole_number_in_range(cbpp, nagq):
    with pytest.raises(fk.SpecificationError, match=r"The 'nagq' parameter of fit must be a "
                                                    r"whole number from 1 to 100"):
        fk.fit(CBPP, cbpp, "binomial", trials="size", nagq=nagq)


def test_options_not_available_yet_are_refused(cbpp):
    with pytest.raises(fk.SpecificationError, match="weights are not available yet"):
        fk.fit(CBPP, cbpp, "binomial", trials="size", weights="size",
               weight_type="frequency")
    with pytest.raises(fk.SpecificationError, match="take a pandas DataFrame"):
        fk.fit(CBPP, "some/path.parquet", "binomial", trials="size")
    with pytest.raises(fk.DataError, match=r"uses 'farm', which is not a column"):
        fk.fit("incidence ~ 1 + (1 | farm)", cbpp, "binomial", trials="size")


def test_rows_missing_the_grouping_are_dropped_and_counted(cbpp):
    holes = cbpp.copy()
    holes["herd"] = holes["herd"].astype(float)
    holes.loc[[3, 10], "herd"] = np.nan
    res = fk.fit(CBPP, holes, "binomial", trials="size")
    kept = fk.fit(CBPP, cbpp.drop(index=[3, 10]), "binomial", trials="size")
    assert res.n_dropped == 2 and res.n_obs == 54
    assert res.loglik == pytest.approx(kept.loglik, rel=1e-12)
    with pytest.raises(fk.DataError, match=r"random-effects column\(s\) \['herd'\], first at "
                                           r"row 3 \(missing='raise'\)"):
        fk.fit(CBPP, holes, "binomial", trials="size", missing="raise")


# ---- published fits ----------------------------------------------------------------------------


def test_cbpp_laplace_matches_lme4(cbpp_fit):
    # lme4 (glmer, Laplace): cbind(incidence, size - incidence) ~ period + (1 | herd),
    # logLik -92.02628, herd sd 0.6421, fixed effects -1.3983 -0.9919 -1.1282 -1.5797 as
    # printed; its optimizer stops early (the 4th decimal of the fixed effects), so the
    # estimates are compared at 1e-3 and the log-likelihood at its printed digits
    res = cbpp_fit
    assert res.converged
    assert res.loglik == pytest.approx(-92.02628, abs=1e-5)
    assert res.params["sd(Intercept | herd)"] == pytest.approx(0.642, abs=5e-4)
    lme4 = [-1.3983, -0.9919, -1.1282, -1.5797]
    assert list(res.params.index) == ["Intercept", "C(period)[T.2]", "C(period)[T.3]",
                                      "C(period)[T.4]", "sd(Intercept | herd)"]
    np.testing.assert_allclose(res.params.iloc[:4], lme4, atol=1e-3)


def _cbpp_arrays(cbpp):
    X = np.column_stack([np.ones(len(cbpp))] + [(cbpp["period"] == k).to_numpy(float)
                                                for k in (2, 3, 4)])
    herd = pd.factorize(cbpp["herd"], sort=True)[0]
    return X, herd, cbpp["incidence"].to_numpy(float), cbpp["size"].to_numpy(float)


def independent_cbpp_loglik(theta, cbpp, nagq=1):
    """The cbpp marginal log-likelihood written out by hand: binomial logit with a normal
    random intercept per herd, inner modes by Brent's root finder on the closed-form
    gradient, the closed-form curvature, Laplace or adaptive Gauss-Hermite."""
    X, herd, y, m = _cbpp_arrays(cbpp)
    beta, tau = theta[:4], np.exp(theta[4])
    eta = X @ beta
    nodes, weights = np.polynomial.hermite.hermgauss(nagq)
    total = 0.0
    for g in range(herd.max() + 1):
        e, yg, mg = eta[herd == g], y[herd == g], m[herd == g]
        const = np.sum(special.gammaln(mg + 1) - special.gammaln(yg + 1)
                       - special.gammaln(mg - yg + 1))

        def h(u):
            lin = e + u
            return (const + np.sum(yg * lin - mg * np.logaddexp(0.0, lin))
                    - 0.5 * u * u / tau ** 2 - 0.5 * np.log(2 * np.pi * tau ** 2))

        def dh(u):
            return np.sum(yg - mg * special.expit(e + u)) - u / tau ** 2

        mode = optimize.brentq(dh, -20.0, 20.0, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        p = special.expit(e + mode)
        curvature = np.sum(mg * p * (1 - p)) + 1 / tau ** 2
        s = 1.0 / np.sqrt(curvature)
        values = [np.log(w) + x * x + h(mode + np.sqrt(2) * s * x)
                  for x, w in zip(nodes, weights)]
        total += np.log(np.sqrt(2) * s) + special.logsumexp(values)
    return total


@pytest.mark.parametrize("nagq", [1, 25])
def test_cbpp_marginal_loglik_equals_an_independent_computation(cbpp, nagq):
    model = build_model(CBPP, cbpp, "binomial", trials="size", nagq=nagq)
    for theta in (np.array([-1.4, -1.0, -1.1, -1.6, np.log(0.64)]),
                  np.array([-1.0, -0.5, -1.5, -1.0, np.log(1.5)])):
        assert model.loglik(theta) == pytest.approx(independent_cbpp_loglik(theta, cbpp, nagq),
                                                    rel=1e-12, abs=1e-11)


def test_cbpp_estimates_equal_an_independent_maximization(cbpp, cbpp_fit):
    found = optimize.minimize(lambda t: -independent_cbpp_loglik(t, cbpp),
                              cbpp_fit.theta + 0.05, method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(cbpp_fit.theta, found.x, atol=2e-5)
    assert cbpp_fit.loglik == pytest.approx(-found.fun, abs=1e-9)


def test_quadrature_with_one_point_is_laplace_and_converges(cbpp):
    theta = np.array([-1.4, -1.0, -1.1, -1.6, np.log(0.64)])
    values = {k: build_model(CBPP, cbpp, "binomial", trials="size", nagq=k).loglik(theta)
              for k in (1, 3, 7, 15, 25)}
    laplace = build_model(CBPP, cbpp, "binomial", trials="size").loglik(theta)
    assert values[1] == laplace
    changes = [abs(values[b] - values[a]) for a, b in ((3, 7), (7, 15), (15, 25))]
    assert changes[0] > changes[1] > changes[2] and changes[2] < 1e-8


@pytest.mark.slow
def test_cbpp_quadrature_fit_moves_little_from_laplace(cbpp, cbpp_fit):
    res = fk.fit(CBPP, cbpp, "binomial", trials="size", nagq=25)
    assert res.converged and "25 points" in res.model.label
    assert res.loglik == pytest.approx(independent_cbpp_loglik(res.theta, cbpp, 25), abs=1e-10)
    assert abs(res.params["sd(Intercept | herd)"] - 0.642) < 0.01
    assert 0 < abs(res.loglik - cbpp_fit.loglik) < 0.5


@pytest.mark.slow
def test_sleepstudy_ml_matches_lme4():
    # lme4: lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE): -2 logLik
    # 1751.939; Subject sds 23.780 (Intercept) and 5.717 (Days), correlation 0.08,
    # residual sd 25.592, fixed effects 251.405 and 10.467, as printed
    res = fk.fit("Reaction ~ Days + (Days | Subject)", fk.datasets.load("sleepstudy"), "normal")
    assert res.converged
    assert -2 * res.loglik == pytest.approx(1751.939, abs=1e-3)
    expected = {"Intercept": 251.405, "Days": 10.467, "sd(Intercept | Subject)": 23.780,
                "sd(Days | Subject)": 5.717, "sigma": 25.592}
    for name, value in expected.items():
        assert res.params[name] == pytest.approx(value, abs=2e-3), name
    assert res.params["cor(Intercept, Days | Subject)"] == pytest.approx(0.08, abs=5e-3)


# ---- the normal family in closed form ----------------------------------------------------------


def closed_form_normal(frame, theta, slope: bool):
    """``log N(y; X b, sigma^2 I + Z Sigma Z')``, by scipy."""
    X = np.column_stack([np.ones(len(frame)), frame["x"]])
    codes = pd.factorize(frame["g"], sort=True)[0]
    if slope:
        b, (l11, l22, l21), log_sigma = theta[:2], theta[2:5], theta[5]
        L = np.array([[np.exp(l11), 0.0], [l21, np.exp(l22)]])
        Zrow = X
    else:
        b, log_sigma = theta[:2], theta[3]
        L = np.array([[np.exp(theta[2])]])
        Zrow = np.ones((len(frame), 1))
    Sigma = L @ L.T
    V = np.exp(2 * log_sigma) * np.eye(len(frame))
    same = codes[:, None] == codes[None, :]
    V += same * (Zrow @ Sigma @ Zrow.T)
    return stats.multivariate_normal(X @ b, V).logpdf(frame["y"])


@pytest.mark.parametrize("slope", [False, True])
def test_normal_marginal_loglik_is_the_closed_form(slope):
    frame = grouped_frame()
    formula = "y ~ x + (1 + x | g)" if slope else "y ~ x + (1 | g)"
    model = build_model(formula, frame, "normal")
    rng = np.random.default_rng(1)
    for _ in range(3):
        theta = model.start_values() + 0.3 * rng.standard_normal(model.n_params)
        assert model.loglik(theta) == pytest.approx(closed_form_normal(frame, theta, slope),
                                                    rel=1e-12, abs=1e-10)


@pytest.mark.parametrize("slope", [False, True])
def test_normal_quadrature_is_exact_at_any_number_of_points(slope):
    frame = grouped_frame()
    if slope:
        formula, theta = "y ~ x + (1 + x | g)", np.array([1.0, 0.5, np.log(0.6), np.log(0.3),
                                                          0.2, np.log(0.4)])
    else:
        formula, theta = "y ~ x + (1 | g)", np.array([1.0, 0.5, np.log(0.6), np.log(0.4)])
    expected = closed_form_normal(frame, theta, slope)
    for k in (1, 4, 9):
        model = build_model(formula, frame, "normal", nagq=k)
        assert model.loglik(theta) == pytest.approx(expected, abs=1e-10)


def test_vector_quadrature_converges_and_is_refused_where_impractical():
    frame = grouped_frame()
    formula = "binary ~ x + (1 + x | g)"
    theta = np.array([0.3, 0.5, np.log(0.8), np.log(0.5), 0.3])
    reference = build_model(formula, frame, "logit", nagq=19).loglik(theta)  # 361 nodes
    errors = [abs(build_model(formula, frame, "logit", nagq=k).loglik(theta) - reference)
              for k in (1, 3, 5, 7, 9, 11)]
    assert all(a > b for a, b in zip(errors, errors[1:])) and errors[-1] < 1e-8
    with pytest.raises(fk.SpecificationError, match=r"nagq=21 with 2 random effects per group "
                                                    r"means 441 quadrature nodes per group"):
        build_model(formula, frame, "logit", nagq=21)


# ---- exact derivatives -------------------------------------------------------------------------

FAMILY_CASES = [
    ("y ~ x + (1 | g)", "normal", {}),
    ("binary ~ x + (1 | g)", "logit", {}),
    ("binary ~ x + (1 | g)", "probit", {}),
    ("successes ~ x + (1 | g)", "binomial", {"trials": "trials"}),
    ("count ~ x + (1 | g)", "poisson", {}),
    ("count ~ x + (1 | g)", "negbin", {}),
    ("positive ~ x + (1 | g)", "gamma", {"link": "log"}),
    ("positive ~ x + (1 | g)", "weibull", {"event": "event"}),
    pytest.param("level ~ x + (1 | g)", "ordinal", {}, marks=pytest.mark.slow),
    ("binary ~ x + (1 + x | g)", "logit", {}),
    ("count ~ x + (1 | g)", "poisson", {"nagq": 5}),
    ("binary ~ x + (1 + x | g)", "logit", {"nagq": 3}),
]


def _case_id(case):
    formula, family, options = case.values if hasattr(case, "values") else case
    return f"{family}-{formula.split('~')[1].strip()}-{options}"


@pytest.mark.parametrize("formula, family, options", FAMILY_CASES,
                         ids=[_case_id(c) for c in FAMILY_CASES])
def test_score_and_hessian_equal_central_differences(formula, family, options):
    model = build_model(formula, grouped_frame(), family, **options)
    theta = model.start_values() + 0.1 * np.random.default_rng(2).standard_normal(model.n_params)
    value, score, hessian = model.derivatives(theta)
    assert value == pytest.approx(model.loglik(theta), rel=1e-13)
    fd_score = np.array([central_difference(model.loglik, theta, j)
                         for j in range(model.n_params)])
    assert_relative(score, fd_score, 1e-6, "score against differences of loglik")
    fd_hessian = np.column_stack([central_difference(model.score, theta, j)
                                  for j in range(model.n_params)])
    assert_relative(hessian, fd_hessian, 1e-6, "Hessian against differences of the score")
    assert_relative(hessian, hessian.T, 1e-12, "Hessian symmetry")


def test_names_scales_and_coordinates_of_a_correlated_term():
    model = build_model("y ~ x + (1 + x | g)", grouped_frame(), "normal")
    assert model.names == ("Intercept", "x", "sd(Intercept | g)", "sd(x | g)",
                           "cor(Intercept, x | g)", "sigma")
    assert model.working_names[2:5] == ("log(chol(Intercept | g))", "log(chol(x | g))",
                                        "chol(x, Intercept | g)")
    theta = np.array([1.0, 0.5, np.log(0.6), np.log(0.3), 0.2, np.log(0.4)])
    natural = np.asarray(model.to_natural(theta))
    sd_x = np.hypot(0.2, 0.3)
    np.testing.assert_allclose(natural, [1.0, 0.5, 0.6, sd_x, 0.2 / sd_x, 0.4], rtol=1e-14)
    np.testing.assert_allclose(model.to_working(natural), theta, rtol=1e-12, atol=1e-14)
    fd = np.column_stack([central_difference(model.to_natural, theta, j) for j in range(6)])
    assert_relative(model.natural_jacobian(theta), fd, 1e-8, "natural Jacobian")
    assert [model.own_coordinate(j) for j in range(6)] == [True, True, False, False, False, True]
    assert [model.can_be_zero(j) for j in range(6)] == [True, True, False, False, False, False]


# ---- results -----------------------------------------------------------------------------------


def test_random_effects_are_the_conditional_modes_and_sds(cbpp, cbpp_fit):
    table = cbpp_fit.random_effects()
    assert list(table.columns) == ["mode(Intercept)", "sd(Intercept)"]
    assert table.index.name == "herd" and list(table.index) == list(range(1, 16))
    X, herd, y, m = _cbpp_arrays(cbpp)
    beta, tau = cbpp_fit.theta[:4], cbpp_fit.params["sd(Intercept | herd)"]
    for g in (0, 7, 13):
        e, yg, mg = (X @ beta)[herd == g], y[herd == g], m[herd == g]
        mode = optimize.brentq(lambda u: np.sum(yg - mg * special.expit(e + u)) - u / tau ** 2,
                               -20, 20, xtol=1e-14)
        p = special.expit(e + mode)
        assert table.iloc[g, 0] == pytest.approx(mode, abs=1e-9)
        assert table.iloc[g, 1] == pytest.approx((np.sum(mg * p * (1 - p)) + tau ** -2) ** -0.5,
                                                 rel=1e-9)


def test_random_effects_are_refused_without_random_terms(cbpp):
    res = fk.fit("incidence ~ C(period)", cbpp, "poisson")
    with pytest.raises(fk.SpecificationError, match=r"random_effects\(\) and predict\(random_effects=\) "
                                                    r"are for models with random-effects terms"):
        res.random_effects()


def test_covariance_kinds_and_refusals(cbpp, cbpp_fit):
    assert np.all(np.isfinite(cbpp_fit.se))
    sandwich = cbpp_fit.with_cov("sandwich").se
    cluster = cbpp_fit.with_cov("cluster", cluster=cbpp["herd"]).se
    np.testing.assert_allclose(cluster, sandwich * np.sqrt(15 / 14), rtol=1e-10)
    with pytest.raises(fk.SpecificationError, match="expected information of a mixed model is "
                                                    "not available"):
        cbpp_fit.with_cov("expected").se
    with pytest.raises(fk.SpecificationError, match="Residuals are not available yet"):
        cbpp_fit.residuals("pearson")


@pytest.mark.slow
def test_a_variance_at_zero_is_flagged():
    frame = grouped_frame(seed=3)
    rng = np.random.default_rng(4)
    frame["noise"] = 1.0 + 0.5 * frame["x"] + 0.4 * rng.normal(size=len(frame))
    with pytest.warns(BoundaryWarning, match=r"'sd\(Intercept \| g\)' is estimated at .*"
                                             "boundary zero"):
        res = fk.fit("noise ~ x + (1 | g)", frame, "normal")
    assert "variance_at_zero" in res.flags


def test_a_mixed_fit_pickles(cbpp_fit):
    again = pickle.loads(pickle.dumps(cbpp_fit))
    pd.testing.assert_series_equal(again.params, cbpp_fit.params)
    pd.testing.assert_frame_equal(again.random_effects(), cbpp_fit.random_effects())


def test_array_options_follow_the_rows_kept():
    frame = grouped_frame()
    holes = frame.assign(g=frame["g"].where(frame.index % 7 != 3))
    kept = holes.dropna(subset=["g"])
    full = fk.fit("count ~ x + (1 | g)", holes, "poisson", offset=np.log(holes["trials"]))
    clean = fk.fit("count ~ x + (1 | g)", kept, "poisson", offset=np.log(kept["trials"]))
    assert full.n_dropped == len(frame) - len(kept)
    assert full.loglik == pytest.approx(clean.loglik, rel=1e-12)
    with warnings.catch_warnings():
        # on the rows kept the groups' variance runs to zero, which is flagged
        warnings.simplefilter("ignore", BoundaryWarning)
        trials = fk.fit("successes ~ x + (1 | g)", holes, "binomial",
                        trials=holes["trials"].to_numpy())
        again = fk.fit("successes ~ x + (1 | g)", kept, "binomial", trials="trials")
    assert trials.loglik == pytest.approx(again.loglik, rel=1e-12)
    slope = build_model("successes ~ x + (0 + x | g)", holes, "binomial", trials="trials")
    assert slope.names == ("Intercept", "x", "sd(x | g)") and slope.n_obs == len(kept)


def test_cbpp_information_equals_differences_of_the_independent_loglik(cbpp, cbpp_fit):
    # the observed information of the fit (exact derivatives through the modes) against
    # second central differences of the hand-written Laplace log-likelihood above
    theta, h = cbpp_fit.theta, 1e-4
    p = len(theta)
    unit = np.eye(p) * h
    f = lambda t: independent_cbpp_loglik(t, cbpp)  # noqa: E731
    fd = np.empty((p, p))
    for a in range(p):
        for b in range(p):
            fd[a, b] = (f(theta + unit[a] + unit[b]) - f(theta + unit[a] - unit[b])
                        - f(theta - unit[a] + unit[b]) + f(theta - unit[a] - unit[b])) / (4 * h * h)
    assert_relative(cbpp_fit.model.hessian(theta), fd, 1e-5, "Hessian against differences")
