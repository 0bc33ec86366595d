"""Built-in families, each a stable working-scale log-density with its support and start.

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


import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd import elementwise_grad
from scipy import special

from ..exceptions import DataError, SpecificationError
from . import divergence as kl
from .family import Family
from .links import get_link
from .parameters import CutPoints, Predictor, Scalar
from ..autodiff.primitives import gammaln, log_diff_exp, softplus

__all__ = ["make_family", "FAMILIES"]

_LOG_2PI = np.log(2.0 * np.pi)


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


class _Builtin(Family):
    """A built-in family: its logpdf takes eta and working-scale scalars."""

    def __init__(self, name, logpdf, link, allowed_links, aux=(), **params):
        self.link = get_link(link, allowed_links)
        super().__init__(logpdf, name=name, aux=aux, **params)
        self.working_scale = True

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


class _Binomial(_Builtin):
    can_separate = True
    kl_form = staticmethod(kl.binomial)

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

    def start(self, y, aux, levels):
        return self._start_mu(y)[1]


class _NegativeBinomial(_Count):
    # NB2's alpha has no closed-form expected information: it is summed over the support

    def draw(self, rng, E, aux):
        mu = np.asarray(self.link.inverse(E[:, 0]))
        r = np.exp(-E[:, 1])
        return rng.negative_binomial(r, r / (r + mu)).astype(float)

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

    def start(self, y, aux, levels):
        return {"mu": self._start_mean(y, aux),
                "shape": float(np.clip(np.mean(y) ** 2 / max(np.var(y), 1e-12), 0.05, 1e4))}


class _Censored(_Positive):
    """Event times in accelerated failure time form, right-censored where ``event`` is 0."""

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


class _Weibull(_Censored):
    kl_form = staticmethod(kl.weibull)
    no_mean = "the Weibull's linear predictor is the log of its scale, not of its mean"

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


def _normal_logpdf_factory(link):
    def logpdf(y, mu, sigma):
        z = (y - link.inverse(mu)) * anp.exp(-sigma)
        return -0.5 * _LOG_2PI - sigma - 0.5 * z * z
    return logpdf


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


def _binary_logpdf_factory(link):
    if link.name == "logit":
        # one success or failure per row: s + f = 1 in the canonical form
        def logpdf(y, mu):
            return y * mu - softplus(mu)
        return logpdf

    def logpdf(y, mu):
        return _successes_and_failures(link, mu, y, 1.0 - y)
    return logpdf


#: counts up to this are looked up in a table of log factorials; larger ones use gammaln
_FACTORIAL_TABLE_MAX = 1_000_000


def _log_factorial(k):
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
        if whole.min() >= 0 and top <= _FACTORIAL_TABLE_MAX and np.array_equal(whole, k):
            return special.gammaln(np.arange(top + 1) + 1.0)[whole]
    return gammaln(k + 1.0)


def _binomial_logpdf_factory(link):
    def logpdf(y, mu, trials):
        log_choose = _log_factorial(trials) - _log_factorial(y) - _log_factorial(trials - y)
        return log_choose + _successes_and_failures(link, mu, y, trials - y)
    return logpdf


def _poisson_logpdf_factory(link):
    def logpdf(y, mu):
        return y * link.log_inverse(mu) - link.inverse(mu) - _log_factorial(y)
    return logpdf


def _negbin_logpdf_factory(link):
    def logpdf(y, mu, alpha):
        # with r = 1/alpha: log(alpha mu / (1 + alpha mu)) and log(1 + alpha mu) in softplus form
        log_alpha_mu = link.log_inverse(mu) + alpha
        log1p_alpha_mu = softplus(log_alpha_mu)
        r = anp.exp(-alpha)
        return (gammaln(y + r) - gammaln(r) - _log_factorial(y) - r * log1p_alpha_mu
                + y * (log_alpha_mu - log1p_alpha_mu))
    return logpdf


def _gamma_logpdf_factory(link):
    def logpdf(y, mu, shape):
        k = anp.exp(shape)
        y_over_mu = y * anp.exp(-link.log_inverse(mu))
        return k * (shape + anp.log(y_over_mu)) - k * y_over_mu - anp.log(y) - gammaln(k)
    return logpdf


def _exponential_logpdf(y, mu, event):
    return -event * mu - y * anp.exp(-mu)


def _weibull_logpdf(y, mu, shape, event):
    log_y = anp.log(y)
    z = anp.exp(shape) * (log_y - mu)
    return event * (shape - log_y + z) - anp.exp(z)


def _student_t_logpdf(y, mu, sigma, df):
    nu = anp.exp(df)
    z = (y - mu) * anp.exp(-sigma)
    return (gammaln(0.5 * (nu + 1.0)) - gammaln(0.5 * nu) - 0.5 * anp.log(nu * np.pi) - sigma
            - 0.5 * (nu + 1.0) * anp.log1p(z * z / nu))


def _ordinal_logpdf_factory(link):
    log_cdf, log_sf = link.log_inverse, link.log1m_inverse

    def logpdf(y, mu, cuts):
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
    return logpdf


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
    logpdf = factory(link_obj) if factory.__name__.endswith("_factory") else factory
    params = {"mu": Predictor(link=link_obj.name)}
    for key, spec in extra.items():
        params[key] = spec
    fam = cls(name, logpdf, link_obj.name, allowed, aux=aux, **params)
    if "event" in aux:
        fam.default_aux["event"] = _ones
    return fam


_POS = Scalar("positive")
FAMILIES = {
    "normal": (_Normal, _normal_logpdf_factory, "identity", ("identity", "log"),
               {"sigma": _POS}, ()),
    "logit": (_Binary, _binary_logpdf_factory, "logit", ("logit",), {}, ()),
    "probit": (_Binary, _binary_logpdf_factory, "probit", ("probit",), {}, ()),
    "binomial": (_Binomial, _binomial_logpdf_factory, "logit", ("logit", "probit", "cloglog"),
                 {}, ("trials",)),
    "poisson": (_Poisson, _poisson_logpdf_factory, "log", ("log", "identity"), {}, ()),
    "negbin": (_NegativeBinomial, _negbin_logpdf_factory, "log", ("log",), {"alpha": _POS}, ()),
    "gamma": (_Gamma, _gamma_logpdf_factory, "inverse", ("inverse", "log", "identity"),
              {"shape": _POS}, ()),
    "exponential": (_Exponential, _exponential_logpdf, "log", ("log",), {}, ("event",)),
    "weibull": (_Weibull, _weibull_logpdf, "log", ("log",), {"shape": _POS}, ("event",)),
    "student_t": (_StudentT, _student_t_logpdf, "identity", ("identity",),
                  {"sigma": _POS, "df": _POS}, ()),
    "ordinal": (_Ordinal, _ordinal_logpdf_factory, "logit", ("logit", "probit", "cloglog"),
                {"cuts": CutPoints()}, ()),
}
