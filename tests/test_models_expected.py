"""fisherkit.models.expected: the expected information against R's glm (through statsmodels'
GLM), its closed forms, exact summation and Monte Carlo against each other, and the observed
information beside it.

statsmodels' GLM reports the expected information (IRLS / Fisher scoring) and fixes the scale
at 1 for the binomial and Poisson families: that is what R's ``glm`` reports, so it stands in
for R here.
"""

import warnings

import autograd.numpy as anp
from autograd.scipy.special import gammaln
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special, stats

import fisherkit as fk
from fisherkit.models.expected import expected_information
from shared import scaled_max_diff, ships, ships_complete, spector_frame

from reference_values import OLS_LONGLEY_HC

SPECTOR = "GRADE ~ GPA + TUCE + PSI"
SHIPS = "accident ~ yr_con + op_75_79"


# ---- 1. Expected information against R glm (via statsmodels GLM) ------------------------

# statsmodels' GLM reports the expected information (Fisher scoring) and holds the
# binomial and Poisson scale at 1, as R's glm does: its bse are R's summary(glm(...)) SEs.
# Tolerance 1e-6: GLM's IRLS stops on the deviance, which leaves its estimates ~1e-8 off
# the exact MLE.
GLM_CASES = [
    ("binomial-probit", "binomial", "probit", sm.families.Binomial(sm.families.links.Probit())),
    ("binomial-cloglog", "binomial", "cloglog",
     sm.families.Binomial(sm.families.links.CLogLog())),
    ("probit", "probit", None, sm.families.Binomial(sm.families.links.Probit())),
]


@pytest.mark.parametrize("label, family, link, sm_family", GLM_CASES, ids=[c[0] for c in GLM_CASES])
def test_expected_information_matches_glm_binary(label, family, link, sm_family):
    df, X = spector_frame()
    extra = {"trials": np.ones(len(df))} if family == "binomial" else {}
    res = fk.fit(SPECTOR, data=df, family=family, link=link, cov="expected", **extra)
    ref = sm.GLM(df["GRADE"], X, family=sm_family).fit(tol=1e-14, maxiter=200)
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-6)
    np.testing.assert_allclose(res.se, ref.bse, rtol=1e-6)
    # and not by accident: the observed-information SEs differ by percents on these links
    assert np.max(np.abs(res.with_cov("observed").se / ref.bse - 1)) > 1e-2


def test_expected_information_matches_glm_poisson_identity():
    sh = ships_complete()
    Xs = sm.add_constant(sh[["yr_con", "op_75_79"]], prepend=True)
    res = fk.fit(SHIPS, data=sh, family="poisson", link="identity", cov="expected")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels: identity "does not respect the domain"
        ref = sm.GLM(sh["accident"], Xs,
                     family=sm.families.Poisson(sm.families.links.Identity())).fit(tol=1e-14)
    assert ref.mu.min() > 0
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-6)
    np.testing.assert_allclose(res.se, ref.bse, rtol=1e-6)
    assert np.max(np.abs(res.with_cov("observed").se / ref.bse - 1)) > 1e-2


def test_expected_information_matches_glm_gamma_log_at_ml_shape():
    # R glm's gamma SEs use the Pearson dispersion; fixing GLM's scale at 1/shape_ML gives
    # the coefficient block of the full-ML expected information (the beta-shape block of
    # the expected information is zero, so the coefficient SEs are that block's inverse)
    df = fk.datasets.load("scotland")
    rhs = ["COUTAX", "UNEMPF", "MOR", "ACT", "GDP", "AGE", "COUTAX_FEMALEUNEMP"]
    res = fk.fit("YES ~ " + " + ".join(rhs), data=df, family="gamma", link="log", cov="expected")
    ref = sm.GLM(df["YES"], sm.add_constant(df[rhs], prepend=True),
                 family=sm.families.Gamma(sm.families.links.Log())).fit(
        tol=1e-14, scale=1.0 / res.params["shape"])
    np.testing.assert_allclose(res.params.iloc[:-1], ref.params, rtol=1e-6)
    np.testing.assert_allclose(res.se.iloc[:-1], ref.bse, rtol=1e-6)


