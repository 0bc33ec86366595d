"""The built-in families of generalized linear models: normal, binary (logit, probit),
binomial, Poisson, negative binomial (NB2) and gamma, each with its expected weights, draws,
divergence, mean, variance function, unit deviance and Anscombe residual (see
:mod:`fisherkit.models.builtin_family` for the sources)."""

from __future__ import annotations

import numpy as np
from scipy import special

from ..exceptions import BoundaryWarning, DataError
from . import divergence as kl
from .nb2_expected import log_alpha_information
from .builtin_family import (BuiltinFamily, PositiveOutcome, bad_rows, eta_weights,
                             fitted_rows_in_memory, require_support)
from .protocol import Finding

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


#: a fitted mean below this at a zero count marks a coefficient running to minus infinity
ZERO_MEAN = 1e-8
#: how far (on the log scale) a coefficient must push the linear predictor down at those
#: rows to be named as one running off
RUNNING_OFF = 10.0


class Count(BuiltinFamily):
    support = "counts"

    def post_fit_checks(self, model, theta):
        """A boundary where zero counts are fitted with a mean of about zero: every count
        is 0 (the intercept runs to minus infinity), or all of some level's are (a design
        column, non-negative, that is positive only where the count is 0: its coefficient
        does); the log-likelihood then rises forever in that direction."""
        found = super().post_fit_checks(model, theta)
        fitted = fitted_rows_in_memory(model, theta)
        if fitted is None:
            return found
        y, E, _ = fitted
        X = next(iter(model.design_for().designs.values()))
        names = model.names[:X.shape[1]]
        positive = X > 0
        only_zeros = (np.all(X >= 0, axis=0) & positive.any(axis=0)
                      & ~np.any(positive & (y != 0)[:, None], axis=0))
        with np.errstate(all="ignore"):
            mu = np.asarray(self.link.inverse(E[:, 0]), dtype=float)
        at_zero = (y == 0) & (mu < ZERO_MEAN)
        if np.all(y == 0):
            what = "every count is zero"
            running = [n for n, v in zip(names, np.all(X == 1, axis=0)) if v] or list(names)
        elif only_zeros.any():
            what = "every count is zero where the named column(s) are positive (a level without events?)"
            running = [n for n, v in zip(names, only_zeros) if v]
        elif at_zero.any():
            # a combination of columns separates the zeros: name what pushes them down
            push = np.max(-X[at_zero] * np.asarray(theta[:X.shape[1]]), axis=0)
            what = f"{int(at_zero.sum())} zero counts are fitted with a mean below {ZERO_MEAN:g}"
            running = [n for n, v in zip(names, push) if v > RUNNING_OFF] or [
                names[int(np.argmax(push))]]
        else:
            return found
        found.append(Finding(
            "boundary", BoundaryWarning,
            f"The {self.name} fit is at a boundary: {what}, so the coefficient(s) "
            f"{running} head to minus infinity (the fitted mean there to 0); their estimates "
            "and standard errors are not meaningful. Drop or merge the level without "
            "events, or report its rate as zero."))
        return found
        y, E, _ = fitted
        with np.errstate(all="ignore"):
            mu = np.asarray(self.link.inverse(E[:, 0]), dtype=float)
        at_zero = (y == 0) & (mu < ZERO_MEAN)
        if not at_zero.any():
            return found
        X = next(iter(model.design_for().designs.values()))
        beta = np.asarray(theta[:X.shape[1]], dtype=float)
        push = np.max(-X[at_zero] * beta, axis=0)
        running = [n for n, v in zip(model.names[:X.shape[1]], push) if v > RUNNING_OFF]
        running = running or [model.names[int(np.argmax(push))]]
        what = ("every count is zero" if np.all(y == 0) else
                f"{int(at_zero.sum())} rows whose counts are all zero are fitted with a mean "
                f"below {ZERO_MEAN:g} (a factor level or group with no events?)")
        found.append(Finding(
            "boundary", BoundaryWarning,
            f"The {self.name} fit is at a boundary: {what}, so the coefficient(s) "
            f"{running} head to minus infinity; their estimates and standard errors are not "
            "meaningful. Drop or merge the level without events, or report the rate there "
            "as zero."))
        return found

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
    def exact_weights(self, E, aux):
        """NB2's alpha has no closed-form expected information; it is an integral per row
        (:mod:`fisherkit.models.nb2_expected`), whose cost does not grow with the counts.
        The mean's weight is the GLM one, and the cross term is zero (the score in the
        mean is ``(y - mu)`` times a function of the parameters)."""
        alpha = np.exp(E[:, 1])
        mu = np.asarray(self.link.inverse(E[:, 0]), dtype=float)
        mean_part = self._glm_weight(E[:, 0], lambda m: m + np.exp(E[:, 1]) * m * m)
        return eta_weights(mean_part, log_alpha_information(mu, alpha))

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
