"""fisherkit.models.index_model: the index model's exact derivatives (finite-difference
checks, structured versus general paths, per-observation scores, row blocks), its kept eta
matrix, and properties of its Hessian and information.

Every built-in family with every link it accepts is covered; the list is built from the
registry (``FAMILIES`` x ``LINKS``, keeping what ``make_family`` accepts), so that a family
added later without simulated data here fails ``test_every_builtin_family_has_simulated_data``.
"""

from functools import lru_cache

import autograd
import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from autograd.scipy.special import gammaln
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import fisherkit as fk
from fisherkit.autodiff import derivatives
from fisherkit.models.builtins import FAMILIES, make_family
from fisherkit.models.formula import build_data
from fisherkit.models.index_model import Model
from shared import accepted_links, simulate


BUILTIN = accepted_links()
BUILTIN_IDS = [f"{name}-{link}" for name, link in BUILTIN]
FORMULA = "y ~ x1 + x2"


# ---- simulated data for every family --------------------------------------------------------


def build_model(family, df: pd.DataFrame, kwargs: dict) -> Model:
    return Model(family, build_data(FORMULA, df, family, **kwargs))


@lru_cache(maxsize=None)
def builtin_model(name: str, link: str, n: int = 300, seed: int = 0) -> Model:
    df, kwargs = simulate(name, n, seed)
    return build_model(make_family(name, link), df, kwargs)


def off_optimum(model: Model, seed: int = 1, scale: float = 0.1) -> np.ndarray:
    """A random non-optimal theta near the starting values, where the log-likelihood is finite."""
    rng = np.random.default_rng(seed)
    theta = model.start_values() + scale * rng.standard_normal(model.n_params)
    assert np.isfinite(model.loglik(theta))
    return theta


# ---- user-written families ------------------------------------------------------------------


def zip_logpdf(y, rate, zero):
    log_poisson = y * anp.log(rate) - rate - gammaln(y + 1)
    log_zero = anp.log(zero + (1 - zero) * anp.exp(-rate))
    return anp.where(y == 0, log_zero, anp.log1p(-zero) + log_poisson)


def heteroscedastic_normal_logpdf(y, mu, sigma):
    return -anp.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2 - 0.5 * np.log(2 * np.pi)


def user_model(kind: str) -> Model:
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({"x1": rng.uniform(-1, 1, n), "x2": rng.uniform(-1, 1, n)})
    if kind == "zero_inflated_poisson":
        family = fk.Family(zip_logpdf, rate=fk.Predictor(link="log"),
                           zero=fk.Scalar("unit_interval"))
        counts = rng.poisson(np.exp(1.0 + 0.5 * df.x1 - 0.3 * df.x2))
        df["y"] = np.where(rng.uniform(size=n) < 0.3, 0, counts)
    else:
        family = fk.Family(heteroscedastic_normal_logpdf, mu=fk.Predictor(),
                           sigma=fk.Predictor("~ x2", link="log"))
        df["y"] = 1.0 + 0.5 * df.x1 + np.exp(-0.5 + 0.4 * df.x2) * rng.normal(size=n)
    return build_model(family, df, {})


USER_KINDS = ["zero_inflated_poisson", "heteroscedastic_normal"]


def test_every_builtin_family_has_simulated_data():
    assert {name for name, _ in BUILTIN} == set(FAMILIES)
    for name, _ in BUILTIN:
        df, _ = simulate(name, n=20)
        assert "y" in df


# ---- finite differences, the way autograd's test_util checks --------------------------------

#: central-difference step along a direction drawn from N(0, I). The error of
#: (f(x + h v) - f(x - h v)) / (2 h) is truncation h^2 |f'''| / 6 ~ 2e-11 |f'''| (second
#: order in h) plus rounding ~ eps * sum_i |l_i| / h ~ 2e-11 * sum_i |l_i|. For these 300-row
#: models (sum_i |l_i| from 200 to 650) the largest discrepancy measured is 3e-8 relative, 30
#: times under the tolerance below, while an error of 1e-4 in a derivative fails it
#: (test_finite_difference_check_rejects_a_slightly_wrong_derivative).
STEP = 1e-5
#: autograd's test_util tolerance: |a - b| < 1e-6 absolute or relative to |a| + |b|
FD_TOL = 1e-6


def fd_close(exact: float, numeric: float) -> bool:
    return abs(exact - numeric) <= FD_TOL * max(1.0, abs(exact) + abs(numeric))


def central_difference(f, x, v):
    return (f(x + STEP * v) - f(x - STEP * v)) / (2 * STEP)


