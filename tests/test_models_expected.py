"""Standard errors every way, checked against Stata, statsmodels and R, and against each other.

Conventions (REFERENCES.md, "Conventions that decide whether two standard errors agree"):

- fisherkit ``"sandwich"`` / ``"HC0"``: ``H^-1 (sum_i s_i s_i') H^-1``, no factor.
- fisherkit ``"HC1"``: HC0 times ``n / (n - p)``, ``p`` counting *every* estimated parameter
  (a normal model's ``sigma`` and NB2's ``alpha`` included).
- fisherkit ``"cluster"``: scores summed within clusters, times ``G / (G - 1)``: the same as
  Stata's ``vce(cluster g)`` for ML commands, which has no ``(N - 1) / (N - K)`` factor.
- Stata's ``vce(robust)`` for ML commands is HC0 times ``n / (n - 1)``.
- statsmodels' default cluster covariance is ``G / (G - 1) * (N - 1) / (N - K)``.
- statsmodels' GLM reports the expected information (IRLS / Fisher scoring) and fixes the
  scale at 1 for the binomial and Poisson families: that is what R's ``glm`` reports, so it
  stands in for R here.
"""

import warnings

import autograd.numpy as anp
from autograd.scipy.special import gammaln
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, special, stats

import fisherkit as fk
from fisherkit.autodiff.derivatives import classify_stationary_point, gradient, hessian
from fisherkit.models.expected import expected_information

from reference_values import (
    LOGIT_SPECTOR_ROBUST,
    NB2_SHIPS_CLUSTER,
    NB2_SHIPS_EXPOSURE,
    NB2_SHIPS_EXPOSURE_CLUSTER,
    NB2_SHIPS_ROBUST,
    OLS_LONGLEY_HC,
    POISSON_SHIPS_CLUSTER,
    POISSON_SHIPS_EXPOSURE,
    POISSON_SHIPS_EXPOSURE_CLUSTER,
    POISSON_SHIPS_EXPOSURE_ROBUST,
    POISSON_SHIPS_ROBUST,
)

SPECTOR = "GRADE ~ GPA + TUCE + PSI"
SHIPS = "accident ~ yr_con + op_75_79"


