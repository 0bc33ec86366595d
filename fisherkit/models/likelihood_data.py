"""The data of a :class:`fisherkit.Likelihood`: a user's object as given, or a DataFrame's
complete rows as a mapping from column name to numpy array, with the row bookkeeping
results read (rows dropped, their labels, cluster labels, observation weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError, SpecificationError
from ..validation import MISSING, check_choice
from .columns import prepare_columns
from .weights import check_weights

__all__ = ["LikelihoodData", "prepare_data", "column_major", "column_of"]


@dataclass(frozen=True)
class LikelihoodData:
    """What results read from a model's data: the user's data and row bookkeeping."""

    values: Any
    n_dropped: int = 0
    index: pd.Index | None = None
    cluster: np.ndarray | None = None
    aux: dict = field(default_factory=dict)
    weights: np.ndarray | None = None
    weight_type: str | None = None


def column_major(value):
    """A float matrix stored column-major, as a copy where it is not: reverse-mode
    derivatives of ``X @ beta`` take ``X.T @ g``, which reads a column-major ``X`` about
    twice as fast (a dot product per contiguous column). Anything else as it is."""
    if (isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype == np.float64
            and not value.flags.f_contiguous):
        return np.asfortranarray(value)
    return value


def column_of(data, value, what: str):
    """A keyword given as a column name (DataFrames only) or as an array."""
    if not isinstance(value, str):
        return None if value is None else np.asarray(value)
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{what}= names a column only when data is a DataFrame.")
    if value not in data.columns:
        raise DataError(f"The {what} column {value!r} is not in the data.")
    return data[value].to_numpy()


def prepare_data(data, missing: str, cluster, weights, weight_type):
    """DataFrames become a mapping from column name to numpy array, complete rows only; the
    float matrices of a plain dict are stored column-major (see :func:`column_major`).
    Rows of zero weight are dropped from a DataFrame with its incomplete rows."""
    cluster = column_of(data, cluster, "cluster")
    if weights is not None:
        weights = check_weights(column_of(data, weights, "weights"), weight_type,
                                name=f"weights {weights!r}" if isinstance(weights, str)
                                else "weights")
    if not isinstance(data, pd.DataFrame):
        if type(data) is dict:
            data = {key: column_major(value) for key, value in data.items()}
        if weights is not None and np.isnan(weights).any():
            raise DataError("The weights hold missing values; with data other than a "
                            "DataFrame every row is used: drop those rows first.")
        return data, 0, None, cluster, weights
    check_choice("missing", missing, MISSING)
    # the column policy of formulas: object numbers are numbers, mixtures and dates refused
    data = prepare_columns(data, data.columns)
    na = data.isna()
    bad = na.any(axis=1).to_numpy()
    if bad.any() and missing == "raise":
        cols = [c for c in data.columns if na[c].any()]
        raise DataError(f"Missing values in columns {cols} ({int(bad.sum())} rows); drop them "
                        "or use missing='drop'.")
    if weights is not None:
        if len(weights) != len(data):
            raise DataError(f"The weights have {len(weights)} values but the data has "
                            f"{len(data)} rows; lengths must match.")
        bad = bad | np.isnan(weights) | (weights == 0)
        weights = weights[~bad]
    kept = data.loc[~bad]
    values = {c: kept[c].to_numpy(dtype=float) if pd.api.types.is_numeric_dtype(kept[c])
              else kept[c].to_numpy() for c in kept.columns}
    if cluster is not None and len(cluster) == len(data):
        cluster = cluster[~bad]
    return values, int(bad.sum()), kept.index, cluster, weights