def check_score_by_differences(model: Model, theta: np.ndarray, rng, n_directions: int = 3):
    """``v . score`` against the central difference of the log-likelihood along ``v``."""
    score = model.score(theta)
    for _ in range(n_directions):
        v = rng.standard_normal(model.n_params)
        exact, numeric = v @ score, central_difference(model.loglik, theta, v)
        assert fd_close(exact, numeric), (exact, numeric)


def check_hessian_by_differences(model: Model, theta: np.ndarray, rng, n_directions: int = 3):
    """``u' H v`` against the central difference of ``u . score`` along ``v`` (second order)."""
    hessian = model.hessian(theta)
    for _ in range(n_directions):
        u, v = rng.standard_normal((2, model.n_params))
        exact = u @ hessian @ v
        numeric = central_difference(lambda t: u @ model.score(t), theta, v)
        assert fd_close(exact, numeric), (exact, numeric)


@pytest.mark.parametrize("name,link", BUILTIN, ids=BUILTIN_IDS)
def test_score_and_hessian_match_finite_differences(name, link):
    model = builtin_model(name, link)
    theta = off_optimum(model)
    rng = np.random.default_rng(2)
    assert np.linalg.norm(model.score(theta)) > 1e-2  # not at the optimum
    check_score_by_differences(model, theta, rng)
    check_hessian_by_differences(model, theta, rng)


@pytest.mark.parametrize("kind", USER_KINDS)
def test_user_family_derivatives_match_finite_differences(kind):
    model = user_model(kind)
    theta = off_optimum(model)
    rng = np.random.default_rng(3)
    check_score_by_differences(model, theta, rng)
    check_hessian_by_differences(model, theta, rng)


def test_finite_difference_check_rejects_a_slightly_wrong_derivative():
    # the check has teeth: a score or Hessian wrong by 1e-4 relative fails it
    model = builtin_model("negbin", "log")
    theta = off_optimum(model)
    v = np.random.default_rng(4).standard_normal(model.n_params)
    exact = v @ model.score(theta)
    assert fd_close(exact, central_difference(model.loglik, theta, v))
    assert not fd_close(exact * (1 + 1e-4), central_difference(model.loglik, theta, v))
    hv = model.hessian(theta) @ v
    numeric = central_difference(model.score, theta, v)
    assert all(fd_close(a, b) for a, b in zip(hv, numeric))
    assert not all(fd_close(a, b) for a, b in zip(hv * (1 + 1e-4), numeric))


# ---- structured path against general path ---------------------------------------------------

#: both are exact; they differ only in summation order, so they agree to rounding. Relative
#: to the largest entry, since single entries can be near zero.
PATH_RTOL = 1e-10


def assert_paths_agree(model: Model, theta: np.ndarray):
    loglik, score, hessian = model.derivatives(theta)
    general_hessian = model.hessian_general(theta)
    general_score = model.score_general(theta)
    np.testing.assert_allclose(loglik, float(model.loglik_total(theta)), rtol=1e-12)
    np.testing.assert_allclose(score, general_score, rtol=PATH_RTOL,
                               atol=PATH_RTOL * np.abs(general_score).max())
    np.testing.assert_allclose(hessian, general_hessian, rtol=PATH_RTOL,
                               atol=PATH_RTOL * np.abs(general_hessian).max())
    np.testing.assert_allclose(model.hessian(theta), hessian, rtol=0, atol=0)


@pytest.mark.parametrize("name,link", BUILTIN, ids=BUILTIN_IDS)
def test_structured_path_equals_general_path(name, link):
    model = builtin_model(name, link)
    assert_paths_agree(model, off_optimum(model))
    assert_paths_agree(model, model.start_values())


@pytest.mark.parametrize("kind", USER_KINDS)
def test_structured_path_equals_general_path_for_user_family(kind):
    model = user_model(kind)
    assert_paths_agree(model, off_optimum(model))


# ---- per-observation scores -----------------------------------------------------------------


