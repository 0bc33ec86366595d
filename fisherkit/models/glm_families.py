"""The built-in families of generalized linear models: normal, binary (logit, probit),
binomial, Poisson, negative binomial (NB2) and gamma, each with its expected weights, draws,
divergence, mean, variance function, unit deviance and Anscombe residual (see
:mod:`fisherkit.models.builtin_family` for the sources)."""

from __future__ import annotations

import numpy as np
from scipy import special

from ..exceptions import DataError
from . import divergence as kl
from .builtin_family import (BuiltinFamily, PositiveOutcome, bad_rows, eta_weights,
                             require_support)

__all__ = ["Normal", "Binary", "Binomial", "Count", "Poisson", "NegativeBinomial", "Gamma"]


def _beta_anscombe(x):
    """``int_0^x t^(-1/3) (1 - t)^(-1/3) dt``, the binomial Anscombe transform."""
    return special.betainc(2.0 / 3.0, 2.0 / 3.0, x) * special.beta(2.0 / 3.0, 2.0 / 3.0)


def _binomial_pieces(y, mu, m):
    """Unit deviance and Anscombe residual of ``y`` successes out of ``m`` at mean ``mu``."""
    deviance = 2.0 * (special.xlogy(y, y / mu) + special.xlogy(m - y, (m - y) / (m - mu)))
    anscombe = (m ** (2.0 / 3.0) * (_beta_anscombe(y / m) - _beta_anscombe(mu / m))
                / (mu * (1.0 - mu / m)) ** (1.0 / 6.0))
    return deviance, anscombe


class Normal(BuiltinFamily):
    kl_form = staticmethod(kl.normal)

    def start(self, y, aux, levels):
        return {"mu": self._start_mean(y, aux), "sigma": max(float(np.std(y)), 1e-8)}

    def expected_weights(self, E, aux):
        inv_var = np.exp(-2.0 * E[:, 1])
        return eta_weights(self._glm_weight(E[:, 0], lambda mu: np.ones_like(mu)) * inv_var,
                        np.full(len(E), 2.0))

    def draw(self, rng, E, aux):
        return np.asarray(self.link.inverse(E[:, 0])) + np.exp(E[:, 1]) * rng.standard_normal(len(E))

    def variance(self, mu, E, aux):
        return np.ones_like(mu)

    def unit_deviance(self, y, mu, E, aux):
        return (y - mu) ** 2

    def anscombe(self, y, mu, E, aux):
        return y - mu



def _separated(link, proportion, eta) -> int:
    """Rows fitted with probability within 1e-8 of an outcome proportion of 0 or 1.

    The links onto the unit interval increase, so the bounds on mu are bounds on eta and no
    inverse link need be evaluated over the rows.
    """
    low, high = (float(link.link(np.float64(v))) for v in (1e-8, 1.0 - 1e-8))
    if low < high:
        return int(np.count_nonzero((proportion == 1) & (eta > high))
                   + np.count_nonzero((proportion == 0) & (eta < low)))
    with np.errstate(all="ignore"):
        mu = np.asarray(link.inverse(eta))
    return int(np.sum(((proportion == 1) & (mu > 1 - 1e-8)) | ((proportion == 0) & (mu < 1e-8))))


class Binary(BuiltinFamily):
    support = (0.0, 1.0)
    can_separate = True
    kl_form = staticmethod(kl.binary)

    def count_separated(self, y, eta, aux):
        return _separated(self.link, y, eta)

    def check_support(self, y, aux, column):
        require_support((y != 0) & (y != 1), column, f"must be 0 or 1 for the {self.name} family")

    def expected_weights(self, E, aux):
        return eta_weights(self._glm_weight(E[:, 0], lambda mu: mu * (1.0 - mu)))

    def draw(self, rng, E, aux):
        return (rng.random(len(E)) < np.asarray(self.link.inverse(E[:, 0]))).astype(float)

    def start(self, y, aux, levels):
        return {"mu": float(self.link.link(np.clip(np.mean(y), 0.02, 0.98)))}

    def variance(self, mu, E, aux):
        return mu * (1.0 - mu)

    def unit_deviance(self, y, mu, E, aux):
        return _binomial_pieces(y, mu, 1.0)[0]

    def anscombe(self, y, mu, E, aux):
        return _binomial_pieces(y, mu, 1.0)[1]


