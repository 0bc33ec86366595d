"""fisherkit.autodiff.primitives: the stable primitives against scipy.special and
high-precision references, with their derivatives through autograd; log Gamma and its
derivatives to second order."""

from decimal import Decimal, localcontext

import autograd
import numpy as np
import pytest
import scipy.special as sc
from scipy import stats

from fisherkit.autodiff import primitives
from fisherkit.autodiff.primitives import digamma, gammaln, trigamma

POINTS = np.concatenate([np.geomspace(1e-8, 1e8, 400), np.linspace(0.05, 40.0, 400),
                         np.arange(1.0, 30.0)])


def test_trigamma_matches_scipy_across_the_range():
    np.testing.assert_allclose(trigamma(POINTS), sc.polygamma(1, POINTS), rtol=2e-15)
    # negative non-integers fall back to scipy
    np.testing.assert_allclose(trigamma(np.array([-0.5, -2.3])), sc.polygamma(1, [-0.5, -2.3]),
                               rtol=1e-14)
    assert trigamma(1.0) == pytest.approx(np.pi ** 2 / 6, rel=1e-15)


def test_autograd_derivatives_chain_through_the_primitives():
    first = autograd.elementwise_grad(gammaln)
    second = autograd.elementwise_grad(first)
    third = autograd.elementwise_grad(second)
    np.testing.assert_allclose(gammaln(POINTS), sc.gammaln(POINTS), rtol=1e-15)
    np.testing.assert_allclose(first(POINTS), sc.psi(POINTS), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(second(POINTS), sc.polygamma(1, POINTS), rtol=2e-15)
    np.testing.assert_allclose(third(POINTS), sc.polygamma(2, POINTS), rtol=1e-13)
    # forward mode gives the same
    x = np.linspace(0.3, 7.0, 9)
    forward = autograd.make_jvp(digamma)(x)(np.ones_like(x))[1]
    np.testing.assert_allclose(forward, sc.polygamma(1, x), rtol=2e-15)
    # central differences of digamma
    h = 1e-6
    np.testing.assert_allclose(trigamma(x), (sc.psi(x + h) - sc.psi(x - h)) / (2 * h), rtol=1e-8)


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


def mills(x):
    """phi(x) / Phi(x) on the log scale (scipy)."""
    return np.exp(stats.norm.logpdf(x) - sc.log_ndtr(x))


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
