"""fisherkit.models.logpdfs: the built-in log-densities against scipy.stats, and finite
with finite derivatives far in the tails of their links."""

from decimal import Decimal, localcontext

import numpy as np
import pandas as pd
import pytest
import scipy.special as sc
from scipy import stats

from fisherkit.autodiff import derivatives
from fisherkit.models import logpdfs
from fisherkit.models.builtins import make_family
from fisherkit.models.formula import build_data
from fisherkit.models.index_model import Model
from fisherkit.models.links import LINKS

FORMULA = "y ~ x1 + x2"


def build_model(family, df: pd.DataFrame, kwargs: dict) -> Model:
    return Model(family, build_data(FORMULA, df, family, **kwargs))


# ---- against scipy.stats ------------------------------------------------------------------
#
# Each log-density at random outcomes and parameters (working scale: log sigma, log alpha,
# log shape, log df) against scipy.stats' logpdf / logpmf with the natural parameters. Both
# sides evaluate closed forms in double precision with gammaln where needed: 1e-12 relative,
# with 1e-12 absolute for values near zero.

RTOL = ATOL = 1e-12
N = 200


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


@pytest.mark.parametrize("link", ["identity", "log"])
def test_normal_against_scipy(rng, link):
    eta = rng.uniform(-1.0, 2.0, N)
    log_sigma = rng.uniform(-1.0, 1.0, N)
    mu = eta if link == "identity" else np.exp(eta)
    y = mu + np.exp(log_sigma) * rng.standard_normal(N)
    got = logpdfs.normal(LINKS[link])(y, eta, log_sigma)
    np.testing.assert_allclose(got, stats.norm.logpdf(y, mu, np.exp(log_sigma)), rtol=RTOL,
                               atol=ATOL)


#: the inverse links onto the unit interval, from scipy
PROBABILITY = {"logit": sc.expit, "probit": stats.norm.cdf,
               "cloglog": lambda eta: -np.expm1(-np.exp(eta))}


