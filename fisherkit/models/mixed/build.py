"""From a formula with a random-effects term, a DataFrame and a family to a mixed model.

The fixed part goes through :func:`fisherkit.models.formula.build_data` as for any fit;
the grouping column and the random term's columns are checked here, and rows missing any
of them are dropped first (counted in ``n_dropped`` with the others).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix

from ...exceptions import DataError, SpecificationError
from ...validation import MISSING, check_choice
from ..family import Family
from ..formula import build_data
from ..index_model import Model
from .covariance import CovarianceTerm
from .model import MixedModel
from .problem import GroupedProblem
from .terms import split_random_terms

__all__ = ["mixed_model", "check_nagq", "MAX_NAGQ", "MAX_NODES"]

#: quadrature points per dimension beyond which more buy nothing in double precision
MAX_NAGQ = 100
#: nodes per group (``nagq ** q``, the product rule) beyond which a fit is impractical:
#: each node is a pass over the rows in every evaluation and in each derivative pass
MAX_NODES = 400


def check_nagq(nagq) -> int:
    """``nagq`` as a number of quadrature points, refused unless a whole number in
    ``1 .. MAX_NAGQ``."""
    if (isinstance(nagq, bool) or not isinstance(nagq, (int, np.integer))
            or not 1 <= nagq <= MAX_NAGQ):
        raise SpecificationError(f"The 'nagq' parameter of fit must be a whole number from 1 "
                                 f"to {MAX_NAGQ} (1 is the Laplace approximation). Got "
                                 f"{nagq!r} instead.")
    return int(nagq)


def _kept(value, keep: np.ndarray, index: pd.Index):
    """A per-row option given as an array, restricted to the rows kept (names stay); a
    pandas Series is matched to the data's rows by its labels first, as fk.fit does."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, pd.Series) and not value.index.equals(index):
        if value.index.has_duplicates or len(index.difference(value.index)):
            return value  # not aligned: the fixed part's build refuses it, naming it
        value = value.reindex(index)
    return np.asarray(value)[keep]


def mixed_model(formula: str, data: pd.DataFrame, family: Family, *, nagq: int = 1,
                offset=None, missing: str = "drop", cluster=None, weights=None,
                weight_type=None, **aux) -> MixedModel:
    """The mixed model of ``fk.fit(formula, data, family, nagq=...)``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> from fisherkit.models.builtins import make_family
    >>> cbpp = fk.datasets.load("cbpp")
    >>> model = mixed_model("incidence ~ C(period) + (1 | herd)", cbpp,
    ...                     make_family("binomial"), trials="size")
    >>> model.problem.n_groups, model.n_obs
    (15, 56)
    """
    nagq = check_nagq(nagq)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    if weights is not None or weight_type is not None:
        raise SpecificationError("Observation weights are not available yet for mixed models "
                                 "(random-effects terms in the formula).")
    if sum(s.has_design for s in family.params.values()) != 1:
        raise SpecificationError(f"Random effects in a family with several linear predictors "
                                 f"(the {family.name} family) are not available yet.")
    check_choice("missing", missing, MISSING)
    fixed, (term,) = split_random_terms(formula)
    variables = [term.group] + sorted(str(v) for v in Formula(term.expression).required_variables)
    for name in variables:
        if name not in data.columns:
            raise DataError(f"The random-effects term ({term.expression} | {term.group}) of "
                            f"{formula!r} uses {name!r}, which is not a column of the data.")
    incomplete = data[variables].isna().any(axis=1).to_numpy()
    if incomplete.any() and missing == "raise":
        raise DataError(f"Missing values in the random-effects column(s) {variables}, first at "
                        f"row {data.index[np.argmax(incomplete)]!r} (missing='raise').")
    keep = ~incomplete
    # positions, not labels, carry rows from the fixed part back to the data
    frame = data.loc[keep].reset_index(drop=True)
    base_data = build_data(fixed, frame, family, offset=_kept(offset, keep, data.index),
                           missing=missing, cluster=_kept(cluster, keep, data.index),
                           **{k: _kept(v, keep, data.index) for k, v in aux.items()})
    positions = np.asarray(base_data.index)
    rows = frame.iloc[positions]
    base_data = replace(base_data, n_dropped=base_data.n_dropped + int(incomplete.sum()),
                        index=data.index[keep][positions])
    Z, columns, random_spec = _random_design(term.expression, rows, formula)
    if nagq ** Z.shape[1] > MAX_NODES:
        raise SpecificationError(
            f"nagq={nagq} with {Z.shape[1]} random effects per group means {nagq ** Z.shape[1]} "
            f"quadrature nodes per group (the product rule), more than the {MAX_NODES} that are "
            "practical; use fewer points (nagq=1 is the Laplace approximation).")
    codes, levels = pd.factorize(rows[term.group], sort=True)
    if len(levels) < 2:
        raise DataError(f"The grouping column {term.group!r} has {len(levels)} level(s) in the "
                        "rows used; random effects need at least two groups.")
    problem = GroupedProblem(Model(family, base_data), Z, codes.astype(np.intp), len(levels),
                             CovarianceTerm(columns, term.group))
    levels = pd.Index(levels, name=term.group)
    return MixedModel(problem, nagq, levels, random_spec)


def _random_design(expression: str, rows: pd.DataFrame, formula: str):
    """The random effects' design, its column names and its formulaic spec (which builds
    the design at new rows)."""
    mm = model_matrix(expression, rows, na_action="ignore")
    Z = np.ascontiguousarray(mm.to_numpy(dtype=float))
    columns = tuple(mm.model_spec.column_names)
    if Z.shape[1] == 0:
        raise SpecificationError(f"The random-effects term of {formula!r} has no column; "
                                 "write '(1 | group)' or '(1 + x | group)'.")
    if not np.all(np.isfinite(Z)):
        raise DataError(f"The random-effects design of {formula!r} has values that are not "
                        "finite.")
    return Z, columns, mm.model_spec