class Binomial(BuiltinFamily):
    """``mean`` is the probability per trial; residuals are on the count scale, ``y``
    successes against ``mu = m p`` (Stata's ``glm`` convention)."""

    can_separate = True
    kl_form = staticmethod(kl.binomial)

    def outcome_mean(self, E, aux):
        return aux["trials"] * self.mean(E)

    def variance(self, mu, E, aux):
        return mu * (1.0 - mu / aux["trials"])

    def unit_deviance(self, y, mu, E, aux):
        return _binomial_pieces(y, mu, aux["trials"])[0]

    def anscombe(self, y, mu, E, aux):
        return _binomial_pieces(y, mu, aux["trials"])[1]

    def count_separated(self, y, eta, aux):
        return _separated(self.link, y / aux["trials"], eta)

    def check_support(self, y, aux, column):
        m = aux["trials"]
        if np.any((m <= 0) | (m != np.round(m))):
            raise DataError(f"The trials column must hold positive whole numbers: "
                            f"{bad_rows((m <= 0) | (m != np.round(m)))}.")
        require_support((y < 0) | (y > m) | (y != np.round(y)), column,
                 "must be whole numbers between 0 and trials")

    def start(self, y, aux, levels):
        p = np.sum(y) / np.sum(aux["trials"])
        return {"mu": float(self.link.link(np.clip(p, 0.02, 0.98)))}

    def expected_weights(self, E, aux):
        return eta_weights(aux["trials"] * self._glm_weight(E[:, 0], lambda mu: mu * (1.0 - mu)))

    def draw(self, rng, E, aux):
        return rng.binomial(aux["trials"].astype(int), np.asarray(self.link.inverse(E[:, 0]))).astype(float)


class Count(BuiltinFamily):
    support = "counts"

    def check_support(self, y, aux, column):
        require_support(y < 0, column, f"must be non-negative for the {self.name} family")
        require_support(y != np.round(y), column, f"must be whole numbers for the {self.name} family")

    def _start_mu(self, y):
        mean = max(float(np.mean(y)), 1e-3)
        return mean, {"mu": float(self.link.link(mean))}


class Poisson(Count):
    kl_form = staticmethod(kl.poisson)

    def expected_weights(self, E, aux):
        return eta_weights(self._glm_weight(E[:, 0], lambda mu: mu))

    def draw(self, rng, E, aux):
        return rng.poisson(np.asarray(self.link.inverse(E[:, 0]))).astype(float)

    def variance(self, mu, E, aux):
        return mu

    def unit_deviance(self, y, mu, E, aux):
        return 2.0 * (special.xlogy(y, y / mu) - (y - mu))

    def anscombe(self, y, mu, E, aux):
        return 1.5 * (y ** (2.0 / 3.0) - mu ** (2.0 / 3.0)) / mu ** (1.0 / 6.0)

    def start(self, y, aux, levels):
        return self._start_mu(y)[1]


class NegativeBinomial(Count):
    # NB2's alpha has no closed-form expected information: it is summed over the support

    def draw(self, rng, E, aux):
        mu = np.asarray(self.link.inverse(E[:, 0]))
        r = np.exp(-E[:, 1])
        return rng.negative_binomial(r, r / (r + mu)).astype(float)

    def variance(self, mu, E, aux):
        return mu + np.exp(E[:, 1]) * mu * mu

    def unit_deviance(self, y, mu, E, aux):
        alpha = np.exp(E[:, 1])
        # log1p keeps the difference exact as alpha goes to 0 (the Poisson deviance)
        return 2.0 * (special.xlogy(y, y / mu)
                      - (y + 1.0 / alpha) * (np.log1p(alpha * y) - np.log1p(alpha * mu)))

    def anscombe(self, y, mu, E, aux):
        # the binomial form with m = -1/alpha, through 2F1(2/3, 1/3; 5/3; -alpha x)
        alpha = np.exp(E[:, 1])

        def transform(x):
            return x ** (2.0 / 3.0) * special.hyp2f1(2.0 / 3.0, 1.0 / 3.0, 5.0 / 3.0, -alpha * x)
        return 1.5 * (transform(y) - transform(mu)) / (mu * (1.0 + alpha * mu)) ** (1.0 / 6.0)

    def start(self, y, aux, levels):
        mean, out = self._start_mu(y)
        out["alpha"] = float(np.clip((np.var(y) - mean) / mean**2, 0.05, 5.0))
        return out


class Gamma(PositiveOutcome):
    kl_form = staticmethod(kl.gamma)

    def expected_weights(self, E, aux):
        k = np.exp(E[:, 1])
        mean_part = k * self._glm_weight(E[:, 0], lambda mu: mu * mu)
        return eta_weights(mean_part, k * k * special.polygamma(1, k) - k)

    def draw(self, rng, E, aux):
        k = np.exp(E[:, 1])
        return rng.gamma(k, np.asarray(self.link.inverse(E[:, 0])) / k)

    def variance(self, mu, E, aux):
        return mu * mu

    def unit_deviance(self, y, mu, E, aux):
        return 2.0 * (-np.log(y / mu) + (y - mu) / mu)

    def anscombe(self, y, mu, E, aux):
        return 3.0 * (y ** (1.0 / 3.0) - mu ** (1.0 / 3.0)) / mu ** (1.0 / 3.0)

    def start(self, y, aux, levels):
        return {"mu": self._start_mean(y, aux),
                "shape": float(np.clip(np.mean(y) ** 2 / max(np.var(y), 1e-12), 0.05, 1e4))}
