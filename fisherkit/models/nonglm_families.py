"""The built-in families outside the generalized linear models: censored survival times in
accelerated failure time form (exponential, Weibull), the Student t with its degrees of
freedom estimated, and the cumulative-link ordinal model."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pandas as pd
from scipy import special

from ..autodiff.primitives import gammaln
from ..exceptions import BoundaryWarning, DataError, SeparationWarning
from . import divergence as kl
from .builtin_family import (EULER, BuiltinFamily, PositiveOutcome, bad_rows, eta_weights,
                             fitted_rows_in_memory, natural_value)
from .parameters import CutPoints
from .protocol import Finding

__all__ = ["Censored", "Exponential", "Weibull", "StudentT", "Ordinal"]


class Censored(PositiveOutcome):
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
                            f"{bad_rows((event != 0) & (event != 1))}.")
        return {"mu": float(np.log(np.sum(y) / max(np.sum(event), 1.0)))}

    def post_fit_checks(self, model, theta):
        """Every time censored: with no event observed the likelihood rises forever as the
        scale grows (a survival probability of one fits every row), so there is no maximum."""
        found = super().post_fit_checks(model, theta)
        fitted = fitted_rows_in_memory(model, theta)
        if fitted is None or np.any(fitted[2]["event"] != 0):
            return found
        scale = [n for n in model.names if n not in self.params]
        found.append(Finding(
            "boundary", BoundaryWarning,
            f"Every row of the {self.name} fit is censored (event is 0 throughout), so the "
            f"scale (through {scale}) heads to infinity: with no event observed the data "
            "say only that the times exceed those seen, and the estimates and standard "
            "errors are not meaningful. Check the event column (1 = event observed)."))
        return found


class Exponential(Censored):
    kl_form = staticmethod(kl.exponential)

    def expected_weights(self, E, aux):
        self._check_uncensored(aux)
        return eta_weights(np.ones(len(E)))

    def draw(self, rng, E, aux):
        return np.asarray(self.link.inverse(E[:, 0])) * rng.standard_exponential(len(E))

    def cumulative_hazard(self, y, E):
        return y * np.exp(-E[:, 0])


class Weibull(Censored):
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
        return eta_weights(k * k, np.full(len(E), (1 - EULER) ** 2 + np.pi**2 / 6),
                        w01=-k * (1 - EULER))

    def draw(self, rng, E, aux):
        mu = np.asarray(self.link.inverse(E[:, 0]))
        return mu * rng.standard_exponential(len(E)) ** np.exp(-E[:, 1])

    def start(self, y, aux, levels):
        return {**super().start(y, aux, levels), "shape": 1.0}


#: degrees of freedom beyond which a Student t fit counts as having run to its normal limit:
#: its density differs from the normal's by about 1/df, which takes millions of rows to see
DF_LIMIT = 1e3


class StudentT(BuiltinFamily):
    """``mean`` is the location, the mean of the outcome only where df > 1; without a
    variance function, the residuals are ``y - mu`` (response and working alike)."""

    residual_kinds = ("response", "working")

    def post_fit_checks(self, model, theta):
        """The degrees of freedom running to infinity: the data have tails no heavier than
        the normal's, the Student t's limit, and the likelihood keeps rising towards it."""
        found = super().post_fit_checks(model, theta)
        df = natural_value(model, theta, "df")
        if df > DF_LIMIT:
            found.append(Finding(
                "boundary", BoundaryWarning,
                f"The degrees of freedom 'df' of the student_t fit are {df:.3g}, heading to "
                "infinity: the data show no heavier tails than a normal distribution, the "
                "limit of the Student t as df grows, so df and its standard error are not "
                "meaningful; fit family='normal' instead."))
        return found

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
        return eta_weights(i_mu, i_ss, i_dd, w12=i_sd)

    def draw(self, rng, E, aux):
        return E[:, 0] + np.exp(E[:, 1]) * rng.standard_t(np.exp(E[:, 2]))


class Ordinal(BuiltinFamily):
    drop_intercept = True
    orders_outcome = True
    no_mean = "an ordinal outcome has no mean response on the link scale"
    mean_is_inverse_link = False
    residual_kinds = ()

    @property
    def interval_link(self):
        return None

    def post_fit_checks(self, model, theta):
        """Separation: rows fitted with probability within 1e-8 of their observed category,
        where an outcome category is perfectly predicted by the covariates and the
        coefficients with the cut points run off to infinity."""
        found = super().post_fit_checks(model, theta)
        fitted = fitted_rows_in_memory(model, theta)
        if fitted is None:
            return found
        y, E, _ = fitted
        with np.errstate(all="ignore"):
            p = np.asarray(self.probabilities(E), dtype=float)[np.arange(len(y)), y.astype(int)]
        fitted_right = p > 1.0 - 1e-8
        # a few rows far out in the covariates may be fitted that well in any model; a
        # category all of whose rows are is perfectly predicted, and only separation does that
        perfect = [k for k in range(E.shape[1]) if fitted_right[y == k].all()]
        if perfect:
            levels = [str(model.data.levels[k]) for k in perfect]
            coefficients = list(model.names[:len(model.names) - (E.shape[1] - 1)])
            found.append(Finding(
                "separation", SeparationWarning,
                f"Every observation of the outcome categor{'y' if len(perfect) == 1 else 'ies'} "
                f"{levels} is fitted with probability within 1e-8 of it: the category is "
                "perfectly predicted by the covariates (separation), so the coefficients "
                f"{coefficients} and the cut points run off to infinity; their estimates and "
                "standard errors are not meaningful."))
        return found

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
        """Levels in the order of an ordered Categorical, or of numbers; text and unordered
        categories are refused, because their order (alphabetical: "10" before "2",
        "high" before "low") is not the outcome's."""
        if isinstance(y.dtype, pd.CategoricalDtype) and y.cat.ordered:
            levels = tuple(y.cat.categories)
        elif (pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y)) and not (
                isinstance(y.dtype, pd.CategoricalDtype)):
            levels = tuple(sorted(pd.unique(y)))
            if pd.api.types.is_float_dtype(y) and all(float(v).is_integer() for v in levels):
                # whole numbers made float by a missing value are still the outcome's
                # integer levels: cut points keep their names ("0|1", not "0.0|1.0")
                levels = tuple(int(v) for v in levels)
        else:
            kind = "an unordered Categorical" if isinstance(y.dtype, pd.CategoricalDtype) else "text"
            raise DataError(
                f"The outcome column {column!r} of an ordinal model holds {kind}, whose order "
                "is not known; make it an ordered Categorical, lowest level first: "
                f"pd.Categorical(df[{column!r}], categories=[...], ordered=True).")
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
