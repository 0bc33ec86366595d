"""Exact derivatives: finite-difference checks, structured versus general paths, operators,
overflow safety, stable primitives, and properties of the Hessian and the information.

Every built-in family with every link it accepts is covered; the list is built from the
registry (``FAMILIES`` x ``LINKS``, keeping what ``make_family`` accepts), so that a family
added later without simulated data here fails ``test_every_builtin_family_has_simulated_data``.
"""

from decimal import Decimal, localcontext
from functools import lru_cache

import autograd
import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import scipy.special as sc
from autograd.scipy.special import gammaln
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import fisherkit as fk
from fisherkit.autodiff import derivatives
from fisherkit.autodiff import primitives
from fisherkit.models.builtins import FAMILIES, make_family
from fisherkit.models.formula import build_data
from fisherkit.models.links import LINKS
from fisherkit.models.index_model import Model


def accepted_links():
    cases = []
    for name in sorted(FAMILIES):
        for link in sorted(LINKS):
            try:
                make_family(name, link)
            except fk.SpecificationError:
                continue
            cases.append((name, link))
    return cases


BUILTIN = accepted_links()
BUILTIN_IDS = [f"{name}-{link}" for name, link in BUILTIN]
FORMULA = "y ~ x1 + x2"


# ---- simulated data for every family --------------------------------------------------------


