"""Designs for rows to predict at: the fitted rows, or new data through the fitted formula.

New data are turned into designs by formulaic's ``ModelSpec`` kept from the fit
(``ModelData.specs``), so categorical levels, contrasts and stateful transforms (centring,
splines) are those of the fit. A level the fit did not see is an error naming the column
and the level; a row with a missing value in a used column is not dropped silently but
marked incomplete, and predictions give it NaN.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from formulaic import Formula

from ..exceptions import DataError, SpecificationError
from .formula import ModelData

__all__ = ["Rows", "fitted_rows", "new_rows"]


@dataclass(frozen=True)
class Rows:
    """Rows to evaluate a model at.

    ``designs`` and ``offsets`` are keyed like :attr:`ModelData.designs` and hold the
    complete rows only; ``complete`` marks them among the rows asked for, whose labels are
    ``index``. ``weights`` are the fitted rows' observation weights (None for new rows):
    an average over the fitted rows is weighted by them.
    """

    designs: dict
    offsets: dict
    index: pd.Index
    complete: np.ndarray
    weights: np.ndarray | None = None
    #: for models with random effects, whether the rows are conditional on the groups'
    #: modes (None for models without them)
    conditional: bool | None = None

    @property
    def n_complete(self) -> int:
        return int(np.count_nonzero(self.complete))

    @property
    def n_missing(self) -> int:
        return len(self.complete) - self.n_complete


def fitted_rows(data: ModelData) -> Rows:
    """The rows the model was fitted on."""
    index = data.index if data.index is not None else pd.RangeIndex(data.n_obs)
    return Rows(dict(data.designs), dict(data.offsets), index, np.ones(data.n_obs, dtype=bool),
                data.weights)


def _columns_of(expression: str) -> list[str]:
    try:
        return sorted(str(v) for v in Formula(expression).required_variables)
    except Exception:  # an expression formulaic cannot parse alone names no single column
        return []


def _check_levels(spec, frame: pd.DataFrame) -> None:
    """Refuse a categorical level the fit did not see, naming the column and the level."""
    for expression, (kind, state) in spec.encoder_state.items():
        levels = state.get("categories") if isinstance(state, dict) else None
        if levels is None or str(kind.value) != "categorical":
            continue
        columns = [c for c in _columns_of(expression) if c in frame.columns]
        if len(columns) != 1:
            continue
        values = frame[columns[0]]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        unseen = values.notna() & ~values.isin(list(levels))
        if unseen.any():
            raise DataError(f"The column {columns[0]!r} holds the level "
                            f"{values[unseen].iloc[0]!r}, which the fit did not see (its "
                            f"levels are {list(levels)}).")


def _design(spec, frame: pd.DataFrame, width: int, key: str) -> np.ndarray:
    with warnings.catch_warnings():
        # formulaic warns of unseen levels and casts them to NaN; they were refused above
        warnings.simplefilter("ignore")
        mm = spec.get_model_matrix(frame)
    names = list(mm.columns)
    if len(names) != width:  # an ordinal model's design has no intercept
        names = [n for n in names if n != "Intercept"]
    if len(names) != width:
        raise DataError(f"The new data give the {key!r} design {len(names)} columns where the "
                        f"fit had {width}.")
    return np.asarray(mm[names].to_numpy(dtype=float), order="F")


def _new_offsets(data: ModelData, frame: pd.DataFrame, offset) -> dict:
    """Each predictor's offset at the rows of ``frame`` (None where it has none): read from
    the same column as in the fit, or ``offset`` for the one the fit was given as values."""
    arrays = [k for k, v in data.offsets.items() if v is not None and k not in data.offset_columns]
    if len(arrays) > 1:
        raise SpecificationError(f"The predictors {arrays} were given offsets as values, which "
                                 "new rows cannot take; give them as columns of the data "
                                 "(fk.Predictor(offset='column')) to predict at new data.")
    if offset is not None and not arrays:
        if data.offset_columns:
            raise SpecificationError(f"The fit read its offset(s) from the column(s) "
                                     f"{sorted(data.offset_columns.values())}; the new data give "
                                     "them, not offset=.")
        raise SpecificationError("The fit had no offset, so predictions take no offset=.")
    if arrays and offset is None:
        raise SpecificationError(f"The fit was given the offset of {arrays[0]!r} as values: pass "
                                 "offset= (one value per new row) to predict at new data.")
    out = {k: None for k in data.offsets}
    for key, column in data.offset_columns.items():
        if column not in frame.columns:
            raise DataError(f"The new data need the offset column {column!r} (of the predictor "
                            f"{key!r}).")
        out[key] = frame[column].to_numpy(dtype=float)
    if arrays:
        out[arrays[0]] = np.asarray(offset, dtype=float).reshape(-1)
        if len(out[arrays[0]]) != len(frame):
            raise DataError(f"The offset has {len(out[arrays[0]])} values but the new data have "
                            f"{len(frame)} rows; lengths must match.")
    return out


def new_rows(data: ModelData, frame, offset=None) -> Rows:
    """Designs and offsets of the model ``data`` describes at the rows of ``frame``.

    Parameters
    ----------
    data : ModelData
        The fitted model's data (its ``specs``, offset sources and design widths).
    frame : pandas.DataFrame
        New rows with every column the formula uses, and every offset column the fit read
        (a predictor's offset given as a column name).
    offset : array-like, optional
        The offset of the new rows, where the fit was given its offset as values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"The data to predict at must be a pandas DataFrame; got "
                        f"{type(frame).__name__}.")
    offsets = _new_offsets(data, frame, offset)
    used = sorted({str(v) for spec in data.specs.values() for v in spec.required_variables})
    absent = [c for c in used if c not in frame.columns]
    if absent:
        raise DataError(f"The new data lack the column(s) {absent} the formula uses.")
    complete = ~frame[used].isna().any(axis=1).to_numpy() if used else np.ones(len(frame), bool)
    for values in offsets.values():
        if values is not None:
            complete &= ~np.isnan(values)
    rows = frame.loc[complete, used] if used else frame.loc[complete]
    designs = {}
    for key, spec in data.specs.items():
        _check_levels(spec, rows)
        designs[key] = _design(spec, rows, data.designs[key].shape[1], key)
    offsets = {k: None if v is None else v[complete] for k, v in offsets.items()}
    return Rows(designs, offsets, frame.index, complete)