# ---- 2. Three ways to the expected information ------------------------------------------

def simulated(family, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    if family == "normal":
        y = 2.0 + 0.5 * x + 1.5 * rng.standard_normal(n)
    elif family == "gamma":
        y = rng.gamma(3.0, np.exp(0.5 + 0.3 * x) / 3.0)
    elif family == "weibull":
        y = np.exp(1.0 + 0.4 * x) * rng.standard_exponential(n) ** (1 / 1.7)
    elif family == "student_t":
        y = 1.0 + 0.5 * x + 0.8 * rng.standard_t(5, size=n)
    elif family == "probit":
        y = (rng.random(n) < stats.norm.cdf(0.3 + 0.8 * x)).astype(float)
    elif family == "negbin":
        mu, alpha = np.exp(0.5 + 0.5 * x), 0.5
        y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu)).astype(float)
    return pd.DataFrame({"x": x, "y": y})


MC_CASES = [("normal", {}), ("gamma", {"link": "log"}), ("weibull", {}), ("student_t", {}),
            ("probit", {})]


@pytest.mark.parametrize("family, kwargs", MC_CASES, ids=[c[0] for c in MC_CASES])
def test_monte_carlo_expected_information_agrees_with_closed_form(family, kwargs):
    res = fk.fit("y ~ x", data=simulated(family, 120, seed=11), family=family, **kwargs)
    closed = expected_information(res.model, res.theta, method="closed")
    mc = expected_information(res.model, res.theta, method="monte_carlo", draws=300, seed=5)
    assert (closed.method, mc.method, mc.draws) == ("closed", "monte_carlo", 300)
    # within 3 Monte Carlo standard errors, elementwise; entries that do not depend on the
    # outcome (the normal model's coefficient block) have mc_se 0 and must agree to rounding
    allowed = 3.0 * mc.mc_se + 1e-10 * np.max(np.abs(closed.matrix))
    assert np.all(np.abs(mc.matrix - closed.matrix) <= allowed)
    again = expected_information(res.model, res.theta, method="monte_carlo", draws=300, seed=5)
    np.testing.assert_array_equal(again.matrix, mc.matrix)


def test_exact_summation_equals_closed_form():
    sh = ships()
    spector = fk.datasets.load("spector")
    fits = [fk.fit(SHIPS, data=sh, family="poisson", offset=np.log(sh["service"])),
            fk.fit(SPECTOR, data=spector, family="logit"),
            fk.fit(SPECTOR, data=spector, family="probit")]
    for res in fits:
        exact = expected_information(res.model, res.theta, method="exact")
        closed = expected_information(res.model, res.theta, method="closed")
        assert exact.method == "exact" and exact.tail_bound <= 1e-12
        assert scaled_max_diff(exact.matrix, closed.matrix) < 1e-10


