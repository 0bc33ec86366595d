"""Parameter declarations: linear predictors, constrained scalars and ordered cut points.

A family declares its distribution parameters with the first three; a
:class:`fisherkit.Likelihood` its own with numbers, :class:`Scalar` and :class:`Array`. Constraints are imposed by
reparameterization, never by clipping: the optimizer works on an unconstrained *working*
scale (``log sigma``, ``logit p``, log gaps between cut points) and results are reported on
the *natural* scale with delta-method standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import autograd.numpy as anp
import numpy as np

from ..exceptions import SpecificationError
from .links import Link, get_link
from ..autodiff.primitives import log_sigmoid

__all__ = ["Declaration", "Predictor", "Scalar", "CutPoints", "Array", "CONSTRAINTS", "declare", "element_names",
           "check_start_value", "Block"]


@dataclass(frozen=True)
class Constraint:
    """A map from the unconstrained working scale to the natural scale."""

    name: str
    to_natural: object
    to_working: object
    working_label: str


def _unchanged(value):
    return value


def _exp(w):
    return anp.exp(w)


def _unit_interval(w):
    """The logistic function, through its stable log."""
    return anp.exp(log_sigmoid(w))


def _logit(v):
    return np.log(v) - np.log1p(-v)


# module-level functions, so that a constraint pickles by reference to them
CONSTRAINTS = {
    "real": Constraint("real", _unchanged, _unchanged, "{}"),
    "positive": Constraint("positive", _exp, np.log, "log({})"),
    "unit_interval": Constraint("unit_interval", _unit_interval, _logit, "logit({})"),
}


class Declaration:
    """What a declared parameter does for the block of ``theta`` it owns in an index model:
    its names, its working <-> natural maps, its start and the argument it gives the
    log-density. Blocks are told apart by these, never by their class."""

    #: a linear predictor with a design of its own (one column of ``E``, many coefficients)
    has_design = False
    #: every natural value is a function of its own working coordinate alone
    own_coordinates = True
    #: 0 is in the parameter space (a score test sets absent parameters there)
    zero_allowed = False
    #: the block fills as many columns of ``E`` as it has values (cut points)
    variable_width = False
    #: why the model has no mean response when it holds this block, or None
    no_mean = None

    def labels(self, key: str, data) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Names of the block's values on the natural and the working scale."""
        raise NotImplementedError

    def from_columns(self, columns: list):
        """What the log-density receives from the block's working values (one per column)."""
        return columns[0]

    def block_to_natural(self, w):
        """The block's natural values from its working ones (autograd-traceable)."""
        return w

    def block_to_working(self, v) -> np.ndarray:
        """The block's working values from its natural ones."""
        return np.asarray(v, dtype=float)

    def start_block(self, value, names: tuple[str, ...]) -> np.ndarray:
        """The block's working start from the family's starting value."""
        return self.block_to_working(value)

    def default_start(self):
        """A starting value on the natural scale where the family gives none, or None."""
        return None

    def density_argument(self, value, working_scale: bool):
        """The argument ``logpdf`` receives: working values for a built-in family's stable
        forms (``working_scale``), natural ones for a user's."""
        return value if working_scale else self.block_to_natural(value)


