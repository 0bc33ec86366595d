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


LINKS: dict[str, Link] = {
    "identity": Link("identity", lambda mu: mu, lambda eta: eta, lambda eta: anp.log(eta)),
    "log": Link("log", np.log, anp.exp, lambda eta: eta),
    "inverse": Link(
        "inverse", lambda mu: 1.0 / mu, lambda eta: 1.0 / eta, lambda eta: -anp.log(eta),
        domain="positive",
    ),
    "logit": Link(
        "logit",
        lambda mu: np.log(mu) - np.log1p(-mu),
        sigmoid,
        log_sigmoid,
        lambda eta: -softplus(eta),
    ),
    "probit": Link(
        "probit",
        ndtri,
        lambda eta: anp.exp(log_ndtr(eta)),
        log_ndtr,
        lambda eta: log_ndtr(-eta),
    ),
    "cloglog": Link(
        "cloglog",
        lambda mu: np.log(-np.log1p(-mu)),
        lambda eta: -anp.expm1(-anp.exp(eta)),
        _log1m_exp_neg_exp,
        lambda eta: -anp.exp(eta),
    ),
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
