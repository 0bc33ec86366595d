"""Whether a design identifies its model: constant and duplicated columns, values too large
for the arithmetic of a fit, and enough rows left for the parameters.

Each check refuses with a :class:`fisherkit.DataError` naming the column, term or row; the
designs of :mod:`fisherkit.models.formula` and of Dask partitions
(:mod:`fisherkit.distributed.partitions`) go through the same checks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError, SpecificationError
from ..validation import spoken_list
from .family import Family

__all__ = ["LARGEST", "design_direction", "design_summary", "check_design_columns", "check_constant_columns",
           "check_enough_rows", "check_outcome_size", "check_rows_left", "check_some_parameter"]


def design_direction(n: int) -> np.ndarray:
    """The fixed random vector on which columns are projected to find duplicates."""
    return np.random.default_rng(0).standard_normal(n)


def design_summary(X: np.ndarray):
    """Column minima, maxima and projections on :func:`design_direction`, in one pass over
    the rows in cache-sized blocks (instead of three passes over the whole matrix)."""
    n, p = X.shape
    direction = design_direction(n)
    lo, hi, proj = np.full(p, np.inf), np.full(p, -np.inf), np.zeros(p)
    for a in range(0, n, 4096):
        rows = X[a:a + 4096]
        np.minimum(lo, rows.min(axis=0), out=lo)
        np.maximum(hi, rows.max(axis=0), out=hi)
        proj += direction[a:a + 4096] @ rows
    return lo, hi, proj


def check_design_columns(X: np.ndarray, names: tuple[str, ...], block: str, summary=None) -> None:
    """Constant columns beside an intercept and duplicated columns are not identified.

    ``summary`` is :func:`design_summary` of ``X`` where it is already known.
    """
    if X.shape[1] == 0:
        return
    lo, hi, proj = design_summary(X) if summary is None else summary
    check_constant_columns(lo, hi, names, block)
    _check_magnitude(np.maximum(np.abs(lo), np.abs(hi)), names,
                     lambda j: f"The term {names[j]!r} of the {block!r} design")
    # equal columns have equal projections on a random vector (up to rounding in the
    # summation order); confirm candidates exactly
    order = np.argsort(proj)
    slack = 1e-10 * max(float(np.max(np.abs(proj))), 1.0)
    for a, b in zip(order[:-1], order[1:]):
        if proj[b] - proj[a] <= slack and np.array_equal(X[:, a], X[:, b]):
            a, b = min(a, b), max(a, b)
            raise DataError(
                f"The columns {names[a]!r} and {names[b]!r} of the {block!r} design are "
                "identical; drop one."
            )


#: beyond this size squares and products of the data overflow float64 (1.8e308) in the
#: log-likelihood, its start values and its information
LARGEST = 1e150


def _check_magnitude(largest: np.ndarray, names, what) -> None:
    """Refuse values too large for the arithmetic of a fit; ``what(j)`` names the j-th."""
    too_large = np.flatnonzero(largest > LARGEST)
    if len(too_large):
        j = int(too_large[0])
        raise DataError(f"{what(j)} holds values as large as {largest[j]:.3g}, beyond the "
                        f"{LARGEST:.0e} that floating-point arithmetic in a fit can square; "
                        "rescale it (measure it in larger units).")


def check_outcome_size(y: np.ndarray, lhs: str, index: pd.Index) -> None:
    """Refuse an outcome too large for the arithmetic of a fit, naming its largest row."""
    if len(y):
        j = int(np.argmax(np.abs(y)))
        _check_magnitude(np.abs(y[j:j + 1]), [lhs],
                         lambda _: f"The outcome {lhs!r} (at row {index[j]!r})")


def check_constant_columns(lo: np.ndarray, hi: np.ndarray, names, block: str) -> None:
    """Refuse design columns that are constant (minimum ``lo`` equal to maximum ``hi``)
    beside an intercept, or several constant columns: they are not identified."""
    constant = np.flatnonzero(lo == hi)
    if len(constant) > 1 or (len(constant) == 1 and "Intercept" in names
                             and names[constant[0]] != "Intercept"):
        offenders = [names[j] for j in constant if names[j] != "Intercept"]
        raise DataError(
            f"The column(s) {offenders} of the {block!r} design are constant and so confounded "
            "with the intercept; drop them."
        )


def check_enough_rows(n: int, n_params: int, n_dropped: int = 0) -> None:
    """Refuse a model with no more usable rows than parameters."""
    if n <= n_params:
        dropped = (f" ({n_dropped} row(s) with a missing value were dropped)" if n_dropped
                   else "")
        raise DataError(f"{n} usable rows for at least {n_params} parameters{dropped}; the model "
                        "needs more rows than parameters.")


def check_rows_left(data: pd.DataFrame, na: np.ndarray, columns: dict) -> None:
    """Refuse data with no rows, or with none left once the incomplete rows are dropped
    (``columns`` are the used columns and options by name)."""
    if len(data) == 0:
        raise DataError("The data have no rows; nothing to fit.")
    if na.all():
        gaps = [name for name, col in columns.items() if col.isna().any()]
        where = f" in {spoken_list(gaps)}" if gaps else " in a used column"
        raise DataError(f"All {len(data)} rows have a missing value{where}; nothing is left "
                        "to fit.")


def check_some_parameter(formula: str, family: Family, n_params: int) -> None:
    """Refuse a model with nothing to estimate (``y ~ 0`` for a family without scalars)."""
    if n_params == 0:
        raise SpecificationError(f"The formula {formula!r} leaves the {family.name} model with "
                                 "no parameter to estimate; keep the intercept (drop the '0' or "
                                 "'- 1') or add terms.")