@pytest.mark.parametrize("name,link", BUILTIN, ids=BUILTIN_IDS)
def test_scores_obs_rows_sum_to_the_score(name, link):
    model = builtin_model(name, link)
    theta = off_optimum(model)
    scores = model.scores_obs(theta)
    assert scores.shape == (model.n_obs, model.n_params)
    score = model.score(theta)
    np.testing.assert_allclose(scores.sum(axis=0), score, rtol=1e-10,
                               atol=1e-10 * np.abs(scores).sum(axis=0).max())
    # row i is the gradient of l_i alone: checked on two rows by autograd of that row
    for i in (0, model.n_obs - 1):
        row = autograd.grad(lambda t, i=i: model.loglik_obs(t)[i])(theta)
        np.testing.assert_allclose(scores[i], row, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", USER_KINDS)
def test_scores_obs_rows_sum_to_the_score_for_user_family(kind):
    model = user_model(kind)
    theta = off_optimum(model)
    scores = model.scores_obs(theta)
    assert scores.shape == (model.n_obs, model.n_params)
    np.testing.assert_allclose(scores.sum(axis=0), model.score_general(theta), rtol=1e-10,
                               atol=1e-10 * np.abs(scores).sum(axis=0).max())


# ---- properties (hypothesis) ----------------------------------------------------------------
#
# Each property runs on every built-in family and link (pytest parametrizes the family, so none
# is left to chance); hypothesis draws the seeds, sizes and perturbations, 2 to 5 examples per
# family and link (19 of them), to keep the suite fast. derandomize=True keeps the drawn
# examples the same from run to run.


def property_settings(max_examples: int):
    return settings(max_examples=max_examples, deadline=None, derandomize=True)


@pytest.mark.parametrize("name,link", BUILTIN, ids=BUILTIN_IDS)
@property_settings(5)
@given(seed=st.integers(0, 2**16), scale=st.floats(0.0, 0.3))
def test_property_hessian_is_symmetric_at_random_theta(name, link, seed, scale):
    model = builtin_model(name, link)
    theta = model.start_values() + scale * np.random.default_rng(seed).standard_normal(
        model.n_params)
    assume(np.isfinite(model.loglik(theta)))  # inside an inverse or identity link's domain
    assert derivatives.is_symmetric(model.hessian(theta), rtol=0.0)
    # autograd's Hessian before any symmetrization: symmetric to rounding
    raw = np.asarray(autograd.hessian(model.loglik_total)(theta))
    assert derivatives.is_symmetric(raw, rtol=1e-10)


@pytest.mark.parametrize("name,link", BUILTIN, ids=BUILTIN_IDS)
@property_settings(2)
@given(seed=st.integers(0, 2**16))
def test_property_score_zero_and_information_positive_definite_at_optimum(name, link, seed):
    df, kwargs = simulate(name, n=300, seed=seed)
    res = fk.fit(FORMULA, data=df, family=name, link=link, **kwargs)
    assert res.converged
    info = res.information("observed", scale="working").to_numpy()
    # positive definite: Cholesky succeeds and every eigenvalue is positive
    np.linalg.cholesky(info)
    assert np.linalg.eigvalsh(info).min() > 0
    # the score in standard-error units (scale-free): Newton's last step leaves ~1e-10
    score = res.model.score(res.theta)
    assert np.max(np.abs(score) / np.sqrt(np.diag(info))) < 1e-6
    # and the squared Newton decrement g' I^-1 g, twice the log-likelihood still to gain
    assert score @ np.linalg.solve(info, score) < 1e-12 * (1 + abs(res.loglik))


@lru_cache(maxsize=None)
def builtin_fit(name: str, link: str):
    df, kwargs = simulate(name, n=300, seed=0)
    return df, kwargs, fk.fit(FORMULA, data=df, family=name, link=link, **kwargs)


@pytest.mark.parametrize("name,link", BUILTIN, ids=BUILTIN_IDS)
@property_settings(2)
@given(seed=st.integers(0, 2**16))
def test_property_shuffling_rows_changes_nothing(name, link, seed):
    df, kwargs, res = builtin_fit(name, link)
    shuffled = df.sample(frac=1.0, random_state=seed)
    res_shuffled = fk.fit(FORMULA, data=shuffled, family=name, link=link, **kwargs)
    np.testing.assert_allclose(res_shuffled.params, res.params, rtol=1e-10)
    np.testing.assert_allclose(res_shuffled.se, res.se, rtol=1e-8)
    np.testing.assert_allclose(res_shuffled.loglik, res.loglik, rtol=1e-12)


@pytest.mark.parametrize("name,link", BUILTIN, ids=BUILTIN_IDS)
@property_settings(3)
@given(seed_a=st.integers(0, 2**16), seed_b=st.integers(0, 2**16),
       n_a=st.integers(60, 200), n_b=st.integers(60, 200))
def test_property_information_adds_over_concatenated_data(name, link, seed_a, seed_b, n_a, n_b):
    family = make_family(name, link)
    (df_a, kwargs), (df_b, _) = simulate(name, n_a, seed_a), simulate(name, n_b, seed_b)
    both = pd.concat([df_a, df_b], ignore_index=True)
    models = [build_model(family, d, kwargs) for d in (df_a, df_b, both)]
    # an ordinal part missing a level would have other cut points
    assume(all(m.data.levels == models[2].data.levels for m in models))
    theta = off_optimum(models[2], seed=seed_a, scale=0.05)
    (l_a, g_a, h_a), (l_b, g_b, h_b), (l_ab, g_ab, h_ab) = (m.derivatives(theta) for m in models)
    np.testing.assert_allclose(l_a + l_b, l_ab, rtol=1e-12)
    np.testing.assert_allclose(g_a + g_b, g_ab, rtol=1e-10, atol=1e-10 * np.abs(g_ab).max())
    np.testing.assert_allclose(h_a + h_b, h_ab, rtol=1e-10, atol=1e-10 * np.abs(h_ab).max())


@pytest.mark.parametrize("name", ["binomial", "negbin", "ordinal", "weibull", "student_t"])
def test_row_blocks_of_the_elementwise_derivatives_change_nothing(name, monkeypatch):
    # blocks of 37 rows (the last one short) against the whole: the per-row extras (trials,
    # event) must follow their rows, and scalar and cut-point columns their blocks
    df, kwargs = simulate(name, n=300, seed=3)
    family = make_family(name)
    model = Model(family, build_data(FORMULA, df, family, **kwargs))
    theta = model.start_values() + 0.05
    whole = model.derivatives(theta)
    opg = model.opg(theta)
    # the rows each evaluation of the per-row log-likelihood sees: the effect of the patch
    rows_seen = []
    unblocked = model.loglik_rows_of_eta

    def recording(E, *args, **kwargs):
        rows_seen.append(E.shape[0])
        return unblocked(E, *args, **kwargs)

    monkeypatch.setattr(model, "loglik_rows_of_eta", recording)
    monkeypatch.setattr(fk.models.index_model, "ETA_BLOCK", 37)
    blocked = model.derivatives(theta)
    assert set(rows_seen) == {37, 300 - 8 * 37}, rows_seen  # eight full blocks and the rest
    assert blocked[0] == pytest.approx(whole[0], rel=1e-14)
    np.testing.assert_allclose(blocked[1], whole[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(blocked[2], whole[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.opg(theta), opg, rtol=1e-12)


# ---- the kept eta matrix --------------------------------------------------------------------


def test_kept_eta_is_read_only_and_follows_theta():
    df = fk.datasets.load("spector")
    family = make_family("logit")
    model = Model(family, build_data("GRADE ~ GPA + PSI", df, family))
    a, b = np.array([0.1, 0.2, 0.3]), np.array([-1.0, 0.5, 2.0])
    Ea = model.eta_matrix(a)
    with pytest.raises(ValueError, match="read-only"):
        Ea[0, 0] = 1.0
    X = model.data.designs["mu"]
    np.testing.assert_array_equal(model.eta_matrix(b)[:, 0], X @ b)
    np.testing.assert_array_equal(model.eta_matrix(a)[:, 0], X @ a)
    # the caller's array may change afterwards without touching what was kept
    c = b.copy()
    E = model.eta_matrix(c)
    c[0] = 7.0
    np.testing.assert_array_equal(model.eta_matrix(b), E)
    passes = model.passes
    model.loglik(b)
    assert model.passes == passes + 1


def test_a_column_named_like_a_family_parameter_is_refused():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"sigma": rng.normal(size=20)})
    df["y"] = 1.0 + 0.5 * df["sigma"] + rng.normal(size=20)
    with pytest.raises(fk.SpecificationError,
                       match=r"The parameter name\(s\) \['sigma'\] stand for two parameters of "
                             r"the normal family"):
        fk.fit("y ~ sigma", df, "normal")
    # renamed, the same data fit: the slope is the least-squares one
    df = df.rename(columns={"sigma": "x"})
    res = fk.fit("y ~ x", df, "normal")
    X = np.column_stack([np.ones(20), df["x"]])
    np.testing.assert_allclose(res.params[["Intercept", "x"]].to_numpy(),
                               np.linalg.lstsq(X, df["y"], rcond=None)[0], rtol=1e-8)


def _summed_normal(y, mu, sigma):
    return anp.sum(-0.5 * ((y - mu) / sigma) ** 2 - anp.log(sigma))


def _first_rows_normal(y, mu, sigma):
    return (-0.5 * ((y - mu) / sigma) ** 2 - anp.log(sigma))[:10]


def _two_columns_normal(y, mu, sigma):
    v = -0.5 * ((y - mu) / sigma) ** 2 - anp.log(sigma)
    return anp.stack([v, v], axis=1)


@pytest.mark.parametrize("logpdf, shape", [(_summed_normal, r"\(\)"),
                                           (_first_rows_normal, r"\(10,\)"),
                                           (_two_columns_normal, r"\(50, 2\)")])
def test_a_log_density_not_giving_one_value_per_row_is_refused(logpdf, shape):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.normal(size=50), "x": rng.normal(size=50)})
    family = fk.Family(logpdf, mu=fk.Predictor(), sigma=fk.Scalar("positive"))
    with pytest.raises(fk.SpecificationError, match=rf"must return one value per observation, "
                                                    rf"an array of shape \(50,\) here; it "
                                                    rf"returned shape {shape}"):
        fk.fit("y ~ x", df, family)
