"""Optimizer settings, declared and checked: each setting's constraint is stated once.

An optimizer class (a subclass of :class:`Optimizer`) declares a table from setting name to
:class:`Constraint` (as scikit-learn's parameter constraints do); making an optimizer holds
its settings to the table (:func:`check_settings`), refusing the first that breaks its
constraint in one message form::

    The 'learning_rate' option of natural_gradient must be a positive finite number; got -1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from numbers import Integral, Real
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from ..exceptions import SpecificationError
from .trace import OptimizeResult

__all__ = ["Optimizer", "Constraint", "check_settings", "optional", "POSITIVE", "NON_NEGATIVE",
           "POSITIVE_INTEGER", "POSITIVE_STEPS", "SEED", "FISHER", "BATCH_FISHER"]


class Constraint:
    """A test a setting must pass, with the words that say what passes.

    Parameters
    ----------
    description : str
        Completes "must be ...": ``"a positive finite number"``.
    test : callable
        True for the values allowed.

    Examples
    --------
    >>> POSITIVE(0.5), POSITIVE(float("nan")), POSITIVE(True)
    (True, False, False)
    >>> optional(POSITIVE).description
    'a positive finite number or None'
    """

    def __init__(self, description: str, test: Callable[[Any], bool]):
        self.description, self.test = description, test

    def __call__(self, value) -> bool:
        return bool(self.test(value))

    def __repr__(self) -> str:
        return f"Constraint({self.description!r})"


def _real(value) -> bool:
    # bool is an int to Python, but True is no learning rate
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _finite(value) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _integer(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def optional(constraint: Constraint) -> Constraint:
    """The constraint, or None (the setting's "not given")."""
    return Constraint(f"{constraint.description} or None",
                      lambda value: value is None or constraint(value))


POSITIVE = Constraint("a positive finite number",
                      lambda v: _real(v) and _finite(v) and v > 0)
NON_NEGATIVE = Constraint("a non-negative finite number",
                          lambda v: _real(v) and _finite(v) and v >= 0)
POSITIVE_INTEGER = Constraint("a positive integer", lambda v: _integer(v) and v > 0)
#: a decay: the learning rate halves after this many steps; infinity is no decay at all
POSITIVE_STEPS = Constraint("a positive number of steps", lambda v: _real(v) and v > 0)
SEED = Constraint("a non-negative integer, a numpy Generator or SeedSequence, or None",
                  lambda v: v is None or (_integer(v) and v >= 0)
                  or isinstance(v, (np.random.Generator, np.random.SeedSequence)))
FISHER = Constraint("'expected', 'empirical' or a function of theta",
                    lambda v: callable(v) or (isinstance(v, str) and v in ("expected",
                                                                           "empirical")))
#: a mini-batch has no user metric: the metric must be one the batch can compute
BATCH_FISHER = Constraint("'expected' or 'empirical'",
                          lambda v: isinstance(v, str) and v in ("expected", "empirical"))


def _shown(value) -> str:
    """A value as the user wrote it: ``-1``, not ``np.int64(-1)``."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def check_settings(owner: str, settings: Mapping[str, Any],
                   constraints: Mapping[str, Constraint]) -> None:
    """Refuse the first setting that breaks its constraint.

    Parameters
    ----------
    owner : str
        Who the settings are for, as the message names it (``"natural_gradient"``).
    settings : mapping
        Setting name to value; every name in ``constraints`` must be there.
    constraints : mapping
        Setting name to :class:`Constraint`.

    Raises
    ------
    SpecificationError
        ``The 'name' option of owner must be <constraint>; got <value>.``

    Examples
    --------
    >>> check_settings("natural_gradient", {"learning_rate": -1},
    ...                {"learning_rate": POSITIVE})
    Traceback (most recent call last):
    ...
    fisherkit.exceptions.SpecificationError: The 'learning_rate' option of natural_gradient must be a positive finite number; got -1.
    """
    for name, constraint in constraints.items():
        value = settings[name]
        if not constraint(value):
            raise SpecificationError(f"The {name!r} option of {owner} must be "
                                     f"{constraint.description}; got {_shown(value)}.")


@dataclass(frozen=True)
class Optimizer:
    """What every optimizer offers the fit.

    Attributes
    ----------
    name : str
        The method's name, as ``fk.fit(method=...)`` takes it.
    constraints : dict
        Setting name to :class:`~fisherkit.optimize.options.Constraint`.
    batch_constraints : dict
        Narrower constraints of the mini-batch variant, in force when ``batch_size`` is
        given.
    pieces : tuple of str
        What every evaluation will also be asked for, for ``model.prefetch``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> opt = fk.optimize.FisherScoring(damping=1e-6)
    >>> opt.name, opt.settings(), opt.pieces
    ('fisher_scoring', {'damping': 1e-06}, ('expected',))
    """

    name: ClassVar[str] = "optimizer"
    constraints: ClassVar[dict[str, Constraint]] = {}
    batch_constraints: ClassVar[dict[str, Constraint]] = {}

    def __post_init__(self):
        settings = self.settings()
        # the mini-batch variant narrows some constraints: those are checked, and named, as
        # its own
        narrowed = self.batch_constraints if settings.get("batch_size") is not None else {}
        check_settings(self.name, settings,
                       {k: c for k, c in self.constraints.items() if k not in narrowed})
        check_settings(f"{self.name} with batch_size", settings, narrowed)

    def settings(self) -> dict[str, Any]:
        """Setting name to value, as given."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def pieces(self) -> tuple[str, ...]:
        return ()

    def run(self, model, theta0: np.ndarray, *, maxiter: int, tol: float,
            callback: Callable | None = None) -> OptimizeResult:
        """Maximize ``model``'s log-likelihood from the working-scale ``theta0``.

        Parameters
        ----------
        model : LikelihoodModel
        theta0 : ndarray
        maxiter : int
            Most iterations (mini-batch steps for a stochastic variant).
        tol : float
            The method's convergence tolerance (see its class).
        callback : callable, optional
            Called with each trace row (a dict) as it is made.
        """
        raise NotImplementedError
