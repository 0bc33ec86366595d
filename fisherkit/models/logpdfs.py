"""The built-in log-densities, in stable working-scale forms.

Each family's ``logpdf`` takes the outcome, its linear predictors (``mu``) and its scalar
parameters on the working scale (``log sigma``, ``log alpha``, ``log shape``, ``log df``;
cut points as increasing values), so that each can be written in the stable forms of
:mod:`fisherkit.autodiff.primitives`. A function of the family's name builds the log-density
for a link: a :class:`LogDensity`, a module-level function of the link and the data with
the link fixed, so that it pickles by reference to that function (a closure would not).

Log-densities (sources: McCullagh and Nelder, 1989, for the GLM families; Cameron and
Trivedi, 2013, for NB2; Kalbfleisch and Prentice, 2002, for censored Weibull and
exponential regression in accelerated failure time form; McCullagh, 1980, for the
cumulative link model):

- normal       ``-log sigma - (y - mu)^2 / (2 sigma^2) - log(2 pi) / 2``
- logit/probit ``y log mu + (1 - y) log(1 - mu)``
- binomial     ``log C(m, y) + y log mu + (m - y) log(1 - mu)``, ``m`` from ``trials=``
- poisson      ``y log mu - mu - log y!``
- negbin (NB2) ``Var = mu + alpha mu^2``
- gamma        shape ``k``: ``k log(k y / mu) - k y / mu - log y - log Gamma(k)``
- exponential  ``d (-log mu) - y / mu``, ``d`` the event indicator
- weibull      ``d (log k - log y + z) - exp(z)``, ``z = k (log y - eta)``
- student_t    location-scale t with ``df`` estimated
- ordinal      ``log(F(c_y - eta) - F(c_{y-1} - eta))``, no intercept
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import autograd.numpy as anp
import numpy as np
from scipy import special

from ..autodiff.primitives import gammaln, log_diff_exp, softplus
from .links import Link

__all__ = ["LogDensity", "normal", "binary", "binomial", "poisson", "negbin", "gamma", "exponential",
           "weibull", "student_t", "ordinal", "log_factorial", "FACTORIAL_TABLE_MAX"]

_LOG_2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True)
class LogDensity:
    """A built-in log-density for one link: ``form(link, y, ...)`` with ``link`` fixed.

    ``form`` is a module-level function, so a log-density pickles by reference to it, with
    its link (whose entries are module-level functions too).

    Examples
    --------
    >>> from fisherkit.models.links import LINKS
    >>> logpdf = poisson(LINKS["log"])
    >>> float(logpdf(np.array(0.0), np.array(0.0)))
    -1.0
    """

    form: Callable
    link: Link

    def __call__(self, y, *args, **kwargs):
        return self.form(self.link, y, *args, **kwargs)


def _normal(link, y, mu, sigma):
    z = (y - link.inverse(mu)) * anp.exp(-sigma)
    return -0.5 * _LOG_2PI - sigma - 0.5 * z * z


def normal(link):
    return LogDensity(_normal, link)


def _successes_and_failures(link, eta, successes, failures):
    """``s log mu + f log(1 - mu)``, each log taken only where its count is positive.

    A zero count times a log that has overflowed (cloglog's ``log(1 - mu) = -exp(eta)`` at
    ``eta = 800``) would be ``0 * inf``; the placeholder ``eta = 0`` keeps both finite. The
    logit's logs never overflow, and its canonical form ``s eta - (s + f) log(1 + e^eta)``
    costs one softplus.
    """
    if link.name == "logit":
        return successes * eta - (successes + failures) * softplus(eta)
    log_mu = link.log_inverse(anp.where(successes > 0, eta, 0.0))
    log_1m = link.log1m_inverse(anp.where(failures > 0, eta, 0.0))
    return successes * log_mu + failures * log_1m


def _binary_logit(link, y, mu):
    # one success or failure per row: s + f = 1 in the canonical form
    return y * mu - softplus(mu)


def _binary(link, y, mu):
    return _successes_and_failures(link, mu, y, 1.0 - y)


def binary(link):
    return LogDensity(_binary_logit if link.name == "logit" else _binary, link)


#: counts up to this are looked up in a table of log factorials; larger ones use gammaln
FACTORIAL_TABLE_MAX = 1_000_000


def log_factorial(k):
    """``log k!`` of whole numbers ``k`` (outcomes and trials, which the families check).

    A count column is the same at every iteration and rarely large, so a table up to its
    largest value and one lookup replace ``gammaln(k + 1)`` over every row (about seven
    times faster at n = 1e6); anything that is not a plain array of whole numbers in range
    goes to ``gammaln``.
    """
    if isinstance(k, np.ndarray) and k.ndim and k.size > 1024:
        with np.errstate(invalid="ignore"):  # NaN and huge values fail the check below
            whole = k.astype(np.int64)
        top = int(whole.max())
        if whole.min() >= 0 and top <= FACTORIAL_TABLE_MAX and np.array_equal(whole, k):
            return special.gammaln(np.arange(top + 1) + 1.0)[whole]
    return gammaln(k + 1.0)


def _binomial(link, y, mu, trials):
    log_choose = log_factorial(trials) - log_factorial(y) - log_factorial(trials - y)
    return log_choose + _successes_and_failures(link, mu, y, trials - y)


def binomial(link):
    return LogDensity(_binomial, link)


def _poisson(link, y, mu):
    return y * link.log_inverse(mu) - link.inverse(mu) - log_factorial(y)


def poisson(link):
    return LogDensity(_poisson, link)


def _negbin(link, y, mu, alpha):
    # with r = 1/alpha: log(alpha mu / (1 + alpha mu)) and log(1 + alpha mu) in softplus form
    log_alpha_mu = link.log_inverse(mu) + alpha
    log1p_alpha_mu = softplus(log_alpha_mu)
    r = anp.exp(-alpha)
    return (gammaln(y + r) - gammaln(r) - log_factorial(y) - r * log1p_alpha_mu
            + y * (log_alpha_mu - log1p_alpha_mu))


def negbin(link):
    return LogDensity(_negbin, link)


def _gamma(link, y, mu, shape):
    k = anp.exp(shape)
    y_over_mu = y * anp.exp(-link.log_inverse(mu))
    return k * (shape + anp.log(y_over_mu)) - k * y_over_mu - anp.log(y) - gammaln(k)


def gamma(link):
    return LogDensity(_gamma, link)


def exponential_logpdf(y, mu, event):
    return -event * mu - y * anp.exp(-mu)


def weibull_logpdf(y, mu, shape, event):
    log_y = anp.log(y)
    z = anp.exp(shape) * (log_y - mu)
    return event * (shape - log_y + z) - anp.exp(z)


def student_t_logpdf(y, mu, sigma, df):
    nu = anp.exp(df)
    z = (y - mu) * anp.exp(-sigma)
    return (gammaln(0.5 * (nu + 1.0)) - gammaln(0.5 * nu) - 0.5 * anp.log(nu * np.pi) - sigma
            - 0.5 * (nu + 1.0) * anp.log1p(z * z / nu))


def _ordinal(link, y, mu, cuts):
    log_cdf, log_sf = link.log_inverse, link.log1m_inverse
    k = len(cuts) + 1
    # per observation, the cut points above (upper) and below (lower) its category;
    # masks come from y, a constant, so both sides of every where are finite
    above = sum((y == j) * cuts[j] for j in range(k - 1))
    below = sum((y == j + 1) * cuts[j] for j in range(k - 1))
    bottom, top = y == 0, y == k - 1
    above = anp.where(top, below + 1.0, above)
    below = anp.where(bottom, above - 1.0, below)
    upper, lower = above - mu, below - mu
    # each branch sees only inputs where it is finite (placeholders elsewhere), so a
    # branch that is not taken cannot put an infinite derivative behind a zero weight
    high = lower > 0.0  # both cut points above: difference of survival functions
    low_upper, low_lower = anp.where(high, 0.5, upper), anp.where(high, -0.5, lower)
    high_upper, high_lower = anp.where(high, upper, 1.5), anp.where(high, lower, 0.5)
    middle = anp.where(high, log_diff_exp(log_sf(high_lower), log_sf(high_upper)),
                       log_diff_exp(log_cdf(low_upper), log_cdf(low_lower)))
    at_bottom = log_cdf(anp.where(bottom, upper, 0.0))
    at_top = log_sf(anp.where(top, lower, 0.0))
    return anp.where(bottom, at_bottom, anp.where(top, at_top, middle))


def ordinal(link):
    return LogDensity(_ordinal, link)


def exponential(link):
    """The exponential log-density: its link (log) is built in."""
    return exponential_logpdf


def weibull(link):
    """The Weibull log-density: its link (log) is built in."""
    return weibull_logpdf


def student_t(link):
    """The Student t log-density: its link (identity) is built in."""
    return student_t_logpdf
