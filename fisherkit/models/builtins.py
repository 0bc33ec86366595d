"""Built-in families: each a log-density of :mod:`fisherkit.models.logpdfs` with what is
particular to it: its support, starting values, expected weights, draws, divergence, the
checks after a fit, its mean and what its residuals need.

Means and residuals (McCullagh and Nelder, *Generalized Linear Models*, 2nd ed., 1989:
variance functions table 2.1, unit deviances sec. 2.3, Anscombe residuals sec. 2.4.2; the
binomial and negative binomial Anscombe forms as Stata's ``glm`` and statsmodels):

- ``mean(E)``, from the ``n x K`` working-scale matrix ``E``, autograd-traceable: the inverse
  link of the first predictor; the Weibull's ``scale Gamma(1 + 1/shape)``; the ordinal's
  expected category code on ``0 .. K-1``; the Student t's location (its mean for df > 1).
- ``variance(mu, E, aux)`` the variance function ``V(mu)``, ``unit_deviance(y, mu, E, aux)``
  and ``anscombe(y, mu, E, aux)``, on the outcome's own scale (binomial counts, ``mu = m p``).
- ``cumulative_hazard(y, E)`` for the censored survival families: ``-log S(y)``.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd import elementwise_grad
from scipy import special

from ..exceptions import DataError, SpecificationError
from . import divergence as kl
from . import logpdfs
from .family import Family
from .links import get_link
from ..autodiff.primitives import gammaln
from .parameters import CutPoints, Predictor, Scalar

__all__ = ["make_family", "FAMILIES"]


def _bad_rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:5])
    return f"{len(rows)} row(s), first at position(s) {shown}"


def _require(mask_bad: np.ndarray, column: str, what: str) -> None:
    if np.any(mask_bad):
        raise DataError(f"The outcome column {column!r} {what}: {_bad_rows(mask_bad)}.")


_EULER = np.euler_gamma


def _weights(*diagonal, **off_diagonal):
    """An ``n x K x K`` array from its diagonal columns and named off-diagonal ones."""
    n, k = len(diagonal[0]), len(diagonal)
    W = np.zeros((n, k, k))
    for j, col in enumerate(diagonal):
        W[:, j, j] = col
    for key, col in off_diagonal.items():
        a, b = int(key[1]), int(key[2])
        W[:, a, b] = W[:, b, a] = col
    return W


#: the residual kinds of a family with a variance function and a unit deviance
GLM_RESIDUALS = ("response", "pearson", "deviance", "working", "anscombe")


def _beta_anscombe(x):
    """``int_0^x t^(-1/3) (1 - t)^(-1/3) dt``, the binomial Anscombe transform."""
    return special.betainc(2.0 / 3.0, 2.0 / 3.0, x) * special.beta(2.0 / 3.0, 2.0 / 3.0)


def _binomial_pieces(y, mu, m):
    """Unit deviance and Anscombe residual of ``y`` successes out of ``m`` at mean ``mu``."""
    deviance = 2.0 * (special.xlogy(y, y / mu) + special.xlogy(m - y, (m - y) / (m - mu)))
    anscombe = (m ** (2.0 / 3.0) * (_beta_anscombe(y / m) - _beta_anscombe(mu / m))
                / (mu * (1.0 - mu / m)) ** (1.0 / 6.0))
    return deviance, anscombe


class _Builtin(Family):
    """A built-in family: its logpdf takes eta and working-scale scalars."""

    mean_is_inverse_link = True
    residual_kinds = GLM_RESIDUALS

    def __init__(self, name, logpdf, link, allowed_links, aux=(), **params):
        self.link = get_link(link, allowed_links)
        super().__init__(logpdf, name=name, aux=aux, **params)
        self.working_scale = True

    def __reduce__(self):
        # the link and the log-density are rebuilt by name where the family is unpickled
        # (the very objects of the LINKS table, with the autograd primitives inside and
        # their derivative rules), and the rest of its state restored
        state = {k: v for k, v in vars(self).items() if k not in ("link", "logpdf")}
        return make_family, (self.name, self.link.name), state

    @property
    def interval_link(self):
        return self.link

    def mean(self, E):
        """The inverse link of the first predictor (autograd-traceable)."""
        return self.link.inverse(E[:, 0])

    def _start_mean(self, y, aux):
        return float(self.link.link(np.mean(y)))

    def _mean(self, eta):
        """``mu`` and ``d mu / d eta`` from the link."""
        return np.asarray(self.link.inverse(eta)), np.asarray(elementwise_grad(self.link.inverse)(eta))

    def _glm_weight(self, eta, variance):
        """``(d mu / d eta)^2 / V(mu)``, the expected information of a GLM mean in eta."""
        mu, dmu = self._mean(eta)
        v = variance(mu)
        with np.errstate(all="ignore"):
            return np.where(v > 0, dmu * dmu / np.where(v > 0, v, 1.0), 0.0)


class _Normal(_Builtin):
    kl_form = staticmethod(kl.normal)

    def start(self, y, aux, levels):
        return {"mu": self._start_mean(y, aux), "sigma": max(float(np.std(y)), 1e-8)}

    def expected_weights(self, E, aux):
        inv_var = np.exp(-2.0 * E[:, 1])
        return _weights(self._glm_weight(E[:, 0], lambda mu: np.ones_like(mu)) * inv_var,
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


class _Binary(_Builtin):
    support = (0.0, 1.0)
    can_separate = True
    kl_form = staticmethod(kl.binary)

    def count_separated(self, y, eta, aux):
        return _separated(self.link, y, eta)

    def check_support(self, y, aux, column):
        _require((y != 0) & (y != 1), column, f"must be 0 or 1 for the {self.name} family")

    def expected_weights(self, E, aux):
        return _weights(self._glm_weight(E[:, 0], lambda mu: mu * (1.0 - mu)))

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


class _Binomial(_Builtin):
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
                            f"{_bad_rows((m <= 0) | (m != np.round(m)))}.")
        _require((y < 0) | (y > m) | (y != np.round(y)), column,
                 "must be whole numbers between 0 and trials")

    def start(self, y, aux, levels):
        p = np.sum(y) / np.sum(aux["trials"])
        return {"mu": float(self.link.link(np.clip(p, 0.02, 0.98)))}

    def expected_weights(self, E, aux):
        return _weights(aux["trials"] * self._glm_weight(E[:, 0], lambda mu: mu * (1.0 - mu)))

    def draw(self, rng, E, aux):
        return rng.binomial(aux["trials"].astype(int), np.asarray(self.link.inverse(E[:, 0]))).astype(float)


class _Count(_Builtin):
    support = "counts"

    def check_support(self, y, aux, column):
        _require(y < 0, column, f"must be non-negative for the {self.name} family")
        _require(y != np.round(y), column, f"must be whole numbers for the {self.name} family")

    def _start_mu(self, y):
        mean = max(float(np.mean(y)), 1e-3)
        return mean, {"mu": float(self.link.link(mean))}


class _Poisson(_Count):
    kl_form = staticmethod(kl.poisson)

    def expected_weights(self, E, aux):
        return _weights(self._glm_weight(E[:, 0], lambda mu: mu))

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


class _NegativeBinomial(_Count):
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


class _Positive(_Builtin):
    def check_support(self, y, aux, column):
        _require(y <= 0, column, f"must be positive for the {self.name} family")


class _Gamma(_Positive):
    kl_form = staticmethod(kl.gamma)

    def expected_weights(self, E, aux):
        k = np.exp(E[:, 1])
        mean_part = k * self._glm_weight(E[:, 0], lambda mu: mu * mu)
        return _weights(mean_part, k * k * special.polygamma(1, k) - k)

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


class _Censored(_Positive):
    """Event times in accelerated failure time form, right-censored where ``event`` is 0.

    A censored time has no residual ``y - mu``: the residuals are Cox-Snell's,
    ``-log S(t_i)``, and the martingale ones, ``event_i - (-log S(t_i))``.
    """

    residual_kinds = ("cox_snell", "martingale")

    def _check_uncensored(self, aux):
        if np.any(aux["event"] != 1):
            raise DataError(
                f"The expected information of a censored {self.name} model depends on the "
                "censoring distribution, which the model does not specify; use the observed "
                "information (or 'opg', 'sandwich')."
            )

    def start(self, y, aux, levels):
        event = aux["event"]
        if np.any((event != 0) & (event != 1)):
            raise DataError(f"The event column must be 1 (observed) or 0 (right-censored): "
                            f"{_bad_rows((event != 0) & (event != 1))}.")
        return {"mu": float(np.log(np.sum(y) / max(np.sum(event), 1.0)))}


class _Exponential(_Censored):
    kl_form = staticmethod(kl.exponential)

    def expected_weights(self, E, aux):
        self._check_uncensored(aux)
        return _weights(np.ones(len(E)))

    def draw(self, rng, E, aux):
        return np.asarray(self.link.inverse(E[:, 0])) * rng.standard_exponential(len(E))

    def cumulative_hazard(self, y, E):
        return y * np.exp(-E[:, 0])


class _Weibull(_Censored):
    kl_form = staticmethod(kl.weibull)
    no_mean = "the Weibull's linear predictor is the log of its scale, not of its mean"
    mean_is_inverse_link = False

    def mean(self, E):
        """``scale Gamma(1 + 1/shape)``, through the shape as well as the scale."""
        return anp.exp(E[:, 0] + gammaln(1.0 + anp.exp(-E[:, 1])))

    def cumulative_hazard(self, y, E):
        return np.exp(np.exp(E[:, 1]) * (np.log(y) - E[:, 0]))

    def expected_weights(self, E, aux):
        self._check_uncensored(aux)
        # Weibull in AFT form: with z = log of a unit exponential, E[z] = -gamma,
        # E[e^z z] = 1 - gamma, E[e^z z^2] = (1 - gamma)^2 + pi^2/6 - 1
        k = np.exp(E[:, 1])
        return _weights(k * k, np.full(len(E), (1 - _EULER) ** 2 + np.pi**2 / 6),
                        w01=-k * (1 - _EULER))

    def draw(self, rng, E, aux):
        mu = np.asarray(self.link.inverse(E[:, 0]))
        return mu * rng.standard_exponential(len(E)) ** np.exp(-E[:, 1])

    def start(self, y, aux, levels):
        return {**super().start(y, aux, levels), "shape": 1.0}


class _StudentT(_Builtin):
    """``mean`` is the location, the mean of the outcome only where df > 1; without a
    variance function, the residuals are ``y - mu`` (response and working alike)."""

    residual_kinds = ("response", "working")

    def start(self, y, aux, levels):
        mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
        return {"mu": float(np.median(y)), "sigma": max(mad, 1e-8), "df": 10.0}

    def expected_weights(self, E, aux):
        # Lange, Little and Taylor (1989), JASA 84, eq. for the t information, carried to
        # log sigma and log df by the chain rule (the score has mean zero)
        sigma, nu = np.exp(E[:, 1]), np.exp(E[:, 2])
        i_mu = (nu + 1) / ((nu + 3) * sigma**2)
        i_ss = 2 * nu / (nu + 3)
        i_sd = -2 * nu / ((nu + 3) * (nu + 1))
        i_dd = nu**2 * (0.25 * (special.polygamma(1, nu / 2) - special.polygamma(1, (nu + 1) / 2))
                        - (nu + 5) / (2 * nu * (nu + 3) * (nu + 1)))
        return _weights(i_mu, i_ss, i_dd, w12=i_sd)

    def draw(self, rng, E, aux):
        return E[:, 0] + np.exp(E[:, 1]) * rng.standard_t(np.exp(E[:, 2]))


class _Ordinal(_Builtin):
    drop_intercept = True
    no_mean = "an ordinal outcome has no mean response on the link scale"
    mean_is_inverse_link = False
    residual_kinds = ()

    @property
    def interval_link(self):
        return None

    def _cdf(self, E):
        """``P(Y <= j)`` for ``j = 0 .. K-2``, ``n x (K-1)`` (autograd-traceable)."""
        cuts = CutPoints().to_natural([E[:, j] for j in range(1, E.shape[1])])
        return anp.stack([self.link.inverse(c - E[:, 0]) for c in cuts], axis=1)

    def probabilities(self, E):
        """The probability of each category per row, ``n x K``."""
        cdf = self._cdf(E)
        ones, zeros = anp.ones((E.shape[0], 1)), anp.zeros((E.shape[0], 1))
        return anp.concatenate([cdf, ones], axis=1) - anp.concatenate([zeros, cdf], axis=1)

    def mean(self, E):
        """The expected category code on ``0 .. K-1``, ``sum_j P(Y > j)``."""
        cdf = self._cdf(E)
        return cdf.shape[1] - anp.sum(cdf, axis=1)

    def outcome_support(self, data):
        return tuple(float(j) for j in range(len(data.levels)))

    def draw(self, rng, E, aux):
        mu = E[:, 0]
        cuts = np.column_stack(CutPoints().to_natural([E[:, j] for j in range(1, E.shape[1])]))
        cdf = np.exp(np.asarray(self.link.log_inverse(cuts - mu[:, None])))
        return np.sum(rng.random(len(E))[:, None] > cdf, axis=1).astype(float)

    def prepare_outcome(self, y, column):
        if isinstance(y.dtype, pd.CategoricalDtype):
            levels = tuple(y.cat.categories) if y.cat.ordered else tuple(sorted(y.cat.categories))
            codes = pd.Categorical(y, categories=list(levels)).codes
        else:
            levels = tuple(sorted(pd.unique(y)))
            codes = pd.Categorical(y, categories=list(levels)).codes
        used = np.unique(codes)
        if len(levels) < 2 or len(used) < len(levels):
            empty = [lev for i, lev in enumerate(levels) if i not in used]
            raise DataError(f"The outcome column {column!r} needs at least two levels, each "
                            f"observed; empty levels: {empty}.")
        return codes.astype(float), levels

    def start(self, y, aux, levels):
        k = len(levels)
        cum = np.cumsum(np.bincount(y.astype(int), minlength=k))[:-1] / len(y)
        return {"cuts": self.link.link(np.clip(cum, 1e-4, 1 - 1e-4))}


def _ones(n):
    return np.ones(n)


def make_family(name: str, link: str | None = None) -> Family:
    """A built-in family by name, with an optional non-default link.

    Examples
    --------
    >>> make_family("gamma", link="log").link.name
    'log'
    """
    if name not in FAMILIES:
        raise SpecificationError(f"Unknown family {name!r}; choose one of {sorted(FAMILIES)}.")
    cls, factory, default_link, allowed, extra, aux = FAMILIES[name]
    link_obj = get_link(link or default_link, allowed)
    logpdf = factory(link_obj)
    params = {"mu": Predictor(link=link_obj.name)}
    for key, spec in extra.items():
        params[key] = spec
    fam = cls(name, logpdf, link_obj.name, allowed, aux=aux, **params)
    if "event" in aux:
        fam.default_aux["event"] = _ones
    return fam


_POS = Scalar("positive")
FAMILIES = {
    "normal": (_Normal, logpdfs.normal, "identity", ("identity", "log"),
               {"sigma": _POS}, ()),
    "logit": (_Binary, logpdfs.binary, "logit", ("logit",), {}, ()),
    "probit": (_Binary, logpdfs.binary, "probit", ("probit",), {}, ()),
    "binomial": (_Binomial, logpdfs.binomial, "logit", ("logit", "probit", "cloglog"),
                 {}, ("trials",)),
    "poisson": (_Poisson, logpdfs.poisson, "log", ("log", "identity"), {}, ()),
    "negbin": (_NegativeBinomial, logpdfs.negbin, "log", ("log",), {"alpha": _POS}, ()),
    "gamma": (_Gamma, logpdfs.gamma, "inverse", ("inverse", "log", "identity"),
              {"shape": _POS}, ()),
    "exponential": (_Exponential, logpdfs.exponential, "log", ("log",), {}, ("event",)),
    "weibull": (_Weibull, logpdfs.weibull, "log", ("log",), {"shape": _POS}, ("event",)),
    "student_t": (_StudentT, logpdfs.student_t, "identity", ("identity",),
                  {"sigma": _POS, "df": _POS}, ()),
    "ordinal": (_Ordinal, logpdfs.ordinal, "logit", ("logit", "probit", "cloglog"),
                {"cuts": CutPoints()}, ()),
}
