"""The rows a mixed model predicts at: the fixed part's, and for conditional predictions
the random-effects design and each row's group, built with the fit's own state."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ...exceptions import DataError, SpecificationError
from ..rows import Rows

__all__ = ["MixedRows", "mixed_rows"]


@dataclass(frozen=True)
class MixedRows(Rows):
    """Rows of a mixed model to predict at: the fixed part's designs and offsets, and for
    conditional predictions the random-effects design ``Z`` and the group code of each
    complete row (``Z`` None: the population level, the fixed part alone)."""

    Z: np.ndarray | None = None
    codes: np.ndarray | None = None


def mixed_rows(problem, levels: pd.Index, random_spec, data=None, offset=None,
               random_effects: bool = True) -> MixedRows:
    """See :meth:`fisherkit.models.mixed.MixedModel.design_for`; ``problem`` is the model's
    :class:`~fisherkit.models.mixed.problem.GroupedProblem`, ``levels`` its group labels and
    ``random_spec`` the random-effects design's formulaic spec."""
    rows = problem.base.design_for(data, offset=offset)
    if not random_effects:
        return MixedRows(**{**vars(rows), "conditional": False})
    if data is None:
        return MixedRows(**{**vars(rows), "conditional": True}, Z=problem.Z,
                         codes=problem.codes)
    if random_spec is None:
        raise SpecificationError("This mixed model keeps no random-effects design to "
                                 "build at new rows; predict with random_effects=False.")
    group = problem.covariance.group
    needed = [group] + sorted(str(v) for v in random_spec.required_variables)
    absent = [c for c in needed if c not in data.columns]
    if absent:
        raise DataError(f"The new data lack the column(s) {absent} of the random-effects "
                        "term; conditional predictions need them (random_effects=False "
                        "predicts from the fixed part alone).")
    known = ~data[needed].isna().any(axis=1).to_numpy()
    keep = known[rows.complete]
    complete = rows.complete & known
    frame = data.loc[complete]
    codes = levels.get_indexer(frame[group])
    if np.any(codes < 0):
        level = frame[group].iloc[int(np.argmax(codes < 0))]
        level = level.item() if isinstance(level, np.generic) else level
        raise DataError(f"The grouping column {group!r} holds the level {level!r}, which "
                        "the fit did not see, so it has no conditional mode; predict with "
                        "random_effects=False for the population level (the effects' "
                        "mean, 0).")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # formulaic's notes on levels; Z is numeric
        Z = np.asarray(random_spec.get_model_matrix(frame).to_numpy(dtype=float))
    designs = {k: v[keep] for k, v in rows.designs.items()}
    offsets = {k: None if v is None else v[keep] for k, v in rows.offsets.items()}
    return replace(MixedRows(**{**vars(rows), "conditional": True}, Z=Z,
                             codes=codes.astype(np.intp)),
                   designs=designs, offsets=offsets, complete=complete)