@dataclass(frozen=True)
class Predictor(Declaration):
    """A distribution parameter given by a linear predictor through an inverse link.

    Parameters
    ----------
    formula : str, optional
        Right-hand side for this parameter's own design (``"~ age + C(sex)"``). The first
        predictor without a formula takes the right-hand side of the formula given to
        ``fk.fit``.
    link : str
        Link function name (``"identity"``, ``"log"``, ``"logit"``, ``"probit"``,
        ``"cloglog"``, ``"inverse"``).
    offset : str or array-like, optional
        A term with coefficient one added to this linear predictor: a column of the data
        (new data to predict at must hold it too), or values aligned with the data's rows
        (a pandas Series by its index, as ``fk.fit(offset=)``). A missing value drops the
        row like a missing value in a used column. ``fk.fit(offset=)`` is the offset of the
        predictor taking the formula's right-hand side; give that one offset once.

    Notes
    -----
    Coefficient names: the predictor taking the right-hand side of the formula given to
    ``fk.fit`` has the formula library's names unprefixed (``Intercept``, ``x``,
    ``C(g)[T.b]``), so that a model with one predictor lines up with statsmodels name for
    name; every other predictor's are prefixed by its parameter's name and a colon
    (``sigma:Intercept``, ``sigma:z``), whatever its formula.

    Examples
    --------
    >>> Predictor(link="log").link
    'log'
    >>> Predictor("~ z", link="log", offset="log_t").offset
    'log_t'
    """

    formula: str | None = None
    link: str = "identity"
    # arrays do not compare or hash as one value; a predictor is told apart by the rest
    offset: Any = field(default=None, compare=False)

    has_design = True
    zero_allowed = True

    def __post_init__(self):
        if isinstance(self.offset, (bool, int, float, dict)) or (
                self.offset is not None and not isinstance(self.offset, str)
                and np.ndim(self.offset) != 1):
            raise SpecificationError(
                "The 'offset' of a fk.Predictor must be a column name or one value per row "
                f"(an array or a pandas Series); got {type(self.offset).__name__}.")

    def get_link(self) -> Link:
        return get_link(self.link)

    def labels(self, key, data):
        return data.column_names[key], data.column_names[key]

    def start_block(self, value, names):
        """Zero slopes, and the family's value for the intercept where there is one."""
        theta = np.zeros(len(names))
        plain = [n.split(":", 1)[-1] for n in names]
        if "Intercept" in plain:
            theta[plain.index("Intercept")] = value
        return theta

    def density_argument(self, value, working_scale):
        return value if working_scale else self.get_link().inverse(value)


@dataclass(frozen=True)
class Scalar(Declaration):
    """A scalar distribution parameter shared by all observations.

    Parameters
    ----------
    constraint : {"real", "positive", "unit_interval"}
        Where the parameter lives; ``"positive"`` is estimated on the log scale and
        ``"unit_interval"`` on the logit scale.
    start : float, optional
        Starting value on the natural scale.

    Examples
    --------
    >>> Scalar("positive").constraint
    'positive'
    """

    constraint: str = "real"
    start: float | None = None

    def __post_init__(self):
        if self.constraint not in CONSTRAINTS:
            raise SpecificationError(
                f"Unknown constraint {self.constraint!r}; choose one of {sorted(CONSTRAINTS)}."
            )

    def to_natural(self, w):
        return CONSTRAINTS[self.constraint].to_natural(w)

    def to_working(self, v):
        return CONSTRAINTS[self.constraint].to_working(v)

    def working_label(self, name: str) -> str:
        return CONSTRAINTS[self.constraint].working_label.format(name)

    def labels(self, key, data):
        return (key,), (self.working_label(key),)

    def block_to_natural(self, w):
        return anp.reshape(self.to_natural(w[0]), (1,))

    def block_to_working(self, v):
        return np.array([self.to_working(np.asarray(v, dtype=float).reshape(-1)[0])])

    def default_start(self):
        return self.start if self.start is not None else {
            "real": 0.0, "positive": 1.0, "unit_interval": 0.5}[self.constraint]

    def density_argument(self, value, working_scale):
        return value if working_scale else self.to_natural(value)


