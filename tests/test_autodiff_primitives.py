"""log Gamma and its derivatives against scipy, and through autograd to second order."""

import autograd
import numpy as np
import pytest
import scipy.special as sc

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