@pytest.mark.parametrize("link", sorted(PROBABILITY))
def test_bernoulli_against_scipy(rng, link):
    eta = rng.uniform(-4.0, 2.0, N)
    p = PROBABILITY[link](eta)
    y = (rng.random(N) < p).astype(float)
    got = logpdfs.binary(LINKS[link])(y, eta)
    np.testing.assert_allclose(got, stats.bernoulli.logpmf(y, p), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("link", sorted(PROBABILITY))
def test_binomial_against_scipy(rng, link):
    eta = rng.uniform(-4.0, 2.0, N)
    p = PROBABILITY[link](eta)
    trials = rng.integers(1, 40, N).astype(float)
    y = rng.binomial(trials.astype(int), p).astype(float)
    got = logpdfs.binomial(LINKS[link])(y, eta, trials)
    np.testing.assert_allclose(got, stats.binom.logpmf(y, trials, p), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("link", ["log", "identity"])
def test_poisson_against_scipy(rng, link):
    eta = rng.uniform(-2.0, 4.0, N) if link == "log" else rng.uniform(0.05, 50.0, N)
    mu = np.exp(eta) if link == "log" else eta
    y = rng.poisson(mu).astype(float)
    got = logpdfs.poisson(LINKS[link])(y, eta)
    np.testing.assert_allclose(got, stats.poisson.logpmf(y, mu), rtol=RTOL, atol=ATOL)


def test_negative_binomial_nb2_against_scipy(rng):
    # NB2: Var = mu + alpha mu^2, scipy's nbinom with n = 1/alpha, p = 1/(1 + alpha mu)
    eta = rng.uniform(-2.0, 4.0, N)
    log_alpha = rng.uniform(-4.0, 1.5, N)
    mu, alpha = np.exp(eta), np.exp(log_alpha)
    n, p = 1.0 / alpha, 1.0 / (1.0 + alpha * mu)
    y = rng.negative_binomial(n, p).astype(float)
    got = logpdfs.negbin(LINKS["log"])(y, eta, log_alpha)
    np.testing.assert_allclose(got, stats.nbinom.logpmf(y, n, p), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("link", ["inverse", "log", "identity"])
def test_gamma_against_scipy(rng, link):
    # mean mu and shape k: scipy's gamma with a = k, scale = mu / k
    mu = rng.uniform(0.2, 20.0, N)
    eta = {"inverse": 1.0 / mu, "log": np.log(mu), "identity": mu}[link]
    log_k = rng.uniform(-1.5, 3.0, N)
    k = np.exp(log_k)
    y = rng.gamma(k, mu / k)
    got = logpdfs.gamma(LINKS[link])(y, eta, log_k)
    np.testing.assert_allclose(got, stats.gamma.logpdf(y, k, scale=mu / k), rtol=RTOL, atol=ATOL)


def survival_times(rng, scale, shape):
    """Event times, and 0/1 events by an independent exponential censoring."""
    t = scale * rng.weibull(shape)
    c = rng.exponential(2.0 * np.median(scale), len(scale))
    return np.minimum(t, c), (t <= c).astype(float)


def test_exponential_against_scipy_density_and_survival(rng):
    # scale exp(eta): an event contributes the log-density, a censored time the log survival
    eta = rng.uniform(-1.0, 2.0, N)
    y, event = survival_times(rng, np.exp(eta), np.ones(N))
    assert 0 < event.sum() < N
    expected = np.where(event == 1, stats.expon.logpdf(y, scale=np.exp(eta)),
                        stats.expon.logsf(y, scale=np.exp(eta)))
    got = logpdfs.exponential(LINKS["log"])(y, eta, event)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_weibull_aft_against_scipy_density_and_survival(rng):
    # accelerated failure time form: scale exp(eta), shape k; scipy's weibull_min(c=k)
    eta = rng.uniform(-1.0, 2.0, N)
    log_k = rng.uniform(-0.7, 1.2, N)
    k = np.exp(log_k)
    y, event = survival_times(rng, np.exp(eta), k)
    assert 0 < event.sum() < N
    expected = np.where(event == 1, stats.weibull_min.logpdf(y, k, scale=np.exp(eta)),
                        stats.weibull_min.logsf(y, k, scale=np.exp(eta)))
    got = logpdfs.weibull(LINKS["log"])(y, eta, log_k, event)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_student_t_against_scipy(rng):
    eta = rng.uniform(-2.0, 2.0, N)
    log_sigma = rng.uniform(-1.0, 1.0, N)
    log_df = rng.uniform(np.log(0.5), np.log(200.0), N)
    sigma, nu = np.exp(log_sigma), np.exp(log_df)
    y = eta + sigma * rng.standard_t(nu)
    got = logpdfs.student_t(LINKS["identity"])(y, eta, log_sigma, log_df)
    np.testing.assert_allclose(got, stats.t.logpdf(y, nu, loc=eta, scale=sigma), rtol=RTOL,
                               atol=ATOL)


#: the cumulative distribution of each ordinal link, from scipy
CDF = {"logit": stats.logistic.cdf, "probit": stats.norm.cdf, "cloglog": stats.gumbel_l.cdf}


@pytest.mark.parametrize("link", sorted(CDF))
def test_ordinal_against_differences_of_the_scipy_cdf(rng, link):
    # P(y = j) = F(c_j - eta) - F(c_{j-1} - eta), c_0 = -inf and c_4 = +inf, four categories
    cuts = [-1.0, 0.3, 1.2]
    eta = rng.uniform(-1.5, 1.5, N)
    y = rng.integers(0, 4, N).astype(float)
    edges = np.r_[-np.inf, cuts, np.inf]
    j = y.astype(int)
    expected = np.log(CDF[link](edges[j + 1] - eta) - CDF[link](edges[j] - eta))
    got = logpdfs.ordinal(LINKS[link])(y, eta, cuts)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12)


# ---- log factorials ------------------------------------------------------------------------


def test_log_factorial_table_equals_gammaln_and_falls_back_outside_its_range():
    import scipy.special as sc
    from fisherkit.models.logpdfs import FACTORIAL_TABLE_MAX as _FACTORIAL_TABLE_MAX, log_factorial as _log_factorial

    rng = np.random.default_rng(31)
    counts = rng.poisson(4.0, 5000).astype(float)
    cases = [counts, np.r_[counts, _FACTORIAL_TABLE_MAX + 1.0],  # beyond the table
             np.r_[counts, 2.5], np.r_[counts, 1e300], np.r_[counts, -1.0],  # not counts
             np.arange(6.0), 7.0]
    with np.errstate(invalid="ignore"):
        for k in cases:
            np.testing.assert_allclose(_log_factorial(k), sc.gammaln(np.asarray(k) + 1.0),
                                       rtol=1e-15)


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
    # ordinary value: see test_models_builtins.py::test_ordinal_matches_ordered_model[cloglog-strong].
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