@dataclass(frozen=True)
class CutPoints(Declaration):
    """Increasing cut points of a cumulative-link (ordinal) model, one fewer than the levels.

    The working scale is the first cut point followed by the logs of the gaps, so any
    working vector maps to a strictly increasing sequence.
    """

    own_coordinates = False
    variable_width = True
    no_mean = "an ordinal outcome has no mean response on the link scale"

    def labels(self, key, data):
        levels = [str(v) for v in data.levels]
        names = tuple(f"{a}|{b}" for a, b in zip(levels[:-1], levels[1:]))
        working = (names[0],) + tuple(f"log({b} - {a})" for a, b in zip(names[:-1], names[1:]))
        return names, working

    def from_columns(self, columns):
        return list(columns)

    def block_to_natural(self, w):
        return anp.reshape(self.to_natural(w), (-1,))

    def block_to_working(self, v):
        return self.to_working(v)

    def density_argument(self, value, working_scale):
        return self.to_natural(value)

    def to_natural(self, w):
        """Cut points from working values: a vector, or a list of per-observation columns."""
        out = [w[0]]
        for j in range(1, len(w)):
            out.append(out[-1] + anp.exp(w[j]))
        return out if isinstance(w, list) else anp.stack(out) if len(out) else w

    @staticmethod
    def to_working(cuts):
        cuts = np.asarray(cuts, dtype=float)
        return np.concatenate([cuts[:1], np.log(np.diff(cuts))])


@dataclass(frozen=True, eq=False)
class Array:
    """An array-valued parameter of a :class:`Likelihood` (a vector of means, a weight matrix).

    Parameters
    ----------
    start : array-like
        Starting values on the natural scale; their shape is the parameter's shape.
    constraint : {"real", "positive", "unit_interval"}
        Applied elementwise, by reparameterization (log or logit working scale).

    Examples
    --------
    >>> Array([1.0, 2.0], "positive").start
    array([1., 2.])
    """

    start: Any
    constraint: str = "real"

    def __post_init__(self):
        if self.constraint not in CONSTRAINTS:
            raise SpecificationError(
                f"Unknown constraint {self.constraint!r}; choose one of {sorted(CONSTRAINTS)}.")
        object.__setattr__(self, "start", np.array(self.start, dtype=float))


def declare(key: str, spec) -> tuple[tuple, str, np.ndarray]:
    """Shape, constraint and natural start of one parameter declared to a ``Likelihood``."""
    if isinstance(spec, Scalar):
        default = {"real": 0.0, "positive": 1.0, "unit_interval": 0.5}[spec.constraint]
        return (), spec.constraint, np.array(default if spec.start is None else spec.start, float)
    if isinstance(spec, Array):
        return spec.start.shape, spec.constraint, spec.start
    if isinstance(spec, (int, float, np.ndarray, list, tuple)) and not isinstance(spec, bool):
        start = np.array(spec, dtype=float)
        return start.shape, "real", start
    raise SpecificationError(f"The parameter {key!r} must be a number, an array of starting "
                             f"values, fk.Scalar or fk.Array; got {type(spec).__name__}.")


def element_names(key: str, shape: tuple) -> list[str]:
    """``key`` for a scalar, ``key[i,j]`` for each element of an array parameter."""
    if shape == ():
        return [key]
    return [f"{key}[{','.join(map(str, i))}]" for i in np.ndindex(*shape)]


def check_start_value(key: str, constraint: str, value: np.ndarray) -> None:
    """Refuse a starting value outside its constraint."""
    ok = np.isfinite(value)
    if constraint == "positive":
        ok &= value > 0
    elif constraint == "unit_interval":
        ok &= (value > 0) & (value < 1)
    if not np.all(ok):
        raise SpecificationError(f"The starting value of {key!r} must be finite and "
                                 f"{constraint.replace('_', ' ')}; got {value.tolist()}.")


@dataclass(frozen=True)
class Block:
    """One declared parameter of a family, placed in the flat working vector."""

    key: str
    spec: Declaration
    start: int
    stop: int
    names: tuple[str, ...]
    working_names: tuple[str, ...]

    @property
    def n_columns(self) -> int:
        """Columns of ``E`` it fills: one per predictor, one per value of anything else."""
        return 1 if self.spec.has_design else self.stop - self.start
