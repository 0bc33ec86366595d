"""The optimizers as objects: their settings, checked once, and how each is assembled.

Each maximizes the same log-likelihood and returns the same
:class:`~fisherkit.optimize.trace.OptimizeResult` with a trace, so that they can be held
side by side (``fk.compare``):

- :class:`Newton`: line-searched Newton steps, safe where the Hessian is not negative
  definite (the default of :func:`fisherkit.fit`);
- :class:`FisherScoring`: steps ``I(theta)^-1 score`` with the expected information,
  line-searched from the unit step (McCullagh and Nelder, 1989: IRLS for GLMs);
- :class:`NaturalGradient`: the same direction (or with the empirical Fisher, or a user's
  metric) times a fixed learning rate, with damping (Amari, 1998; Martens, 2020);
- :class:`Gradient`: plain gradient ascent, fixed learning rate or backtracking;
- :class:`~fisherkit.optimize.quasi_newton.BFGS` and
  :class:`~fisherkit.optimize.quasi_newton.LBFGS`: scipy's quasi-Newton methods fed the
  exact gradient.

The natural gradient and gradient ascent have a stochastic variant on mini-batches, which
``batch_size=`` selects (:mod:`fisherkit.optimize.stochastic`). Every full-batch and
mini-batch method runs the one loop of :mod:`fisherkit.optimize.loop`.

Settings are keyword-only, stored as given and checked against each class's
``constraints`` table when the object is made (:class:`fisherkit.optimize.options.Optimizer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from ..exceptions import SpecificationError
from .directions import (GradientDirection, NewtonDirection, Preconditioned, UserMetric,
                         empirical_fisher, expected_fisher)
from .loop import iterate
from .options import (BATCH_FISHER, FISHER, NON_NEGATIVE, POSITIVE, POSITIVE_INTEGER,
                      POSITIVE_STEPS, SEED, Constraint, Optimizer, optional)
from .quasi_newton import BFGS, LBFGS
from .steps import Backtracking, FixedRate, FullStepFirst, Scheduled
from .stochastic import MiniBatches
from .stopping import AbsoluteDecrement, FullDataCriterion, RelativeDecrement
from .trace import OptimizeResult

__all__ = ["Newton", "FisherScoring", "NaturalGradient", "Gradient", "METHODS",
           "resolve_optimizer"]


@dataclass(frozen=True, kw_only=True)
class Newton(Optimizer):
    """Newton's method with a backtracking line search.

    Directions are ``(-H)^-1 g`` with the eigenvalues of the Jacobi-scaled ``-H`` flipped
    and floored where it is not positive definite (Nocedal and Wright, 2006, sec. 3.4);
    the full step is tried first, with its derivatives, then halvings from 0.5: one pass
    over the data per iteration. Converged when the Newton decrement ``g' (-H)^-1 g`` is
    below ``tol * (1 + |loglik|)``; where ``-H`` is positive definite one last full step is
    then taken, which squares the remaining error.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...              method=fk.optimize.Newton())
    >>> res.converged, Newton().pieces
    (True, ('hessian',))
    """

    name: ClassVar[str] = "newton"

    @property
    def pieces(self) -> tuple[str, ...]:
        return ("hessian",)

    def run(self, model, theta0: np.ndarray, *, maxiter: int, tol: float,
            callback: Callable | None = None) -> OptimizeResult:
        return iterate(model, theta0, direction=NewtonDirection(), step=FullStepFirst(),
                       stop=RelativeDecrement(), maxiter=maxiter, tol=tol, callback=callback)


@dataclass(frozen=True, kw_only=True)
class FisherScoring(Optimizer):
    """Fisher scoring: line-searched steps ``(I_expected + damping)^-1 score``.

    Parameters
    ----------
    damping : float
        Added to the expected information as a multiple of its mean diagonal; raised (with
        a warning) where the information is singular.

    Notes
    -----
    Converged when the decrement ``g' I^-1 g`` is below ``tol`` (absolute: the method
    converges linearly where the expected and observed information differ).

    Examples
    --------
    >>> import fisherkit as fk
    >>> fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...        method=fk.optimize.FisherScoring()).converged
    True
    """

    name: ClassVar[str] = "fisher_scoring"
    constraints: ClassVar[dict[str, Constraint]] = {"damping": NON_NEGATIVE}

    damping: float = 0.0

    @property
    def pieces(self) -> tuple[str, ...]:
        return ("expected",)

    def run(self, model, theta0: np.ndarray, *, maxiter: int, tol: float,
            callback: Callable | None = None) -> OptimizeResult:
        return iterate(model, theta0, direction=Preconditioned(expected_fisher, self.damping),
                       step=Backtracking(), stop=AbsoluteDecrement("Fisher scoring", None),
                       maxiter=maxiter, tol=tol, callback=callback)


#: the settings of the mini-batch variants (see :mod:`fisherkit.optimize.stochastic`)
MINI_BATCH = {"batch_size": optional(POSITIVE_INTEGER),
              "record_every": optional(POSITIVE_INTEGER), "seed": SEED,
              "decay": optional(POSITIVE_STEPS)}


@dataclass(frozen=True, kw_only=True)
class NaturalGradient(Optimizer):
    """Natural gradient ascent: ``theta += learning_rate (F + damping)^-1 score``.

    Parameters
    ----------
    learning_rate : float
        Fixed step multiplier, halved only where a step leaves the model's domain; 1 with
        the expected Fisher is Fisher scoring without a line search.
    damping : float
        Added to the Fisher matrix as a multiple of its mean diagonal; raised (with a
        warning) when the matrix is singular.
    fisher : {"expected", "empirical"} or callable
        The expected information, or the empirical Fisher (outer product of scores), which
        is not the Fisher away from the optimum (Kunstner et al., 2019), or a user's metric:
        a function of the working-scale ``theta`` returning a symmetric ``p x p`` matrix.
    batch_size : int, optional
        Runs the stochastic natural gradient: steps on mini-batches of this many rows,
        each preconditioned by the batch's own Fisher matrix (``"expected"`` or
        ``"empirical"``); ``maxiter`` then counts mini-batch steps and the fit converges
        when a recorded full-data decrement is below ``tol``.
    record_every, seed, decay
        Of the stochastic variant only: steps between trace rows (one epoch by default),
        the seed of the batches, and the decay of the learning rate, step ``t`` taking
        ``learning_rate / (1 + (t - 1) / decay)`` (Robbins and Monro, 1951).

    Examples
    --------
    >>> import fisherkit as fk
    >>> fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...        method=fk.optimize.NaturalGradient(learning_rate=0.5)).converged
    True
    >>> NaturalGradient(fisher="empirical").pieces
    ('opg',)
    """

    name: ClassVar[str] = "natural_gradient"
    constraints: ClassVar[dict[str, Constraint]] = {
        "learning_rate": POSITIVE, "damping": NON_NEGATIVE, "fisher": FISHER, **MINI_BATCH}
    batch_constraints: ClassVar[dict[str, Constraint]] = {"fisher": BATCH_FISHER}

    learning_rate: float = 1.0
    damping: float = 1e-8
    fisher: str | Callable = "expected"
    batch_size: int | None = None
    record_every: int | None = None
    seed: int | np.random.Generator | np.random.SeedSequence | None = 0
    decay: float | None = None

    @property
    def pieces(self) -> tuple[str, ...]:
        if callable(self.fisher):
            return ()
        return {"expected": ("expected",), "empirical": ("opg",)}[self.fisher]

    def run(self, model, theta0: np.ndarray, *, maxiter: int, tol: float,
            callback: Callable | None = None) -> OptimizeResult:
        if callable(self.fisher):
            metric = UserMetric(self.fisher)
        else:
            metric = {"expected": expected_fisher, "empirical": empirical_fisher}[self.fisher]
        direction = Preconditioned(metric, self.damping)
        if self.batch_size is None:
            return iterate(model, theta0, direction=direction,
                           step=FixedRate(self.learning_rate),
                           stop=AbsoluteDecrement("natural gradient", self.learning_rate),
                           maxiter=maxiter, tol=tol, callback=callback)
        return iterate(model, theta0, direction=direction,
                       step=Scheduled(self.learning_rate, self.decay),
                       stop=FullDataCriterion(direction), maxiter=maxiter, tol=tol,
                       source=MiniBatches(self.batch_size, self.record_every, self.seed),
                       callback=callback)


@dataclass(frozen=True, kw_only=True)
class Gradient(Optimizer):
    """Plain gradient ascent, with a fixed learning rate or a backtracking line search.

    Its stopping rule, ``|score|^2 <= tol``, is not invariant to rescaling a parameter,
    which is the point of holding it beside the natural gradient.

    Parameters
    ----------
    learning_rate : float, optional
        Fixed step multiplier of the score, halved only where a step leaves the model's
        domain; None for Armijo backtracking from the unit step.
    batch_size : int, optional
        Runs stochastic gradient ascent (SGD): steps of ``learning_rate`` (which it then
        needs) times ``n / b`` times a mini-batch's score; ``maxiter`` counts mini-batch
        steps.
    record_every, seed, decay
        As for :class:`NaturalGradient`'s stochastic variant.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...              method=fk.optimize.Gradient(), maxiter=20_000)
    >>> res.converged
    True
    """

    name: ClassVar[str] = "gradient"
    constraints: ClassVar[dict[str, Constraint]] = {"learning_rate": optional(POSITIVE),
                                                    **MINI_BATCH}
    # a mini-batch step has no line search: it needs its rate
    batch_constraints: ClassVar[dict[str, Constraint]] = {"learning_rate": POSITIVE}

    learning_rate: float | None = None
    batch_size: int | None = None
    record_every: int | None = None
    seed: int | np.random.Generator | np.random.SeedSequence | None = 0
    decay: float | None = None

    def run(self, model, theta0: np.ndarray, *, maxiter: int, tol: float,
            callback: Callable | None = None) -> OptimizeResult:
        if self.batch_size is None:
            step = Backtracking() if self.learning_rate is None else FixedRate(self.learning_rate)
            return iterate(model, theta0, direction=GradientDirection(), step=step,
                           stop=AbsoluteDecrement("gradient", self.learning_rate),
                           maxiter=maxiter, tol=tol, callback=callback)
        return iterate(model, theta0, direction=GradientDirection(),
                       step=Scheduled(self.learning_rate, self.decay),
                       stop=FullDataCriterion(GradientDirection()), maxiter=maxiter, tol=tol,
                       source=MiniBatches(self.batch_size, self.record_every, self.seed),
                       callback=callback)


#: method name to optimizer class
METHODS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (
    Newton, FisherScoring, NaturalGradient, Gradient, BFGS, LBFGS)}


def _unknown_option(cls: type[Optimizer], option) -> str:
    """The message refusing ``option``: the valid ones, and where the option belongs."""
    valid = ", ".join(sorted(cls.constraints)) or "it takes none"
    message = f"The {option!r} option is not one of {cls.name}'s options: {valid}."
    owners = " and ".join(m for m, other in METHODS.items() if option in other.constraints)
    if option == "batch_size":
        message += f" {cls.name} has no mini-batch variant; {owners} have one."
    elif option == "callback":
        message += " A callback is given to the optimizer's run(), not as a setting."
    elif owners:
        message += f" It is an option of {owners}."
    return message


def resolve_optimizer(method: str | Optimizer, options: Mapping[str, Any] | None = None
                      ) -> Optimizer:
    """The optimizer a fit asked for: a method name with its options, or an optimizer.

    Parameters
    ----------
    method : str or Optimizer
        A name of :data:`METHODS` or an optimizer object.
    options : mapping, optional
        Settings for a named method; an object carries its own.

    Raises
    ------
    SpecificationError
        An unknown method, an option it does not take or a value its constraints refuse,
        or options given beside an object.

    Examples
    --------
    >>> resolve_optimizer("natural_gradient", {"learning_rate": 0.5})
    NaturalGradient(learning_rate=0.5, damping=1e-08, fisher='expected', batch_size=None, record_every=None, seed=0, decay=None)
    >>> resolve_optimizer(Newton()) == Newton()
    True
    """
    if isinstance(method, Optimizer):
        if options:
            raise SpecificationError(
                f"An optimizer object carries its own settings: give them to it "
                f"(fk.optimize.{type(method).__name__}(...)), not as options= too.")
        return method
    if not (isinstance(method, str) and method in METHODS):
        raise SpecificationError(f"Unknown method {method!r}; choose one of {sorted(METHODS)}.")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise SpecificationError(f"The 'options' must be a dict of the {method} optimizer's "
                                 f"settings; got {options!r}.")
    cls = METHODS[method]
    unknown = [name for name in options if name not in cls.constraints]
    if unknown:
        raise SpecificationError(_unknown_option(cls, unknown[0]))
    return cls(**options)