def simulate(name: str, n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """A DataFrame with outcome ``y`` for ``FORMULA`` and the keywords the family needs.

    Regressors are bounded (uniform on (-1, 1)) so that every link's linear predictor stays
    inside its domain near the starting values (inverse and identity links on positive means).
    """
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    df = pd.DataFrame({"x1": x1, "x2": x2})
    lin = 0.5 * x1 - 0.3 * x2
    kwargs = {}
    if name == "normal":
        y = 2.0 + lin + 0.5 * rng.normal(size=n)
    elif name in ("logit", "probit"):
        y = (rng.uniform(size=n) < sc.expit(0.3 + lin)).astype(float)
    elif name == "binomial":
        df["m"] = rng.integers(1, 11, size=n)
        y = rng.binomial(df["m"], sc.expit(0.3 + lin))
        kwargs["trials"] = "m"
    elif name == "poisson":
        y = rng.poisson(np.exp(1.0 + lin))
    elif name == "negbin":
        mu, alpha = np.exp(1.0 + lin), 0.5
        y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
    elif name == "gamma":
        y = rng.gamma(3.0, np.exp(0.7 + lin) / 3.0)
    elif name in ("exponential", "weibull"):
        t = np.exp(0.7 + lin) * rng.weibull(1.0 if name == "exponential" else 1.5, size=n)
        c = rng.exponential(4.0, size=n)
        y = np.minimum(t, c)
        df["d"] = (t <= c).astype(float)
        kwargs["event"] = "d"
    elif name == "student_t":
        y = 1.0 + lin + 0.5 * rng.standard_t(3, size=n)
    elif name == "ordinal":
        y = np.digitize(2 * lin + rng.logistic(size=n), [-1.0, 0.0, 1.0])
    else:
        raise KeyError(name)
    df["y"] = y
    return df, kwargs


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


# ---- operators against closed forms ---------------------------------------------------------


def test_gradient_closed_form():
    x = np.array([0.3, -1.2, 2.0])

    def f(t):
        return anp.sum(anp.sin(t)) + t[0] * t[1] ** 2

    expected = np.cos(x) + np.array([x[1] ** 2, 2 * x[0] * x[1], 0.0])
    np.testing.assert_allclose(derivatives.gradient(f, x), expected, rtol=1e-14)


def test_jacobian_closed_form():
    x = np.array([1.5, -0.5])

    def f(t):
        return anp.array([t[0] ** 2 * t[1], 5 * t[0] + anp.sin(t[1]), anp.exp(t[0])])

    expected = np.array([[2 * x[0] * x[1], x[0] ** 2],
                         [5.0, np.cos(x[1])],
                         [np.exp(x[0]), 0.0]])
    J = derivatives.jacobian(f, x)
    assert J.shape == (3, 2)
    np.testing.assert_allclose(J, expected, rtol=1e-14)


def test_hessian_closed_form_and_symmetrized():
    A = np.array([[2.0, 1.0, 0.0], [3.0, -1.0, 0.5], [0.0, 0.5, 4.0]])  # not symmetric
    x = np.array([0.1, -0.4, 0.7])

    def f(t):
        return 0.5 * anp.dot(t, anp.dot(A, t)) + anp.sum(anp.exp(t))

    expected = 0.5 * (A + A.T) + np.diag(np.exp(x))
    H = derivatives.hessian(f, x)
    np.testing.assert_allclose(H, expected, rtol=1e-14)
    assert np.array_equal(H, H.T)


def test_hessian_vector_product_closed_form():
    x = np.array([1.0, 2.0, -1.0])
    v = np.array([0.5, -1.0, 2.0])

    def f(t):
        return anp.sum(t ** 3) + t[0] * t[1] * t[2]

    H = np.diag(6 * x) + np.array([[0, x[2], x[1]], [x[2], 0, x[0]], [x[1], x[0], 0]])
    np.testing.assert_allclose(derivatives.hessian_vector_product(f, x, v), H @ v, rtol=1e-14)


def test_eta_derivatives_closed_form():
    # normal in (mu, log sigma): l = -s - (y - m)^2 exp(-2 s) / 2 - log(2 pi) / 2
    rng = np.random.default_rng(5)
    y = rng.normal(size=6)
    E = np.column_stack([rng.normal(size=6), 0.3 * rng.normal(size=6)])

    def rows(A):
        r = y - A[:, 0]
        return -A[:, 1] - 0.5 * r * r * anp.exp(-2 * A[:, 1]) - 0.5 * np.log(2 * np.pi)

    values, U, W = derivatives.eta_derivatives(rows, E)
    r, q = y - E[:, 0], np.exp(-2 * E[:, 1])
    np.testing.assert_allclose(values, rows(E), rtol=1e-14)
    np.testing.assert_allclose(U, np.column_stack([r * q, -1 + r * r * q]), rtol=1e-13)
    assert W.shape == (6, 2, 2)
    np.testing.assert_allclose(W[:, 0, 0], -q, rtol=1e-13)
    np.testing.assert_allclose(W[:, 0, 1], -2 * r * q, rtol=1e-13)
    np.testing.assert_allclose(W[:, 1, 0], -2 * r * q, rtol=1e-13)
    np.testing.assert_allclose(W[:, 1, 1], -2 * r * r * q, rtol=1e-13)
    values2, U2, none = derivatives.eta_derivatives(rows, E, second=False)
    assert none is None
    np.testing.assert_array_equal(U2, U)


def test_is_symmetric():
    S = np.array([[2.0, 1.0], [1.0, 3.0]])
    assert derivatives.is_symmetric(S)
    assert derivatives.is_symmetric(S + np.array([[0, 1e-12], [0, 0]]))  # within 1e-10 of 3
    assert not derivatives.is_symmetric(S + np.array([[0, 1e-6], [0, 0]]))
    # relative to the largest entry, not absolute
    assert not derivatives.is_symmetric((S + np.array([[0, 1e-6], [0, 0]])) * 1e-200)
    assert derivatives.is_symmetric((S + np.array([[0, 1e-12], [0, 0]])) * 1e200)
    assert not derivatives.is_symmetric(np.array([[0.0, 1.0], [0.0, 0.0]]))
    assert derivatives.is_symmetric(np.zeros((3, 3)))


@pytest.mark.parametrize("eigenvalues,kind", [
    ([-3.0, -1.0, -0.5], "maximum"),
    ([3.0, 1.0, 0.5], "minimum"),
    ([-3.0, 1.0, 0.5], "saddle"),
    ([-3.0, -1.0, 0.0], "degenerate"),
    ([-3.0, -1.0, 1e-12], "degenerate"),  # under rtol * largest: counts as zero
    ([0.0, 0.0], "degenerate"),
    ([-3.0, 0.0, 2.0], "saddle"),  # a sign change decides even with a zero eigenvalue
])
def test_classify_stationary_point(eigenvalues, kind):
    Q, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((len(eigenvalues),) * 2))
    H = Q @ np.diag(eigenvalues) @ Q.T  # a rotated, non-diagonal Hessian
    assert derivatives.classify_stationary_point(H) == kind


