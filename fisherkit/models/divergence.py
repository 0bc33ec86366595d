"""Kullback-Leibler divergence between the fitted distributions at two parameter values.

``KL(theta_a || theta_b) = sum_i E_{y ~ p(. | theta_a, x_i)} [l_i(theta_a) - l_i(theta_b)]``
measures how far a step moved the model's predictions rather than its coordinates, so it is
the same in every parameterization. Its second-order expansion is ``delta' I delta / 2``
with ``I`` the expected information: the natural gradient takes the steepest step for a
given divergence (Amari, 1998).

Three ways, in order of preference:

- closed form per observation for the built-in continuous and binary families;
- exact summation over the outcome's support for any other discrete family (NB2,
  ordinal, a user's family declaring ``support=``), counts summed until the mass left out
  is below ``tail``;
- otherwise the model defines no divergence here and :func:`step_divergence` returns NaN
  (the Student t family, a user's continuous family).

For the censored survival families the divergence is that of the event-time distribution.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..exceptions import SpecificationError

__all__ = ["kl_divergence", "step_divergence", "has_divergence", "normal", "binary", "binomial",
           "poisson", "gamma", "exponential", "weibull"]


def _bernoulli(link, eta_a, eta_b):
    p_a = np.asarray(link.inverse(eta_a))
    log_a, log_b = np.asarray(link.log_inverse(eta_a)), np.asarray(link.log_inverse(eta_b))
    log1m_a, log1m_b = np.asarray(link.log1m_inverse(eta_a)), np.asarray(link.log1m_inverse(eta_b))
    with np.errstate(invalid="ignore"):
        # a probability of exactly 0 or 1 contributes nothing from the impossible outcome
        first = np.where(p_a > 0, p_a * (log_a - log_b), 0.0)
        second = np.where(p_a < 1, (1 - p_a) * (log1m_a - log1m_b), 0.0)
    return first + second


def normal(family, A, B, aux):
    mu_a, mu_b = np.asarray(family.link.inverse(A[:, 0])), np.asarray(family.link.inverse(B[:, 0]))
    ls_a, ls_b = A[:, 1], B[:, 1]
    return ls_b - ls_a + 0.5 * (np.exp(2 * (ls_a - ls_b)) + (mu_a - mu_b) ** 2 * np.exp(-2 * ls_b)) - 0.5


def binary(family, A, B, aux):
    return _bernoulli(family.link, A[:, 0], B[:, 0])


def binomial(family, A, B, aux):
    return aux["trials"] * _bernoulli(family.link, A[:, 0], B[:, 0])


def poisson(family, A, B, aux):
    mu_a, mu_b = np.asarray(family.link.inverse(A[:, 0])), np.asarray(family.link.inverse(B[:, 0]))
    log_a, log_b = np.asarray(family.link.log_inverse(A[:, 0])), np.asarray(family.link.log_inverse(B[:, 0]))
    return mu_a * (log_a - log_b) - mu_a + mu_b


def gamma(family, A, B, aux):
    # shape k and rate k / mu: (k_a - k_b) psi(k_a) - lgamma(k_a) + lgamma(k_b)
    # + k_b (log rate_a - log rate_b) + k_a (rate_b - rate_a) / rate_a  (Penny, 2001)
    k_a, k_b = np.exp(A[:, 1]), np.exp(B[:, 1])
    log_mu_a = np.asarray(family.link.log_inverse(A[:, 0]))
    log_mu_b = np.asarray(family.link.log_inverse(B[:, 0]))
    log_rate_a, log_rate_b = A[:, 1] - log_mu_a, B[:, 1] - log_mu_b
    return ((k_a - k_b) * special.digamma(k_a) - special.gammaln(k_a) + special.gammaln(k_b)
            + k_b * (log_rate_a - log_rate_b) + k_a * (np.exp(log_rate_b - log_rate_a) - 1.0))


def _weibull_terms(log_scale_a, log_shape_a, log_scale_b, log_shape_b):
    # Bauckhage (2013), arXiv:1310.3713: log(k_a / l_a^k_a) - log(k_b / l_b^k_b)
    # + (k_a - k_b)(log l_a - gamma / k_a) + (l_a / l_b)^k_b Gamma(k_b / k_a + 1) - 1
    k_a, k_b = np.exp(log_shape_a), np.exp(log_shape_b)
    return (log_shape_a - k_a * log_scale_a - log_shape_b + k_b * log_scale_b
            + (k_a - k_b) * (log_scale_a - np.euler_gamma / k_a)
            + np.exp(k_b * (log_scale_a - log_scale_b) + special.gammaln(k_b / k_a + 1.0)) - 1.0)


def exponential(family, A, B, aux):
    zero = np.zeros(len(A))
    return _weibull_terms(A[:, 0], zero, B[:, 0], zero)


def weibull(family, A, B, aux):
    return _weibull_terms(A[:, 0], A[:, 1], B[:, 0], B[:, 1])


def _closed_form(model):
    return model.family.kl_form


def has_divergence(model) -> bool:
    """Whether :func:`kl_divergence` can be computed for this model."""
    return _closed_form(model) is not None or model.family.outcome_support(model.data) is not None


def _summed(model, A, B, support, tail: float, max_terms: int) -> np.ndarray:
    n = len(A)
    total, mass = np.zeros(n), np.zeros(n)
    values = support if support != "counts" else range(max_terms)
    last = 0
    with np.errstate(all="ignore"):
        for last, v in enumerate(values):
            y = np.full(n, float(v))
            log_a = np.asarray(model.loglik_rows_of_eta(A, y, weighted=False))
            log_b = np.asarray(model.loglik_rows_of_eta(B, y, weighted=False))
            p = np.exp(log_a)
            total += np.where(p > 0, p * (log_a - log_b), 0.0)
            mass += p
            if support == "counts" and v > 0 and np.min(mass) >= 1.0 - tail:
                break
    left = float(max(0.0, 1.0 - np.min(mass)))
    if support == "counts" and left > tail:
        raise SpecificationError(f"Summing the outcome of the {model.family.name} family up "
                                 f"to {last} left mass {left:.3g} > tail={tail:g} out, so the "
                                 "divergence is not reached; raise max_terms.")
    return total


def kl_divergence(model, theta_a: np.ndarray, theta_b: np.ndarray, *, per_observation: bool = False,
                  tail: float = 1e-12, max_terms: int = 100_000):
    """``KL(p_theta_a || p_theta_b)`` summed over observations (or per observation).

    Parameters
    ----------
    model : Model
    theta_a, theta_b : ndarray
        Working-scale parameter vectors.
    per_observation : bool
        Return the ``n`` divergences (each times its row's weight) instead of their sum.
    tail, max_terms : float, int
        For count outcomes without a closed form, the largest mass left out of the sum and
        the most outcome values visited.

    Returns
    -------
    float or ndarray
        NaN where the model defines no divergence (see the module notes).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> kl_divergence(res.model, res.theta, res.theta)
    0.0
    """
    A, B = model.eta_matrix(np.asarray(theta_a, float)), model.eta_matrix(np.asarray(theta_b, float))
    closed = _closed_form(model)
    if closed is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            values = closed(model.family, A, B, model.data.aux)
    else:
        support = model.family.outcome_support(model.data)
        if support is None:
            values = np.full(len(A), np.nan)
        else:
            values = _summed(model, A, B, support, tail, max_terms)
    # rounding can leave a divergence of two equal distributions at -1e-17
    values = np.where(values < 0, np.maximum(values, 0.0), values)
    if model.data.weights is not None:
        values = values * model.data.weights  # a row of weight w counts w times
    return values if per_observation else float(np.sum(values))


def step_divergence(model, path: np.ndarray) -> np.ndarray:
    """The divergence of every step of an optimizer's path, NaN for the first row.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> kl = step_divergence(res.model, res.optimize_result.path)
    >>> bool(np.isnan(kl[0]) and np.all(kl[1:] >= 0))
    True
    """
    out = np.full(len(path), np.nan)
    if len(path) < 2 or not has_divergence(model):
        return out
    for i in range(1, len(path)):
        out[i] = kl_divergence(model, path[i - 1], path[i])
    return out
