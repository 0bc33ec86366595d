"""Numerically stable building blocks for log-densities, all differentiable by autograd.

These are the only places where overflow and cancellation are handled; log-densities are
written with them so that a logit with ``|eta| = 800`` still has finite values and
derivatives of every order.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import scipy.special as sc
from autograd.extend import defjvp, defvjp, primitive

__all__ = ["softplus", "log_sigmoid", "sigmoid", "log_ndtr", "ndtri", "log1mexp", "log_diff_exp"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_LOG2 = np.log(2.0)


def softplus(x):
    """``log(1 + exp(x))`` without overflow.

    Examples
    --------
    >>> float(softplus(800.0))
    800.0
    """
    return anp.logaddexp(0.0, x)


def log_sigmoid(x):
    """``log(1 / (1 + exp(-x)))`` without overflow."""
    return -anp.logaddexp(0.0, -x)


def sigmoid(x):
    """The logistic function, computed as ``exp(log_sigmoid(x))`` so it never overflows."""
    return anp.exp(log_sigmoid(x))


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
