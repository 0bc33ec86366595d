"""Numerically stable building blocks for log-densities, all differentiable by autograd.

These are the only places where overflow and cancellation are handled; log-densities are
written with them so that a logit with ``|eta| = 800`` still has finite values and
derivatives of every order.
"""

from __future__ import annotations

import autograd.numpy as anp
import autograd.scipy.special as asc
import numpy as np
import scipy.special as sc
from autograd.extend import defjvp, defvjp, primitive

__all__ = ["softplus", "log_sigmoid", "sigmoid", "log_ndtr", "ndtri", "log1mexp", "log_diff_exp",
           "gammaln", "digamma", "trigamma"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_LOG2 = np.log(2.0)


@primitive
def softplus(x):
    """``log(1 + exp(x))`` without overflow.

    Its derivative is the logistic function and that one's is ``sigmoid(x) sigmoid(-x)``,
    each a primitive, so derivatives of every order cost one ``expit`` per factor.

    Examples
    --------
    >>> float(softplus(800.0))
    800.0
    """
    x = np.asarray(x, dtype=float)
    # max(x, 0) + log1p(exp(-|x|)), in place: a third of the time of np.logaddexp(0, x)
    out = np.empty_like(x)
    np.abs(x, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0.0)
    return out if out.ndim else out[()]


def log_sigmoid(x):
    """``log(1 / (1 + exp(-x)))`` without overflow."""
    return -softplus(-x)


@primitive
def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, without overflow.

    Examples
    --------
    >>> float(sigmoid(0.0)), float(sigmoid(-800.0))
    (0.5, 0.0)
    """
    return sc.expit(x)


def _sigmoid_slope(ans, x):
    # sigmoid(x) sigmoid(-x) rather than s (1 - s), which cancels to nothing where s is near 1
    return ans * sigmoid(-x)


defvjp(softplus, lambda ans, x: lambda g: g * sigmoid(x))
defjvp(softplus, lambda g, ans, x: g * sigmoid(x))
defvjp(sigmoid, lambda ans, x: lambda g: g * _sigmoid_slope(ans, x))
defjvp(sigmoid, lambda g, ans, x: g * _sigmoid_slope(ans, x))


@primitive
def log_ndtr(x):
    """``log Phi(x)``, the log of the standard normal distribution function.

    Its derivative, the inverse Mills ratio ``phi(x) / Phi(x)``, is formed on the log scale
    so that it stays finite far in the lower tail (``x = -40``), where ``Phi`` underflows.
    """
    return sc.log_ndtr(x)


def _mills(x):
    return anp.exp(-0.5 * x * x - _LOG_SQRT_2PI - log_ndtr(x))


defvjp(log_ndtr, lambda ans, x: lambda g: g * _mills(x))
defjvp(log_ndtr, lambda g, ans, x: g * _mills(x))

ndtri = sc.ndtri


def log1mexp(a):
    """``log(1 - exp(a))`` for ``a < 0``, accurate at both ends (Maechler, 2012).

    Both branches are evaluated on inputs where they are finite, so the branch that is not
    taken cannot leak a NaN into the gradient.
    """
    near_zero = a > -_LOG2
    a_near = anp.where(near_zero, a, -1.0)
    a_far = anp.where(near_zero, -1.0, a)
    return anp.where(near_zero, anp.log(-anp.expm1(a_near)), anp.log1p(-anp.exp(a_far)))


def log_diff_exp(a, b):
    """``log(exp(a) - exp(b))`` for ``a > b``."""
    return a + log1mexp(b - a)


# ---- the log-gamma function and its derivatives --------------------------------------
# autograd differentiates digamma through polygamma(1, x), which scipy evaluates as a
# general Hurwitz zeta function: two thirds of an NB2 fit's time went there. trigamma
# below is the recurrence psi1(x) = psi1(x + 1) + 1 / x^2 up to x >= 10 and the asymptotic
# series beyond (Abramowitz and Stegun 6.4.12), accurate to rounding for x > 0.

_SERIES = (1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0, -691.0 / 2730.0,
           7.0 / 6.0)


def _trigamma_values(x):
    x = np.asarray(x, dtype=float)
    positive = x > 0
    z = np.where(positive, x, 1.0)
    total = np.zeros_like(z)
    # below 10, ten recurrence steps for every element: no masks inside the loop
    small = z < 10.0
    if small.any():
        shifted = z[small]
        extra = np.zeros_like(shifted)
        for _ in range(10):
            extra += 1.0 / (shifted * shifted)
            shifted += 1.0
        total[small] = extra
        z[small] = shifted
    inverse = 1.0 / z
    square = inverse * inverse
    series = np.zeros_like(z)
    for coefficient in reversed(_SERIES):
        series = coefficient + square * series
    total += inverse + 0.5 * square + inverse * square * series
    if not positive.all():
        total = np.where(positive, total, sc.polygamma(1, x))
    return total


@primitive
def trigamma(x):
    """The second derivative of ``log Gamma(x)``.

    Examples
    --------
    >>> bool(np.isclose(trigamma(1.0), np.pi ** 2 / 6, rtol=1e-15))
    True
    """
    return _trigamma_values(x)


defvjp(trigamma, lambda ans, x: lambda g: g * asc.polygamma(2, x))
defjvp(trigamma, lambda g, ans, x: g * asc.polygamma(2, x))


@primitive
def digamma(x):
    """The derivative of ``log Gamma(x)``; its own derivative is :func:`trigamma`."""
    return sc.psi(x)


defvjp(digamma, lambda ans, x: lambda g: g * trigamma(x))
defjvp(digamma, lambda g, ans, x: g * trigamma(x))


@primitive
def gammaln(x):
    """``log |Gamma(x)|``, differentiated through :func:`digamma` and :func:`trigamma`."""
    return sc.gammaln(x)


defvjp(gammaln, lambda ans, x: lambda g: g * digamma(x))
defjvp(gammaln, lambda g, ans, x: g * digamma(x))


# autograd's wrapper keeps a primitive's name but not its module and qualified name, so that
# pickle could not find it again; with them, a primitive pickles by reference to this very
# object, and keeps its derivative rules wherever it is unpickled
for _primitive in (softplus, sigmoid, log_ndtr, trigamma, digamma, gammaln):
    _primitive.__module__, _primitive.__qualname__ = __name__, _primitive.__name__
del _primitive