def test_exact_summation_is_automatic_for_negbin_and_ordinal():
    res = fk.fit("y ~ x", data=simulated("negbin", 200, seed=3), family="negbin")
    info = expected_information(res.model, res.theta)
    assert info.method == "exact" and info.tail_bound <= 1e-12
    # NB2 with a log link: the coefficient block is X' diag(mu / (1 + alpha mu)) X and the
    # coefficient-alpha block is zero (Cameron and Trivedi, 2013, sec. 3.3)
    E = res.model.eta_matrix(res.theta)
    mu, alpha = np.exp(E[:, 0]), np.exp(E[:, 1])
    X = res.model.data.designs["mu"]
    closed_block = X.T @ ((mu / (1 + alpha * mu))[:, None] * X)
    assert scaled_max_diff(info.matrix[:2, :2], closed_block) < 1e-10
    assert scaled_max_diff(info.matrix, np.block([[closed_block, np.zeros((2, 1))],
                                                  [np.zeros((1, 2)), info.matrix[2:, 2:]]])) < 1e-10

    # alpha's expected information, summed here over the counts with scipy's NB2 pmf
    # (n = 1/alpha, p = n / (n + mu)) and the score in log(alpha),
    # -n (psi(y + n) - psi(n) + log(n / (n + mu)) + (mu - y) / (n + mu)), up to a count
    # whose upper tail is below 1e-18 for every row
    alpha, n = alpha[0], 1.0 / alpha[0]
    counts = np.arange(int(stats.nbinom.isf(1e-18, n, n / (n + mu.max()))) + 1)[:, None]
    pmf = stats.nbinom.pmf(counts, n, n / (n + mu))
    score = -n * (special.digamma(counts + n) - special.digamma(n) + np.log(n / (n + mu))
                  + (mu - counts) / (n + mu))
    info_log_alpha = np.sum(pmf * score ** 2)
    assert info.matrix[2, 2] == pytest.approx(info_log_alpha, rel=1e-9)  # measured 3e-11
    # and the expected-information standard errors are those blocks inverted (alpha's by
    # the delta method from log alpha)
    se = res.with_cov("expected").se
    assert se.notna().all()
    np.testing.assert_allclose(se, [*np.sqrt(np.diag(np.linalg.inv(closed_block))),
                                    alpha / np.sqrt(info_log_alpha)], rtol=1e-9)

    df = fk.datasets.load("ucla_apply")
    ordinal = fk.fit("apply ~ pared + public + gpa", data=df, family="ordinal")
    info = expected_information(ordinal.model, ordinal.theta)
    assert info.method == "exact"
    assert np.all(np.linalg.eigvalsh(info.matrix) > 0)
    # the cumulative logit's expected information in closed form (multinomial: the sum over
    # categories of g g' / P_j, g the gradient of P_j = F(c_j - eta) - F(c_{j-1} - eta) in
    # (beta, c)), then carried to the working cut points c_1 = w_1, c_k = c_{k-1} + e^{w_k}
    X = df[["pared", "public", "gpa"]].to_numpy(dtype=float)
    p, m = X.shape[1], ordinal.n_params - X.shape[1]
    eta = X @ ordinal.params.iloc[:p].to_numpy()
    cuts = np.r_[-np.inf, ordinal.params.iloc[p:].to_numpy(), np.inf]
    F = stats.logistic.cdf(cuts[None, :] - eta[:, None])
    f = stats.logistic.pdf(cuts[None, :] - eta[:, None])
    closed = np.zeros((p + m, p + m))
    for j in range(m + 1):
        g = np.zeros((len(X), p + m))
        g[:, :p] = -(f[:, j + 1] - f[:, j])[:, None] * X
        if j < m:
            g[:, p + j] += f[:, j + 1]
        if j > 0:
            g[:, p + j - 1] -= f[:, j]
        closed += (g / (F[:, j + 1] - F[:, j])[:, None]).T @ g
    J = np.eye(p + m)
    working = ordinal.params_working.iloc[p:].to_numpy()
    J[p:, p] = 1.0
    for i in range(1, m):
        J[p + i:, p + i] = np.exp(working[i])
    assert scaled_max_diff(info.matrix, J.T @ closed @ J) < 1e-10  # measured 1e-15


# ---- 3. Observed versus expected ---------------------------------------------------------

def canonical_fits():
    rng = np.random.default_rng(5)
    x, m = rng.normal(size=200), rng.integers(1, 20, size=200)
    grouped = pd.DataFrame({"x": x, "m": m,
                            "y": rng.binomial(m, 1 / (1 + np.exp(0.3 - 0.7 * x)))})
    sh = ships()
    scotland_rhs = "COUTAX + UNEMPF + MOR + ACT + GDP + AGE + COUTAX_FEMALEUNEMP"
    return {
        "logit": fk.fit(SPECTOR, data=fk.datasets.load("spector"), family="logit"),
        "poisson-log": fk.fit(SHIPS, data=sh, family="poisson", offset=np.log(sh["service"])),
        "binomial-logit": fk.fit("y ~ x", data=grouped, family="binomial", trials="m"),
        # the coefficient block is equal everywhere; the sigma and shape blocks only at the
        # MLE, where sum z_i^2 = n and the coefficient scores vanish
        "normal-identity": fk.fit(OLS_LONGLEY_HC["formula"], data=fk.datasets.load("longley"),
                                  family="normal"),
        "gamma-inverse": fk.fit(f"YES ~ {scotland_rhs}", data=fk.datasets.load("scotland"),
                                family="gamma"),
    }


