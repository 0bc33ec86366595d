"""Link functions: ``eta = g(mu)`` and its inverse, with stable logs of the inverse.

Each link gives ``inverse`` (``mu`` from ``eta``) in ``autograd.numpy``, ``log_inverse`` and,
for links onto the unit interval, ``log1m_inverse`` (``log(1 - mu)``), written so that
binary and binomial log-likelihoods stay finite for any finite ``eta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import autograd.numpy as anp
import numpy as np

from ..exceptions import SpecificationError
from ..autodiff.primitives import log_ndtr, log_sigmoid, ndtri, sigmoid, softplus

__all__ = ["Link", "get_link", "LINKS"]


@dataclass(frozen=True)
class Link:
    """A link function and its inverse.

    Parameters
    ----------
    name : str
        The link's name, as accepted by ``fk.fit(..., link=name)``.
    link : callable
        ``eta = g(mu)`` on plain NumPy arrays (used for starting values).
    inverse : callable
        ``mu = g^-1(eta)``, differentiable by autograd.
    log_inverse : callable
        ``log(g^-1(eta))``, stable where ``mu`` under- or overflows.
    log1m_inverse : callable or None
        ``log(1 - g^-1(eta))`` for links onto the unit interval.
    domain : str
        Where ``eta`` must lie: ``"real"`` or ``"positive"`` (the inverse link).
    """

    name: str
    link: Callable
    inverse: Callable
    log_inverse: Callable
    log1m_inverse: Callable | None = None
    domain: str = "real"


def _log1m_exp_neg_exp(eta):
    """``log(1 - exp(-exp(eta)))``, finite however negative eta is.

    Below ``eta = -30`` the series ``eta - exp(eta) / 2`` is exact to double precision, and
    above ``eta = 6`` the value is 0 to double precision (``exp(-exp(6)) < 1e-175``); every
    branch sees only inputs where it is finite, so no NaN reaches the gradient.
    """
    tail = eta < -30.0
    e_body = anp.where(tail, -30.0, anp.where(eta > 6.0, 6.0, eta))
    e_tail = anp.where(tail, eta, -30.0)
    return anp.where(tail, e_tail - anp.exp(e_tail) / 2.0, anp.log(-anp.expm1(-anp.exp(e_body))))


# Every entry of a Link is a module-level function, so that a link pickles by reference to
# these (and the autograd primitives inside keep their derivative rules).


def _same(x):
    """``x``: the identity link and its inverse."""
    return x


def _log(x):
    return anp.log(x)


def _exp(eta):
    return anp.exp(eta)


def _reciprocal(x):
    """``1 / x``: the inverse link and its inverse."""
    return 1.0 / x


def _minus_log(eta):
    return -anp.log(eta)


def _logit(mu):
    return np.log(mu) - np.log1p(-mu)


def _log1m_sigmoid(eta):
    """``log(1 - sigmoid(eta)) = -softplus(eta)``."""
    return -softplus(eta)


def _ndtr(eta):
    """The standard normal distribution function, through its stable log."""
    return anp.exp(log_ndtr(eta))


def _log1m_ndtr(eta):
    """``log(1 - Phi(eta)) = log Phi(-eta)``."""
    return log_ndtr(-eta)


def _cloglog(mu):
    return np.log(-np.log1p(-mu))


def _inverse_cloglog(eta):
    """``1 - exp(-exp(eta))``."""
    return -anp.expm1(-anp.exp(eta))


def _minus_exp(eta):
    """``log(1 - mu) = -exp(eta)`` of the complementary log-log link."""
    return -anp.exp(eta)


LINKS: dict[str, Link] = {
    "identity": Link("identity", _same, _same, _log),
    "log": Link("log", np.log, _exp, _same),
    "inverse": Link("inverse", _reciprocal, _reciprocal, _minus_log, domain="positive"),
    "logit": Link("logit", _logit, sigmoid, log_sigmoid, _log1m_sigmoid),
    "probit": Link("probit", ndtri, _ndtr, log_ndtr, _log1m_ndtr),
    "cloglog": Link("cloglog", _cloglog, _inverse_cloglog, _log1m_exp_neg_exp, _minus_exp),
}


def get_link(name: str | Link, allowed: tuple[str, ...] | None = None) -> Link:
    """Look up a link by name, checking it is one the family allows.

    Examples
    --------
    >>> get_link("logit").name
    'logit'
    """
    if isinstance(name, Link):
        link = name
    else:
        if name not in LINKS:
            raise SpecificationError(
                f"Unknown link {name!r}; choose one of {sorted(LINKS)}."
            )
        link = LINKS[name]
    if allowed is not None and link.name not in allowed:
        raise SpecificationError(
            f"The link {link.name!r} is not available for this family; choose one of {list(allowed)}."
        )
    return link