def test_classify_stationary_point_on_a_real_maximum_and_saddle():
    # f = -(x^2 + 2 y^2) has a maximum at 0; g = x^2 - y^2 a saddle; h = -x^4 - y^2 is a
    # maximum that the second order cannot see (degenerate)
    zero = np.zeros(2)

    def f(t):
        return -(t[0] ** 2 + 2 * t[1] ** 2)

    def g(t):
        return t[0] ** 2 - t[1] ** 2

    def h(t):
        return -t[0] ** 4 - t[1] ** 2

    assert derivatives.classify_stationary_point(derivatives.hessian(f, zero)) == "maximum"
    assert derivatives.classify_stationary_point(derivatives.hessian(g, zero)) == "saddle"
    assert derivatives.classify_stationary_point(derivatives.hessian(h, zero)) == "degenerate"


# ---- overflow safety ------------------------------------------------------------------------


def eta_rows(name: str, link: str, y: np.ndarray, **aux):
    """Per-row log-likelihood of a one-predictor family as a function of an (n, 1) eta."""
    family = make_family(name, link)
    return lambda E: family.loglik_obs(y, [E[:, 0]], aux)


def test_logit_is_finite_at_eta_800():
    eta = np.array([800.0, 800.0, -800.0, -800.0])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    values, U, W = derivatives.eta_derivatives(eta_rows("logit", "logit", y), eta[:, None])
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(U)) and np.all(np.isfinite(W))
    # l = y eta - log(1 + e^eta); dl = y - sigmoid(eta); d2l = -sigmoid (1 - sigmoid)
    np.testing.assert_allclose(values, [0.0, -800.0, -800.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(U[:, 0], [0.0, -1.0, 1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(W[:, 0, 0], 0.0, atol=1e-300)  # e^-800 underflows to 0
    # and through a fitted model's structured derivatives, eta = 800 x
    df = pd.DataFrame({"y": y, "x1": np.array([1.0, 1.0, -1.0, -1.0]) * 800,
                       "x2": [0.0, 1.0, 0.0, 2.0]})
    family = make_family("logit")
    model = build_model(family, df, {})
    loglik, score, hessian = model.derivatives(np.array([0.0, 1.0, 0.0]))
    assert np.isfinite(loglik) and np.all(np.isfinite(score)) and np.all(np.isfinite(hessian))
    np.testing.assert_allclose(loglik, -1600.0)
    # the logit score X'(y - p) and Hessian -X' diag(p (1 - p)) X, p = expit(eta) from scipy
    X = np.column_stack([np.ones(4), df["x1"], df["x2"]])
    p = sc.expit(X @ [0.0, 1.0, 0.0])
    np.testing.assert_allclose(score, X.T @ (y - p), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(hessian, -(X.T * (p * (1 - p))) @ X, rtol=1e-14, atol=1e-300)


def mills(x):
    """phi(x) / Phi(x) on the log scale (scipy)."""
    return np.exp(stats.norm.logpdf(x) - sc.log_ndtr(x))


def test_probit_is_finite_at_eta_40():
    eta = np.array([-40.0, 40.0, -40.0, 40.0])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    values, U, W = derivatives.eta_derivatives(eta_rows("probit", "probit", y), eta[:, None])
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(U)) and np.all(np.isfinite(W))
    # y = 1: l = log Phi(eta), dl = m(eta), d2l = -m(eta) (eta + m(eta)), m the Mills ratio;
    # y = 0: the same at -eta, with the sign of the odd derivative flipped
    s = np.where(y == 1, 1.0, -1.0)
    a = s * eta
    np.testing.assert_allclose(values, sc.log_ndtr(a), rtol=1e-14)
    np.testing.assert_allclose(U[:, 0], s * mills(a), rtol=1e-12)
    # -m (a + m) cancels at a = -40 (40.025 - 40): 1e-10 leaves room for that
    np.testing.assert_allclose(W[:, 0, 0], -mills(a) * (a + mills(a)), rtol=1e-10, atol=1e-300)
    # -m (a + m) = Var(Z | Z < a) - 1, and that variance is ~1/a^2 far in the tail
    assert -1.0 < W[0, 0, 0] < -0.99


def test_cloglog_is_finite_at_eta_minus_800():
    eta = np.array([-800.0, -800.0, -40.0, -40.0])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    values, U, W = derivatives.eta_derivatives(eta_rows("binomial", "cloglog", y,
                                                        trials=np.ones(4)), eta[:, None])
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(U)) and np.all(np.isfinite(W))
    # y = 1: l = log(1 - exp(-e^eta)) = eta - e^eta / 2 + O(e^2eta); y = 0: l = -e^eta
    e = np.exp(eta)
    np.testing.assert_allclose(values, np.where(y == 1, eta - e / 2, -e), rtol=1e-14)
    np.testing.assert_allclose(U[:, 0], np.where(y == 1, 1 - e / 2, -e), rtol=1e-14)
    np.testing.assert_allclose(W[:, 0, 0], np.where(y == 1, -e / 2, -e), rtol=1e-12)


def test_binomial_cloglog_all_successes_finite_at_eta_800():
    # regression test: P(y = m) = (1 - exp(-e^eta))^m is 1 to double
    # precision, so the log-likelihood is 0; the binomial log-density used to form
    # (m - y) * log(1 - mu) = 0 * (-e^800) = 0 * -inf = NaN once eta > log(DBL_MAX) ~ 709.8
    y = m = np.array([1.0, 3.0])
    values, U, W = derivatives.eta_derivatives(eta_rows("binomial", "cloglog", y, trials=m),
                                               np.full((2, 1), 800.0))
    np.testing.assert_allclose(values, 0.0, atol=1e-300)
    assert np.all(np.isfinite(U)) and np.all(np.isfinite(W))
    # l = m log(1 - exp(-e^eta)): dl = m e^eta / (exp(e^eta) - 1), which (with the second
    # derivative) is e^800 exp(-e^800), zero to double precision
    np.testing.assert_allclose(U, 0.0, atol=1e-300)
    np.testing.assert_allclose(W, 0.0, atol=1e-300)


DIGITS = 60


def decimal_pi() -> Decimal:
    """pi to ``DIGITS`` digits by Machin's formula, 16 atan(1/5) - 4 atan(1/239)."""
    def atan_inverse(m):
        x = Decimal(1) / m
        term = total = x
        k = 1
        while abs(term) > Decimal(10) ** (-DIGITS - 5):
            term *= -x * x
            k += 2
            total += term / k
        return total
    return 16 * atan_inverse(5) - 4 * atan_inverse(239)


def decimal_normal_lower_tail(x: Decimal) -> Decimal:
    """Phi(x) for x <= 0: the Taylor series of Phi - 1/2 above -8, Laplace's continued
    fraction for the Mills ratio below (evaluated by Lentz's algorithm)."""
    density = (-(x * x) / 2).exp() / (2 * decimal_pi()).sqrt()
    eps = Decimal(10) ** (-DIGITS)
    if x > -8:
        term = total = x
        n = 0
        while abs(term) > eps * abs(total):
            n += 1
            term *= x * x / (2 * n + 1)
            total += term
        return Decimal(1) / 2 + density * total
    t = -x
    f = c = t
    d, j = Decimal(0), 0
    while True:
        j += 1
        d = 1 / (t + j * d)
        c = t + j / c
        f *= c * d
        if abs(c * d - 1) < eps:
            return density / f


def decimal_one_minus_exp(u: Decimal) -> Decimal:
    """``1 - exp(-u)``, by its series where the subtraction would cancel."""
    if u > Decimal("1e-3"):
        return 1 - (-u).exp()
    term = total = u
    k = 1
    while abs(term) > Decimal(10) ** (-DIGITS) * total:
        k += 1
        term *= -u / k
        total += term
    return total


def decimal_cdf_and_survival(link: str, x: Decimal) -> tuple[Decimal, Decimal]:
    """``(F(x), 1 - F(x))`` of the ordinal link's distribution, each without cancellation."""
    if link == "logit":
        return 1 / (1 + (-x).exp()), 1 / (1 + x.exp())
    if link == "cloglog":  # F(x) = 1 - exp(-e^x)
        return decimal_one_minus_exp(x.exp()), (-(x.exp())).exp()
    if x <= 0:
        lower = decimal_normal_lower_tail(x)
        return lower, 1 - lower
    upper = decimal_normal_lower_tail(-x)
    return 1 - upper, upper


def decimal_ordinal_loglik(link: str, category: int, e) -> Decimal:
    """``log(F(c_y - eta) - F(c_{y-1} - eta))`` for four categories with cut points
    ``c_1 = w_1``, ``c_{k+1} = c_k + exp(w_{k+1})``, at ``e = (eta, w_1, w_2, w_3)``."""
    eta, w1, w2, w3 = e
    cuts = [w1, w1 + w2.exp(), w1 + w2.exp() + w3.exp()]
    one, zero = Decimal(1), Decimal(0)
    upper = decimal_cdf_and_survival(link, cuts[category] - eta) if category < 3 else (one, zero)
    lower = decimal_cdf_and_survival(link, cuts[category - 1] - eta) if category else (zero, one)
    # F(b) - F(a) where both are small, (1 - F(a)) - (1 - F(b)) where those are
    p = upper[0] - lower[0] if upper[0] <= lower[1] else lower[1] - upper[1]
    return p.ln()


def ordinal_reference(link: str, category: int, e: np.ndarray):
    """Value, gradient and Hessian in ``(eta, w_1, w_2, w_3)`` by central differences in
    ``DIGITS``-digit arithmetic: steps 1e-20 and 1e-14 leave truncation errors of 1e-40 and
    1e-28 and rounding errors of 1e-26 and 1e-18, far below a double's precision."""
    h1, h2 = Decimal("1e-20"), Decimal("1e-14")
    with localcontext() as ctx:
        ctx.prec = DIGITS
        point = [Decimal(float(v)) for v in e]

        def at(*steps):
            moved = list(point)
            for j, h in steps:
                moved[j] += h
            return decimal_ordinal_loglik(link, category, moved)

        gradient = [float((at((j, h1)) - at((j, -h1))) / (2 * h1)) for j in range(4)]
        hessian = np.empty((4, 4))
        for j in range(4):
            for k in range(j, 4):
                second = (at((j, h2), (k, h2)) - at((j, h2), (k, -h2)) - at((j, -h2), (k, h2))
                          + at((j, -h2), (k, -h2))) / (4 * h2 * h2)
                hessian[j, k] = hessian[k, j] = float(second)
        return float(at()), np.array(gradient), hessian


ORDINAL_FAR = [("logit", -800.0), ("logit", 800.0), ("probit", -40.0), ("probit", 40.0),
               ("cloglog", -5.0), ("cloglog", 800.0)]


@pytest.mark.parametrize("link,eta", ORDINAL_FAR)
def test_ordinal_derivatives_finite_wherever_the_loglik_is(link, eta):
    # regression test (every case here failed at
    # `assert np.all(np.isfinite(U))` before). The ordinal log-density evaluates both
    # middle-category branches and picks one with anp.where; where the other branch was
    # log_diff_exp of two log-probabilities that had rounded to the same value (both 0 or
    # both -0: cloglog's log F(x) is exactly 0 from x ~ 3.6 on; logit's and probit's far in
    # a tail) it was -inf with an infinite derivative, and 0 * inf = NaN reached the gradient
    # of the branch that was taken. cloglog at eta = -5 (cut points 4 and 5 above it) is an
    # ordinary value: see test_families.py::test_ordinal_matches_ordered_model[cloglog-strong].
    # For probit, with these cut points, the Hessian was NaN from |eta| = 27 and the score
    # from |eta| = 37.
    family = make_family("ordinal", link)
    y = np.arange(4.0)  # one observation in each of the four categories
    cuts_working = np.array([-1.0, 0.0, np.log(1.2)])  # cut points -1, 0, 1.2
    E = np.column_stack([np.full(4, eta), np.tile(cuts_working, (4, 1))])

    def rows(A):
        return family.loglik_obs(y, [A[:, 0], [A[:, 1], A[:, 2], A[:, 3]]], {})

    values, U, W = derivatives.eta_derivatives(rows, E)
    assert np.all(np.isfinite(values))
    assert np.all(np.isfinite(U))
    assert np.all(np.isfinite(W))
    # and the right values: central differences in 60-digit decimal arithmetic, each
    # category's probability taken on the side where it does not cancel. Measured: values
    # 3e-16, scores 1.4e-13, second derivatives 4e-14 (logit, cloglog) and 2.3e-10 (probit,
    # whose -m (a + m) cancels at |eta| = 40, as in test_probit_is_finite_at_eta_40)
    reference = [ordinal_reference(link, category, E[category]) for category in range(4)]
    for got, exact, tol in zip((values, U, W), zip(*reference), (1e-14, 1e-12, 1e-9)):
        np.testing.assert_allclose(got, np.array(exact), rtol=tol, atol=tol)


# ---- stable primitives against scipy.special ------------------------------------------------

WIDE = np.concatenate([-np.logspace(3, -8, 60), [0.0], np.logspace(-8, 3, 60)])


def test_softplus_and_log_sigmoid_match_scipy_log_expit():
    # log_expit(x) = -softplus(-x); scipy's is accurate to a few ulp over the whole line, so
    # 1e-14 relative, with atol at the smallest normal for results that underflow
    tiny = np.finfo(float).tiny
    np.testing.assert_allclose(primitives.softplus(WIDE), -sc.log_expit(-WIDE), rtol=1e-14,
                               atol=tiny)
    np.testing.assert_allclose(primitives.log_sigmoid(WIDE), sc.log_expit(WIDE), rtol=1e-14,
                               atol=tiny)
    x = WIDE[np.abs(WIDE) < 700]  # beyond, expit is subnormal or exactly 0 / 1
    np.testing.assert_allclose(primitives.sigmoid(x), sc.expit(x), rtol=1e-13)
    assert primitives.softplus(800.0) == 800.0 and primitives.log_sigmoid(-800.0) == -800.0


def test_softplus_derivatives_of_three_orders_in_both_modes():
    # softplus' = s(x), s' = s(x) s(-x), s'' = s(x) s(-x) (s(-x) - s(x)), with s = expit;
    # the products of expit at x and -x keep full relative precision far into both tails
    x = WIDE[np.abs(WIDE) < 700]
    s, t = sc.expit(x), sc.expit(-x)
    d = autograd.elementwise_grad
    np.testing.assert_allclose(d(primitives.softplus)(x), s, rtol=1e-14)
    np.testing.assert_allclose(d(d(primitives.softplus))(x), s * t, rtol=1e-13)
    np.testing.assert_allclose(d(d(d(primitives.softplus)))(x), s * t * (t - s), rtol=1e-10,
                               atol=1e-300)
    # forward mode, which per-observation scores of a user's likelihood use
    _, forward = autograd.core.make_jvp(primitives.softplus, x)(np.ones_like(x))
    np.testing.assert_allclose(forward, s, rtol=1e-14)
    _, forward = autograd.core.make_jvp(primitives.sigmoid, x)(np.ones_like(x))
    np.testing.assert_allclose(forward, s * t, rtol=1e-13)
    # the second derivative is exactly zero only where expit underflows, not by cancellation
    assert d(d(primitives.softplus))(np.array([40.0]))[0] == pytest.approx(np.exp(-40.0), rel=1e-13)


def test_value_gradient_hessian_from_one_trace_equals_the_separate_operators():
    A = np.array([[2.0, 1.0, 0.0], [3.0, -1.0, 0.5], [0.0, 0.5, 4.0]])
    x = np.array([0.1, -0.4, 0.7])

    def f(t):
        return 0.5 * anp.dot(t, anp.dot(A, t)) + anp.sum(anp.exp(t)) + t[0] * t[1] * t[2]

    value, grad, H = derivatives.value_gradient_hessian(f, x)
    assert value == f(x)
    np.testing.assert_allclose(grad, derivatives.gradient(f, x), rtol=1e-15)
    np.testing.assert_allclose(H, derivatives.hessian(f, x), rtol=1e-15)
    assert np.array_equal(H, H.T)
    # and against central differences of the gradient (step 1e-6: error ~1e-9)
    fd = np.array([(derivatives.gradient(f, x + 1e-6 * e) - derivatives.gradient(f, x - 1e-6 * e))
                   / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(H, fd, rtol=1e-8, atol=1e-8)


def test_log_ndtr_and_its_gradient():
    x = np.linspace(-40.0, 8.0, 97)
    np.testing.assert_allclose(primitives.log_ndtr(x), sc.log_ndtr(x), rtol=1e-15)
    grad = autograd.elementwise_grad(primitives.log_ndtr)(x)
    # where Phi is a normal number, phi/Phi straight from scipy.special.ndtr: 1e-12 relative
    # (ndtr is accurate to a few ulp; the ratio loses a little in the far left tail)
    body = x > -37.0
    phi = np.exp(-0.5 * x[body] ** 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(grad[body], phi / sc.ndtr(x[body]), rtol=1e-12)
    # beyond, Phi is subnormal: the Mills-ratio bounds -x < m(x) < -x + 1/(-x) (Gordon, 1941),
    # and central differences of scipy's log_ndtr (step 1e-5: error ~1e-9 relative)
    tail = x[~body]
    assert np.all(grad[~body] > -tail) and np.all(grad[~body] < -tail - 1 / tail)
    fd = (sc.log_ndtr(tail + 1e-5) - sc.log_ndtr(tail - 1e-5)) / 2e-5
    np.testing.assert_allclose(grad[~body], fd, rtol=1e-8)
    # the second derivative, -m (x + m), stays finite and in (-1, 0)
    second = autograd.elementwise_grad(autograd.elementwise_grad(primitives.log_ndtr))(x)
    assert np.all(np.isfinite(second)) and np.all((second < 0) & (second > -1))
    # and equals -m (x + m) with m from scipy (mills): x + m cancels in the left tail
    # (40.025 - 40 at x = -40), hence 1e-10 as in test_probit_is_finite_at_eta_40
    np.testing.assert_allclose(second, -mills(x) * (x + mills(x)), rtol=1e-10, atol=1e-300)


def log1mexp_reference(a: float) -> float:
    """``log(1 - exp(a))`` in decimal arithmetic with 50 significant digits to spare.

    scipy.special has no log1mexp, and each double-precision formula it offers
    (``log(-expm1(a))``, ``log1p(-exp(a))``) cancels at one end of the range.
    """
    with localcontext() as ctx:
        # 1 - e^a needs the digits of e^a below 1 as well: |a| / ln 10 more of them
        ctx.prec = 50 + int(-a / 2.3)
        return float((1 - Decimal(a).exp()).ln())


def test_log1mexp_against_high_precision():
    a = -np.concatenate([np.logspace(-15, 0, 40), [np.log(2.0)], np.logspace(0, 2.8, 40)])
    expected = np.array([log1mexp_reference(v) for v in a])
    # Maechler's two branches are each accurate to a few ulp: 1e-14 relative
    np.testing.assert_allclose(primitives.log1mexp(a), expected, rtol=1e-14)
    # its gradient, -exp(a) / (1 - exp(a)) = -1 / expm1(-a), is finite on both branches
    grad = autograd.elementwise_grad(primitives.log1mexp)(a)
    np.testing.assert_allclose(grad, -1.0 / np.expm1(-a), rtol=1e-12)


def test_log_diff_exp():
    a, b = np.array([0.0, -700.0, 5.0]), np.array([-1e-10, -800.0, -30.0])
    expected = [log1mexp_reference(bi - ai) + ai for ai, bi in zip(a, b)]
    np.testing.assert_allclose(primitives.log_diff_exp(a, b), expected, rtol=1e-13)


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


def test_value_gradient_hessian_outside_the_domain_is_nan_without_reverse_passes():
    # the reverse passes would give the finite -1 / t^2 on the diagonal; outside the
    # domain none are made and the Hessian is NaN
    with np.errstate(invalid="ignore"):
        value, _, H = derivatives.value_gradient_hessian(lambda t: anp.sum(anp.log(t)),
                                                         np.array([1.0, -1.0]))
    assert np.isnan(value) and H.shape == (2, 2) and np.all(np.isnan(H))