def test_observed_equals_expected_for_canonical_links():
    for label, res in canonical_fits().items():
        observed = res.information("observed", scale="working").to_numpy()
        expected = res.information("expected", scale="working").to_numpy()
        assert scaled_max_diff(observed, expected) < 1e-10, label


def test_probit_observed_and_expected_differ_and_match_independent_values():
    df, X = spector_frame()
    res = fk.fit(SPECTOR, data=df, family="probit")
    observed = res.information("observed").to_numpy()
    expected = res.information("expected").to_numpy()
    assert scaled_max_diff(observed, expected) > 1e-2
    theta = res.params.to_numpy()
    # statsmodels Probit.hessian is the analytic observed Hessian (Greene's formula);
    # GLM.hessian(observed=False) is the expected information R's glm inverts
    np.testing.assert_allclose(observed, -sm.Probit(df["GRADE"], X).hessian(theta), rtol=1e-10)
    glm = sm.GLM(df["GRADE"], X, family=sm.families.Binomial(sm.families.links.Probit()))
    np.testing.assert_allclose(expected, -glm.hessian(theta, scale=1.0, observed=False),
                               rtol=1e-10)


def test_nb2_observed_and_expected_differ_and_observed_matches_statsmodels(nb2_ships):
    res = nb2_ships
    sh = ships_complete()
    offset = np.log(sh["service"])
    observed = res.information("observed").to_numpy()  # natural scale: (beta, alpha)
    Xs = sm.add_constant(sh[["yr_con", "op_75_79"]], prepend=True)
    ref = sm.NegativeBinomial(sh["accident"].to_numpy(), Xs.to_numpy(), offset=offset.to_numpy(),
                              loglike_method="nb2")
    ref._transparams = False  # evaluate at alpha itself; its analytic Hessian is in alpha
    ref_observed = -ref.hessian(res.params.to_numpy())
    assert scaled_max_diff(observed, ref_observed) < 1e-10
    expected = res.information("expected").to_numpy()
    assert scaled_max_diff(observed, expected) > 1e-2


# ---- 4. Exact summation over rows of very different means ---------------------------------


def test_exact_count_summation_over_rows_still_open_equals_the_closed_form():
    # means from 0.01 to about 400 (exposure as a per-observation extra of a user family):
    # most rows are done after a few terms, a few need hundreds, and the rows still summed
    # must keep their own exposure
    def poisson_exposure(y, rate, exposure):
        mean = rate * exposure
        return y * anp.log(mean) - mean - gammaln(y + 1.0)

    rng = np.random.default_rng(12)
    n = 3000
    df = pd.DataFrame({"x": rng.standard_normal(n), "exposure": np.exp(rng.uniform(-4.5, 6.0, n))})
    df["y"] = rng.poisson(np.exp(0.3 * df["x"]) * df["exposure"]).astype(float)
    family = fk.Family(poisson_exposure, name="poisson_exposure", aux=("exposure",),
                       support="counts", rate=fk.Predictor(link="log"))
    res = fk.fit("y ~ x", data=df, family=family, exposure="exposure")
    info = expected_information(res.model, res.theta, method="exact")
    assert info.method == "exact" and info.tail_bound <= 1e-12
    X = res.model.data.designs["rate"]
    mean = np.exp(X @ res.theta) * df["exposure"].to_numpy()
    assert scaled_max_diff(info.matrix, X.T @ (mean[:, None] * X)) < 1e-10
