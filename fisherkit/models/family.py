"""The ``Family`` class: a per-observation log-density plus its parameter declarations.

A user's own model is a ``Family``; so is every built-in one. fisherkit derives the
likelihood, the score, the Hessian, every kind of information and the summary from it.
"""

from __future__ import annotations

from typing import Callable, Mapping

import autograd.numpy as anp
import numpy as np
import pandas as pd

from ..exceptions import DataError, SeparationWarning, SpecificationError
from .parameters import Declaration
from .protocol import Finding

__all__ = ["Family"]


class Family:
    """A likelihood model: a per-observation log-density and its parameters.

    Parameters
    ----------
    logpdf : callable
        ``logpdf(y, **params, **aux)`` returning the log-density of each observation, written
        with ``autograd.numpy``. It receives each parameter on its natural scale: a
        :class:`Predictor` as ``g^-1(X beta)`` (one value per observation), a :class:`Scalar`
        as a constrained value broadcast to every observation, :class:`CutPoints` as a list of
        increasing per-observation cut points. The family and its fits pickle when it
        (and ``sample``) is a module-level function: pickle stores functions by name and
        refuses a lambda or a nested function.
    name : str, optional
        A label for summaries.
    aux : tuple of str
        Names of extra per-observation data ``logpdf`` takes as keywords, given to
        ``fk.fit`` as keywords of the same names (for example ``("exposure",)``).
    support : "counts" or sequence of float, optional
        The outcome's support when it is discrete: ``"counts"`` for the non-negative
        integers (summed until the remaining mass is below a stated bound), or the finite
        set of values. Makes the expected information exact.
    sample : callable, optional
        ``sample(rng, **params)`` drawing one outcome per observation from the model, with
        parameters as ``logpdf`` receives them; makes the expected information available by
        Monte Carlo.
    mean : callable, optional
        ``mean(**params)``, the mean of the outcome from the distribution parameters by name
        as ``logpdf`` receives them (autograd-traceable, a module-level function so that
        results pickle). Makes ``res.predict(scale="response")`` and
        ``res.residuals("response")`` available; without it only ``scale="link"`` works.
    **params
        The distribution parameters, in the order ``logpdf`` takes them, as
        :class:`Predictor`, :class:`Scalar` or :class:`CutPoints`.

    Examples
    --------
    A zero-inflated Poisson, with a log-linear rate and a constant zero probability:

    >>> import autograd.numpy as anp
    >>> from autograd.scipy.special import gammaln
    >>> def zip_logpdf(y, rate, zero):
    ...     log_poisson = y * anp.log(rate) - rate - gammaln(y + 1)
    ...     at_zero = anp.log(zero + (1 - zero) * anp.exp(-rate))
    ...     return anp.where(y == 0, at_zero, anp.log1p(-zero) + log_poisson)
    >>> from fisherkit.models.parameters import Predictor, Scalar
    >>> zip_family = Family(zip_logpdf, rate=Predictor(link="log"), zero=Scalar("unit_interval"))
    >>> list(zip_family.params)
    ['rate', 'zero']
    """

    #: cumulative-link families identify the level through cut points, not an intercept
    drop_intercept = False
    #: whether :meth:`prepare_outcome` gives the ordered levels that cut points are
    #: labelled and counted by (the ordinal family)
    orders_outcome = False
    #: "counts", a tuple of outcome values, or None for a continuous outcome
    support = None
    #: whether fitted probabilities can run to the outcome's bounds (binary outcomes)
    can_separate = False
    #: the closed-form Kullback-Leibler divergence per observation between the fitted
    #: distributions at two matrices of linear predictors, ``kl_form(family, A, B, aux)``
    #: (see :mod:`fisherkit.models.divergence`), or None
    kl_form = None
    #: why the first predictor's inverse link is not the mean of the outcome, or None
    no_mean = None
    #: whether :meth:`mean` is the first predictor's inverse link, so that response-scale
    #: intervals are the inverse link of the link-scale ones
    mean_is_inverse_link = False
    #: the link carrying response-scale intervals when the mean is not one inverse link
    #: (:mod:`fisherkit.inference.predictions`), or None for Wald intervals
    interval_link = None
    #: the kinds of ``res.residuals`` the family defines (``"response"`` for a user's
    #: family given ``mean=``)
    residual_kinds: tuple[str, ...] = ()

    def __init__(self, logpdf: Callable, *, name: str | None = None, aux: tuple[str, ...] = (),
                 support=None, sample: Callable | None = None, mean: Callable | None = None,
                 **params):
        if not callable(logpdf):
            raise SpecificationError("The 'logpdf' of a Family must be callable.")
        if mean is not None and not callable(mean):
            raise SpecificationError("The 'mean' of a Family must be callable (a function of "
                                     "the distribution parameters by name).")
        for key, spec in params.items():
            if not isinstance(spec, Declaration):
                raise SpecificationError(
                    f"The parameter {key!r} must be declared as fk.Predictor, fk.Scalar or "
                    f"fk.CutPoints; got {type(spec).__name__}."
                )
        for key, spec in params.items():
            if spec.variable_width and not self.orders_outcome:
                raise SpecificationError(
                    f"The parameter {key!r} is declared fk.CutPoints, whose number and names "
                    "come from the ordered levels of an ordinal outcome, which only "
                    "family='ordinal' codes; use family='ordinal', or declare a user "
                    "family's cut points as fk.Scalar parameters (a first cut plus positive "
                    "gaps keeps them increasing).")
        if not any(s.has_design for s in params.values()):
            raise SpecificationError("A Family needs at least one fk.Predictor parameter.")
        self.logpdf = logpdf
        if support is not None:
            self.support = support
        self.sample = sample
        self.mean_function = mean
        if mean is not None:
            self.residual_kinds = ("response",)
        self.name = name or getattr(logpdf, "__name__", "custom")
        self.aux = tuple(aux)
        self.params: dict[str, Declaration] = dict(params)
        # True for built-ins whose logpdf takes linear predictors and working-scale scalars
        # directly, so that it can use the stable forms in fisherkit.autodiff.primitives.
        self.working_scale = False
        self.default_aux: dict[str, Callable[[int], np.ndarray]] = {}

    def __repr__(self) -> str:
        return f"Family({self.name!r}, params={list(self.params)})"

    # The hooks below are overridden by built-in families; a user's Family gets these.

    def prepare_outcome(self, y: pd.Series, column: str) -> tuple[np.ndarray, tuple | None]:
        """Numeric outcome as float64, and the ordered levels for ordinal outcomes."""
        if not (pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y)):
            raise DataError(
                f"The outcome column {column!r} must be numeric; got dtype {y.dtype}."
            )
        return np.asarray(y, dtype=float), None

    def check_support(self, y: np.ndarray, aux: Mapping[str, np.ndarray], column: str) -> None:
        """Raise DataError when an outcome lies outside the family's support."""

    def start(self, y: np.ndarray, aux: Mapping[str, np.ndarray], levels) -> dict[str, object]:
        """Starting values: the intercept of each predictor (on the eta scale) and scalars."""
        out: dict[str, object] = {}
        for key, spec in self.params.items():
            value = spec.default_start()
            if value is not None:
                out[key] = value
        return out

    def post_fit_checks(self, model, theta: np.ndarray) -> list[Finding]:
        """What a fit of ``model`` ending at ``theta`` should warn about: separation, for
        the families where it can happen."""
        if not self.can_separate:
            return []
        n_sep = model.count_separated(theta)
        if not n_sep:
            return []
        return [Finding("separation", SeparationWarning,
                        f"{n_sep} observations are fitted with probability within 1e-8 of "
                        "their outcome: perfect or quasi-complete separation; the separating "
                        "coefficients and their standard errors are not meaningful.")]

    def count_separated(self, y: np.ndarray, eta: np.ndarray, aux) -> int:
        """Observations fitted with probability within 1e-8 of their outcome (perfect or
        quasi-complete separation); 0 for families where that cannot happen."""
        return 0

    def expected_weights(self, E, aux):
        """Closed-form ``E[-d2 l / d eta d eta']`` per observation (``n x K x K``), or None."""
        return None

    def exact_weights(self, E, aux):
        """The exact ``E[-d2 l / d eta d eta']`` per observation by a series or integral the
        family knows in place of summing over the support term by term (NB2's dispersion),
        or None to sum."""
        return None

    def outcome_support(self, data):
        """``"counts"``, a tuple of the outcome's possible values, or None (continuous)."""
        return self.support

    def draw(self, rng, E, aux):
        """One simulated outcome per observation at linear predictors ``E``, or None."""
        if self.sample is None:
            return None
        return np.asarray(self.sample(rng, **self._arguments_from_eta(E, aux)))

    def mean(self, E):
        """The mean of the outcome per row from the ``n x K`` matrix ``E`` of working-scale
        distribution parameters (autograd-traceable): the ``mean=`` function given to the
        family, which receives the parameters by name on their natural scale."""
        if self.mean_function is None:
            raise SpecificationError(
                f"The family {self.name!r} was given no mean: pass mean= to fk.Family (a "
                "function of the distribution parameters by name) for scale='response', or "
                "use scale='link'.")
        return self.mean_function(**self._arguments_from_eta(E, {}))

    def outcome_mean(self, E, aux):
        """The mean on the outcome's own scale (counts for a binomial), for residuals."""
        return self.mean(E)

    def probabilities(self, E):
        """The probability of each outcome category per row (ordinal families)."""
        raise SpecificationError(f"scale='probabilities' is for the ordinal family; the "
                                 f"{self.name} family has no outcome categories.")

    def _arguments_from_eta(self, E, aux):
        values, c = [], 0
        for spec in self.params.values():
            # a block of variable width takes what the blocks after it leave
            width = E.shape[1] - c - (len(self.params) - len(values) - 1) if spec.variable_width else 1
            values.append(spec.from_columns([E[:, c + j] for j in range(width)]))
            c += width
        return {k: v for k, v in self.density_arguments(values, aux).items() if k in self.params}

    def density_arguments(self, columns: list, aux: Mapping[str, np.ndarray]) -> dict:
        """Map per-block working-scale values to the keyword arguments of ``logpdf``."""
        args = {}
        for (key, spec), value in zip(self.params.items(), columns):
            args[key] = spec.density_argument(value, self.working_scale)
        args.update(aux)
        return args

    def loglik_obs(self, y, columns: list, aux: Mapping[str, np.ndarray]):
        """Per-observation log-likelihood from per-block working-scale values.

        A log-density that does not give one value per row is refused: summed over the
        wrong rows, a fit would look right and be wrong.
        """
        values = self.logpdf(y, **self.density_arguments(columns, aux))
        if anp.shape(values) != anp.shape(y):
            raise SpecificationError(
                f"The log-density of the {self.name} family must return one value per "
                f"observation, an array of shape {anp.shape(y)} here; it returned shape "
                f"{anp.shape(values)} (a sum, or a slice of the rows?).")
        return values
