"""fisherkit.inference.diagnostics: the information-matrix test (its size and power, and its
statistic from its definition), the curvature report, and planning a sample size."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import fisherkit as fk
from shared import ships

SHIPS = "accident ~ yr_con + op_75_79"


# ---- the information-matrix test: size and power ------------------------------------------


def im_rejection_rate(n_sets, seed, overdispersed):
    rng = np.random.default_rng(seed)
    rejected = 0
    for _ in range(n_sets):
        x = rng.normal(size=2000)
        mu = np.exp(0.5 + 0.5 * x)
        # negative binomial with size 1: Var = mu + mu^2
        y = rng.negative_binomial(1, 1 / (1 + mu)) if overdispersed else rng.poisson(mu)
        res = fk.fit("y ~ x", data=pd.DataFrame({"x": x, "y": y}), family="poisson")
        rejected += res.information_matrix_test()["p_value"] < 0.05
    return rejected / n_sets


def test_information_matrix_test_size_and_power():
    # 300 correctly specified Poisson data sets: the rejection rate at 5% has a Monte Carlo
    # SD of about 1.3 points. The OPG form is known to over-reject in finite samples
    # (Chesher and Spady, 1991); over 2,000 other seeds its rate at n = 2000 was about 8%,
    # so the upper bound of 9% is close to the truth, not a generous margin.
    size = im_rejection_rate(300, seed=20240601, overdispersed=False)
    assert 0.02 <= size <= 0.09, size
    power = im_rejection_rate(100, seed=20240602, overdispersed=True)
    assert power > 0.80, power


def test_information_matrix_test_output():
    res = fk.fit(SHIPS, data=ships(), family="poisson", offset=np.log(ships()["service"]))
    im = res.information_matrix_test()
    # 3 parameters give 6 Hessian elements, but op_75_79 is 0/1, so op_75_79^2 = op_75_79
    # and its diagonal indicator repeats the (Intercept, op_75_79) one: 5 independent
    assert im["df"] == 5 and 0 <= im["p_value"] <= 1
    # the OPG form computed here from its definition (Chesher, 1983; Lancaster, 1984):
    # n R^2 of the uncentred regression of ones on the scores s_i = (y - mu) x_i and the
    # indicators vech(s_i s_i' + H_i) = ((y - mu)^2 - mu) x_ia x_ib of the Poisson log link,
    # with as many degrees of freedom as the indicators add to the scores' rank
    used = ships().dropna(subset=["accident", "service"])
    X = np.column_stack([np.ones(len(used)), used["yr_con"], used["op_75_79"]])
    y = used["accident"].to_numpy()
    mu = used["service"].to_numpy() * np.exp(X @ res.params.to_numpy())
    S = (y - mu)[:, None] * X
    a, b = np.triu_indices(3)
    Z = np.hstack([S, ((y - mu) ** 2 - mu)[:, None] * X[:, a] * X[:, b]])
    fitted = Z @ np.linalg.lstsq(Z, np.ones(len(y)), rcond=None)[0]
    assert np.linalg.matrix_rank(Z) - np.linalg.matrix_rank(S) == im["df"]
    assert im["statistic"] == pytest.approx(fitted @ fitted, rel=1e-10)
    assert im["p_value"] == pytest.approx(stats.chi2.sf(fitted @ fitted, 5), rel=1e-10)
    assert "sandwich" in im["conclusion"]


# ---- curvature: unidentified combinations ------------------------------------------------


def test_curvature_names_the_collinear_combination():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x1": rng.normal(size=200), "x2": rng.normal(size=200)})
    df["x3"] = df["x1"] + df["x2"]  # exactly collinear
    df["y"] = rng.poisson(np.exp(0.3 + 0.2 * df["x1"] - 0.1 * df["x2"]))
    with pytest.warns(fk.SingularInformationWarning, match="x1.*x2.*x3"):
        res = fk.fit("y ~ x1 + x2 + x3", data=df, family="poisson")
    assert "singular_information" in res.flags
    report = res.curvature()
    assert report.classification == "degenerate"
    assert len(report.flat_directions) == 1
    assert all(name in report.flat_directions[0] for name in ("x1", "x2", "x3"))
    assert "x1" in str(report) and "not identified" in str(report)
    assert np.isfinite(res.se["Intercept"]) and res.se["Intercept"] > 0
    assert res.se[["x1", "x2", "x3"]].isna().all()
    # the intercept is estimable (orthogonal to the flat direction), so its variance is the
    # same under any generalized inverse: that of the identified model without x3. The
    # estimates agree to the optimizer's tolerance, hence 1e-6.
    reduced = fk.fit("y ~ x1 + x2", data=df, family="poisson")
    np.testing.assert_allclose(res.loglik, reduced.loglik, rtol=1e-12)
    np.testing.assert_allclose(res.se["Intercept"], reduced.se["Intercept"], rtol=1e-6)
    np.testing.assert_allclose(res.params["x1"] + res.params["x3"], reduced.params["x1"],
                               atol=1e-6)


# ---- planning --------------------------------------------------------------------------------


def test_plan_quadruple_sample_halves_the_standard_errors():
    res = fk.fit(SHIPS, data=ships(), family="poisson", offset=np.log(ships()["service"]))
    plan = res.plan(n=4 * res.n_obs)
    np.testing.assert_allclose(plan["se_expected"], res.with_cov("expected").se, rtol=1e-14)
    np.testing.assert_allclose(plan["se_planned"], plan["se_expected"] / 2, rtol=1e-14)

    target = 0.05
    needed = res.plan(se=target)["n_needed"]
    for name, n_needed in needed.items():
        assert res.plan(n=int(n_needed))["se_planned"][name] <= target
        assert res.plan(n=int(n_needed) - 1)["se_planned"][name] > target