def scaled_max_diff(a, b):
    """Largest ``|a - b|`` relative to ``sqrt(b_ii b_jj)``: a scale-free matrix distance."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = np.sqrt(np.abs(np.diag(b)))
    return float(np.max(np.abs(a - b) / np.outer(d, d)))


def ships():
    return fk.datasets.load("ships")


def ships_complete():
    """The 34 rows Stata used, for statsmodels (which does not drop missing rows itself)."""
    df = ships()
    return df.dropna(subset=["accident", "service"]).reset_index(drop=True)


def fit_entry(entry, **kwargs):
    """Fit a reference entry on its shipped data set, with its offset and cluster."""
    df = fk.datasets.load(entry["dataset"][:-4])
    if entry.get("offset"):
        assert entry["offset"] == "log(service)"
        kwargs["offset"] = np.log(df["service"])  # Stata's exposure(service)
    if entry.get("cluster"):
        kwargs["cluster"] = entry["cluster"]
    return fk.fit(entry["formula"], data=df, family=entry["family"], link=entry["link"], **kwargs)


# ---- 1. Stata's published robust and cluster standard errors ---------------------------

#: Stata vce -> (fisherkit kind, factor turning fisherkit's variance into Stata's)
def stata_conversion(vce, n):
    if vce == "oim":
        return "observed", 1.0
    if vce == "robust":
        # Stata ML vce(robust) = HC0 * n / (n - 1); fisherkit "HC0" has no factor
        return "HC0", n / (n - 1.0)
    if vce == "cluster":
        # Stata ML vce(cluster) = G / (G - 1) only; fisherkit "cluster" carries exactly that
        return "cluster", 1.0
    raise ValueError(vce)


STATA_ENTRIES = [
    (POISSON_SHIPS_EXPOSURE, "oim"),
    (POISSON_SHIPS_ROBUST, "robust"),
    (POISSON_SHIPS_EXPOSURE_ROBUST, "robust"),
    (POISSON_SHIPS_CLUSTER, "cluster"),
    (POISSON_SHIPS_EXPOSURE_CLUSTER, "cluster"),
    (NB2_SHIPS_EXPOSURE, "oim"),
    (NB2_SHIPS_ROBUST, "robust"),
    (NB2_SHIPS_CLUSTER, "cluster"),
    (NB2_SHIPS_EXPOSURE_CLUSTER, "cluster"),
    (LOGIT_SPECTOR_ROBUST, "robust"),
]


STATA_IDS = [f"{e['model']}-{e['dataset'][:-4]}-{'exposure' if e.get('offset') else 'plain'}-{v}"
             for e, v in STATA_ENTRIES]


@pytest.mark.parametrize("entry, vce", STATA_ENTRIES, ids=STATA_IDS)
def test_standard_errors_match_stata(entry, vce):
    # Sources: statsmodels/discrete/tests/results/results_count_robust_cluster.py and
    # results_glm_logit_constrained.py (Stata poisson / nbreg / glm, see reference_values.py);
    # tolerances are the entry's suggested_rtol (the printed digits and Stata's convergence)
    res = fit_entry(entry)
    if entry["dataset"] == "ships.csv":
        # ships.csv has 40 rows; 6 miss accident and service and Stata dropped them
        assert res.n_dropped == 6
    assert res.n_obs == entry["nobs"]
    k = len(entry["names"])
    assert list(res.params.index[:k]) == entry["names"]
    np.testing.assert_allclose(res.params.iloc[:k], entry["params"],
                               rtol=entry["suggested_rtol"]["params"])
    np.testing.assert_allclose(res.loglik, entry["loglik"], rtol=entry["suggested_rtol"]["loglik"])

    kind, factor = stata_conversion(vce, res.n_obs)
    converted = res.with_cov(kind)
    if vce == "cluster":
        assert len(np.unique(ships()["ship"])) == entry["n_clusters"]
    se = np.sqrt(factor) * converted.se
    np.testing.assert_allclose(se.iloc[:k], entry["se"], rtol=entry["suggested_rtol"]["se"])
    if "lnalpha_se" in entry:
        # Stata estimates ln(alpha); fisherkit's working parameter is log(alpha) too, and
        # alpha's natural-scale SE is the delta method alpha * se(ln alpha), as Stata's
        np.testing.assert_allclose(res.params["alpha"], entry["alpha"],
                                   rtol=entry["suggested_rtol"]["params"])
        np.testing.assert_allclose(se["alpha"], entry["alpha_se"],
                                   rtol=entry["suggested_rtol"]["se"])
        np.testing.assert_allclose(se["alpha"] / res.params["alpha"], entry["lnalpha_se"],
                                   rtol=entry["suggested_rtol"]["se"])


def test_longley_hc0_and_hc1_match_stata():
    # Source: statsmodels/regression/tests/results/results_regression.py (Longley HC0_se,
    # HC1_se, "obtained from Stata"); printed to 4-5 digits, so rtol 5e-4 and the
    # intercept (printed to the unit) atol 1. HC2 and HC3 need leverages, which a likelihood
    # fit does not have; fisherkit does not offer them.
    entry = OLS_LONGLEY_HC
    res = fit_entry(entry)
    n, k = res.n_obs, len(entry["names"])
    p = res.n_params
    assert (n, k, p) == (16, 7, 8)  # the normal model also estimates sigma
    # Normal ML at the MLE: the coefficient block of the sandwich is exactly OLS HC0
    # (the beta-sigma Hessian block vanishes there), so no factor is needed
    hc0 = res.with_cov("HC0").se.iloc[:k].to_numpy()
    np.testing.assert_allclose(hc0[1:], entry["se_HC0"][1:], rtol=5e-4)
    assert abs(hc0[0] - entry["se_HC0"][0]) < 1.0
    # Stata regress vce(robust) = HC0 * n / (n - k), k = 7 coefficients; fisherkit's HC1 is
    # HC0 * n / (n - p) with p = 8 (sigma counted), so Stata's = fisherkit's * (n - p) / (n - k)
    hc1 = res.with_cov("HC1").se.iloc[:k].to_numpy()
    np.testing.assert_allclose(hc1, hc0 * np.sqrt(n / (n - p)), rtol=1e-12)
    stata_hc1 = hc1 * np.sqrt((n - p) / (n - k))
    np.testing.assert_allclose(stata_hc1[1:], entry["se_HC1"][1:], rtol=5e-4)
    assert abs(stata_hc1[0] - entry["se_HC1"][0]) < 1.0


# ---- 2. statsmodels' sandwich and cluster covariances -----------------------------------

def spector_frame():
    df = fk.datasets.load("spector")
    return df, sm.add_constant(df[["GPA", "TUCE", "PSI"]], prepend=True)


def test_sandwich_equals_statsmodels_hc0_logit_and_poisson():
    df, X = spector_frame()
    res = fk.fit(SPECTOR, data=df, family="logit", cov="sandwich")
    ref = sm.Logit(df["GRADE"], X).fit(method="newton", tol=1e-12, disp=0, cov_type="HC0")
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(res.se, ref.bse, rtol=1e-8)
    np.testing.assert_allclose(res.with_cov("HC0").se, ref.bse, rtol=1e-8)

    sh = ships_complete()
    Xs = sm.add_constant(sh[["yr_con", "op_75_79"]], prepend=True)
    res = fk.fit(SHIPS, data=sh, family="poisson", offset=np.log(sh["service"]), cov="HC0")
    ref = sm.Poisson(sh["accident"], Xs, offset=np.log(sh["service"])).fit(
        method="newton", tol=1e-12, disp=0, cov_type="HC0")
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-9)
    np.testing.assert_allclose(res.se, ref.bse, rtol=1e-8)


def test_cluster_equals_statsmodels_without_its_df_factor():
    # statsmodels' default cluster covariance is G/(G-1) * (N-1)/(N-K); fisherkit's is
    # G/(G-1) only, so statsmodels' variance is divided by (N-1)/(N-K) before comparing
    sh = ships_complete()
    Xs = sm.add_constant(sh[["yr_con", "op_75_79"]], prepend=True)
    for offset in (None, np.log(sh["service"])):
        res = fk.fit(SHIPS, data=sh, family="poisson", offset=offset, cluster="ship",
                     cov="cluster")
        ref = sm.Poisson(sh["accident"], Xs, offset=offset).fit(
            method="newton", tol=1e-12, disp=0, cov_type="cluster",
            cov_kwds={"groups": sh["ship"].to_numpy()})
        N, K = res.n_obs, res.n_params
        np.testing.assert_allclose(res.se, ref.bse / np.sqrt((N - 1) / (N - K)), rtol=1e-8)

    df, X = spector_frame()
    groups = np.arange(len(df)) // 4  # 8 clusters of 4 consecutive students
    res = fk.fit(SPECTOR, data=df, family="logit", cluster=groups, cov="cluster")
    ref = sm.Logit(df["GRADE"], X).fit(method="newton", tol=1e-12, disp=0, cov_type="cluster",
                                       cov_kwds={"groups": groups})
    N, K = res.n_obs, res.n_params
    np.testing.assert_allclose(res.se, ref.bse / np.sqrt((N - 1) / (N - K)), rtol=1e-8)


# ---- 3. Expected information against R glm (via statsmodels GLM) ------------------------

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


# ---- 4. Three ways to the expected information ------------------------------------------

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


# ---- 5. Observed versus expected ---------------------------------------------------------

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


@pytest.fixture(scope="module")
def nb2_ships():
    """NB2 on ships with exposure and ship clusters (its exact expected information takes
    a few seconds, and each FitResult caches it)."""
    return fk.fit(SHIPS, data=ships(), family="negbin", offset=np.log(ships()["service"]),
                  cluster="ship")


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


# ---- 6. The information-matrix test: size and power --------------------------------------

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


# ---- 7. Curvature: unidentified combinations and saddle points ---------------------------

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


def mixture_loglik(y):
    """Two normal components, equal weights, unit variance; parameters (mu1, mu2)."""
    def loglik(mu):
        a, b = -0.5 * (y - mu[0]) ** 2, -0.5 * (y - mu[1]) ** 2
        return anp.sum(anp.logaddexp(a, b) - np.log(2.0) - 0.5 * np.log(2 * np.pi))
    return loglik


def test_classify_stationary_point_on_a_mixture_saddle():
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(-3.0, 1.0, 100), rng.normal(3.0, 1.0, 100)])
    loglik = mixture_loglik(y)
    symmetric = np.full(2, y.mean())
    assert np.max(np.abs(gradient(loglik, symmetric))) < 1e-9  # a stationary point
    H = hessian(loglik, symmetric)
    # by hand: eigenvalue -n/2 along (1, 1) and n (s^2 - 1)/2 along (1, -1), s^2 the
    # sample variance about the mean (here about 10, so well-separated)
    n, s2 = len(y), np.mean((y - y.mean()) ** 2)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [-n / 2, n * (s2 - 1) / 2], rtol=1e-10)
    assert classify_stationary_point(H) == "saddle"
    best = optimize.minimize(lambda m: -loglik(m), x0=[-1.0, 1.0],
                             jac=lambda m: -gradient(loglik, m), method="BFGS")
    assert classify_stationary_point(hessian(loglik, best.x)) == "maximum"
    res = fk.fit(SPECTOR, data=fk.datasets.load("spector"), family="logit")
    assert res.curvature().classification == "maximum"


# ---- 8. Planning, tables and with_cov ----------------------------------------------------

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


def test_se_table_is_with_cov_column_by_column(nb2_ships):
    res = nb2_ships
    table = res.se_table()
    assert list(table.columns) == ["observed", "expected", "opg", "sandwich", "cluster"]
    for kind in table.columns:
        pd.testing.assert_series_equal(table[kind], res.with_cov(kind).se, check_names=False)
    table = res.se_table(["HC0", "HC1"])
    assert list(table.columns) == ["HC0", "HC1"]
    n, p = res.n_obs, res.n_params
    np.testing.assert_allclose(table["HC1"], table["HC0"] * np.sqrt(n / (n - p)), rtol=1e-14)


def test_with_cov_does_not_refit(monkeypatch):
    df, X = spector_frame()
    res = fk.fit(SPECTOR, data=df, family="logit")
    model = res.model

    def refit(*args, **kwargs):
        raise AssertionError("with_cov evaluated the log-likelihood or its derivatives")

    # any optimizer needs the log-likelihood, its score or its Hessian at new points: the
    # sandwich needs none of them (the Hessian at the estimate is kept), only the OPG
    for name in ("loglik", "derivatives", "score", "hessian"):
        monkeypatch.setattr(model, name, refit)
    passes = model.passes
    other = res.with_cov("sandwich")
    se = other.se
    assert model.passes - passes <= 1  # the OPG's one pass; a refit takes one per iteration
    assert other.theta is res.theta and other.optimize_result is res.optimize_result
    pd.testing.assert_series_equal(other.params, res.params)
    assert other.cov_type == "sandwich" and res.cov_type == "observed"
    # statsmodels' HC0 on the same data (no factor, as fisherkit's sandwich)
    ref = sm.Logit(df["GRADE"], X).fit(method="newton", tol=1e-12, disp=0, cov_type="HC0")
    np.testing.assert_allclose(se, ref.bse, rtol=1e-8)
    assert not np.allclose(se, res.se)


def test_with_cov_rejects_unknown_kinds():
    res = fk.fit(SPECTOR, data=fk.datasets.load("spector"), family="logit")
    with pytest.raises(fk.SpecificationError, match="Unknown cov 'robust'"):
        res.with_cov("robust")
    with pytest.raises(fk.SpecificationError, match="cov='cluster' needs cluster="):
        res.with_cov("cluster")
    with pytest.raises(fk.SpecificationError, match="Unknown information kind"):
        res.information("sandwich")


def test_expected_information_of_censored_weibull_is_refused():
    heart = fk.datasets.load("heart")
    with pytest.raises(fk.DataError, match="censored weibull model depends on the censoring"):
        fk.fit("survival ~ age", data=heart, family="weibull", event="censors", cov="expected")
    res = fk.fit("survival ~ age", data=heart, family="weibull", event="censors")
    with pytest.raises(fk.DataError, match="censored weibull model depends on the censoring"):
        res.with_cov("expected").se


# ---- 9. OPG -------------------------------------------------------------------------------

def test_opg_is_the_sum_of_outer_products_of_scores(nb2_ships):
    res = nb2_ships
    S = res.model.scores_obs(res.theta)
    assert S.shape == (34, 4)
    opg = res.information("opg", scale="working").to_numpy()
    assert scaled_max_diff(opg, S.T @ S) < 1e-10
    np.testing.assert_allclose(S.sum(axis=0), 0.0, atol=1e-6)  # the score vanishes at the MLE


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
