"""fisherkit.inference.covariance: the kinds of covariance and the shared information,
checked against Stata's published standard errors, against statsmodels and against each other.

statsmodels' fits below use Newton's method with tol=1e-12, so both sides stop at the MLE to
about 1e-10 in the estimates; 1e-8 on variances leaves room for that and for the different
orders of summation.

Conventions (REFERENCES.md, "Conventions that decide whether two standard errors agree"):

- fisherkit ``"sandwich"`` / ``"HC0"``: ``H^-1 (sum_i s_i s_i') H^-1``, no factor.
- fisherkit ``"HC1"``: HC0 times ``n / (n - p)``, ``p`` counting *every* estimated parameter
  (a normal model's ``sigma`` and NB2's ``alpha`` included).
- fisherkit ``"cluster"``: scores summed within clusters, times ``G / (G - 1)``: the same as
  Stata's ``vce(cluster g)`` for ML commands, which has no ``(N - 1) / (N - K)`` factor.
- Stata's ``vce(robust)`` for ML commands is HC0 times ``n / (n - 1)``.
- statsmodels' default cluster covariance is ``G / (G - 1) * (N - 1) / (N - K)``.
"""

import numpy as np
import pytest
import statsmodels.api as sm

import fisherkit as fk
from fisherkit.inference.covariance import COV_TYPES, Covariance, InformationCache
from shared import logit_statsmodels, relabel, scaled_max_diff, ships, ships_complete, spector_frame

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


@pytest.fixture(scope="module")
def spector():
    return spector_frame()


@pytest.fixture(scope="module")
def logit(spector):
    df, _ = spector
    return fk.fit(SPECTOR, data=df, family="logit")


def fit_entry(entry, **kwargs):
    """Fit a reference entry on its shipped data set, with its offset and cluster."""
    df = fk.datasets.load(entry["dataset"][:-4])
    if entry.get("offset"):
        assert entry["offset"] == "log(service)"
        kwargs["offset"] = np.log(df["service"])  # Stata's exposure(service)
    if entry.get("cluster"):
        kwargs["cluster"] = entry["cluster"]
    return fk.fit(entry["formula"], data=df, family=entry["family"], link=entry["link"], **kwargs)


# ---- the kinds, against statsmodels ------------------------------------------------------

def test_sandwich_and_hc0_match_statsmodels_hc0(spector, logit):
    ref = relabel(logit_statsmodels(spector, cov_type="HC0").cov_params())
    for kind in ("sandwich", "HC0"):
        np.testing.assert_allclose(logit.with_cov(kind).cov.to_numpy(), ref, rtol=1e-8)
        cov = Covariance(logit.model, logit.theta, kind)
        np.testing.assert_allclose(cov.natural, ref, rtol=1e-8)


def test_hc1_is_hc0_times_n_over_n_minus_p(spector, logit):
    # statsmodels' discrete models give "HC1" no small-sample factor (it equals their HC0),
    # so its covariance is multiplied by n / (n - p) here, p = 4 estimated parameters
    ref = relabel(logit_statsmodels(spector, cov_type="HC1").cov_params())
    n, p = logit.n_obs, logit.n_params
    assert (n, p) == (32, 4)
    np.testing.assert_allclose(logit.with_cov("HC1").cov.to_numpy(), ref * n / (n - p),
                               rtol=1e-8)


def test_cluster_is_g_over_g_minus_1(spector):
    df, _ = spector
    groups = np.arange(len(df)) % 5  # 5 clusters, each spread over the whole sample
    res = fk.fit(SPECTOR, data=df, family="logit", cluster=groups, cov="cluster")
    ref = relabel(logit_statsmodels(spector, cov_type="cluster",
                                    cov_kwds={"groups": groups}).cov_params())
    # statsmodels' default factor is (G / (G - 1)) * ((N - 1) / (N - K)); fisherkit's is
    # G / (G - 1) (Stata's for ML models), so statsmodels' (N - 1) / (N - K) is divided out
    N, K = res.n_obs, res.n_params
    np.testing.assert_allclose(res.cov.to_numpy(), ref / ((N - 1) / (N - K)), rtol=1e-8)
    # the same from the labels given to with_cov, or to a Covariance directly
    plain = fk.fit(SPECTOR, data=df, family="logit")
    np.testing.assert_allclose(plain.with_cov("cluster", cluster=groups).cov, res.cov,
                               rtol=1e-14)
    cov = Covariance(plain.model, plain.theta, "cluster", cluster=groups)
    np.testing.assert_allclose(cov.natural, res.cov.to_numpy(), rtol=1e-14)


def test_opg_is_the_sum_of_outer_products_of_scores(nb2_ships):
    res = nb2_ships
    S = res.model.scores_obs(res.theta)
    assert S.shape == (34, 4)
    opg = res.information("opg", scale="working").to_numpy()
    assert scaled_max_diff(opg, S.T @ S) < 1e-10
    np.testing.assert_allclose(S.sum(axis=0), 0.0, atol=1e-6)  # the score vanishes at the MLE


# ---- the module's objects ----------------------------------------------------------------

def test_information_cache_computes_each_matrix_once(logit):
    model = logit.model
    cache = InformationCache(model, logit.theta)
    first = cache.matrix("observed")
    before = model.passes
    assert cache.matrix("observed") is first
    assert cache.matrix("opg") is cache.opg()
    assert cache.expected({}) is cache.expected(None)
    assert model.passes == before + 2  # one pass for the OPG, one for the expected
    assert sorted(map(str, cache.store)) == ["('expected', ())", "observed", "opg"]
    np.testing.assert_allclose(first, logit.information("observed", scale="working"),
                               rtol=1e-12)


def test_covariance_problems_are_empty_when_the_information_inverts(logit):
    cov = Covariance(logit.model, logit.theta)
    assert cov.kind == "observed" and cov.problems == ()
    np.testing.assert_allclose(cov.working, logit.cov_working.to_numpy(), rtol=1e-12)


def test_covariance_rejects_bad_kinds_and_clusters(logit):
    model, theta = logit.model, logit.theta
    assert "cluster" in COV_TYPES
    with pytest.raises(fk.SpecificationError, match=r"Unknown cov 'HC3'; choose one of \["):
        Covariance(model, theta, "HC3")
    with pytest.raises(fk.SpecificationError, match="cov='cluster' needs cluster="):
        Covariance(model, theta, "cluster")
    with pytest.raises(fk.SpecificationError, match="The cluster labels have 3 values for 32 "):
        Covariance(model, theta, "cluster", cluster=[1, 2, 3])
    one = Covariance(model, theta, "cluster", cluster=np.zeros(32))
    with pytest.raises(fk.SpecificationError, match="needs at least two clusters"):
        _ = one.working
    with pytest.raises(fk.SpecificationError, match="'opg' covariance is the inverse of one "
                                                     "information matrix: it has no sandwich"):
        Covariance(model, theta, "opg").meat()
    with pytest.raises(fk.SpecificationError, match="Unknown information kind 'sandwich'"):
        InformationCache(model, theta).matrix("sandwich")


# ---- Stata's published robust and cluster standard errors ---------------------------

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


# ---- statsmodels' sandwich and cluster covariances on other data --------------------

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
