"""Observation weights: what each kind means, and the checks a column of weights passes.

A weight multiplies its row's log-likelihood, so every derivative, expected information and
score of a model is weighted where it is summed; what differs between the kinds is what the
weights stand for, and with it ``n_obs`` and the covariances that are valid:

``"frequency"`` (Stata's fweights)
    Row ``i`` stands for ``w_i`` identical observations: every estimate, standard error,
    log-likelihood, AIC and BIC equals that of the data with the rows replicated. Weights
    are integers; ``n_obs`` is their sum. The sandwich's meat is ``sum w s s'``.
``"analytic"`` (Stata's aweights)
    Weights inversely proportional to a row's variance (a row that is a mean of ``w_i``
    observations). They are rescaled to sum to the number of rows and multiply each row's
    log-likelihood; ``n_obs`` is the number of rows. The meat is ``sum (w s)(w s)'``.
``"probability"`` (Stata's pweights)
    Inverse probabilities of selection in a survey sample. The weighted sum is a
    pseudo-log-likelihood, not a likelihood: the model-based covariances (observed, expected,
    OPG) and likelihood-ratio tests are refused and the default covariance is ``"robust"``;
    ``n_obs`` is the number of rows. The meat is ``sum (w s)(w s)'``.

Rows of zero weight carry no information and are dropped (counted in ``n_dropped``);
negative or non-finite weights are refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError, SpecificationError
from ..validation import spoken_list

__all__ = ["WEIGHT_TYPES", "MODEL_BASED", "check_weight_type", "check_weights",
           "model_weights", "effective_n", "refuse_model_based", "refuse_pseudo_likelihood"]

#: the kinds of observation weight, with what each means (see the module's docstring)
WEIGHT_TYPES = {
    "frequency": "row i stands for w_i identical observations (Stata's fweights)",
    "analytic": "weights inversely proportional to each row's variance (Stata's aweights)",
    "probability": "inverse probabilities of selection in a sample (Stata's pweights)",
}
#: covariances that are the inverse of an information matrix, valid only for a likelihood
MODEL_BASED = ("observed", "expected", "opg")


def check_weight_type(weights, weight_type) -> str | None:
    """The weight type, refused where it is missing, unknown or given without weights.

    Examples
    --------
    >>> check_weight_type("w", "frequency")
    'frequency'
    >>> check_weight_type(None, None) is None
    True
    """
    if weights is None:
        if weight_type is not None:
            raise SpecificationError(f"weight_type={weight_type!r} was given without "
                                     "weights=; give the weights (a column or an array).")
        return None
    if weight_type is None:
        raise SpecificationError(
            "weights= needs weight_type=, one of " + spoken_list(WEIGHT_TYPES, "or")
            + ": the three mean different things ("
            + "; ".join(f"{k!r}: {v}" for k, v in WEIGHT_TYPES.items()) + ").")
    if weight_type not in WEIGHT_TYPES:
        raise SpecificationError(f"Unknown weight_type {weight_type!r}; choose one of "
                                 + spoken_list(WEIGHT_TYPES, "or") + ".")
    return weight_type


def check_weights(values, weight_type: str, labels=None, name: str = "weights") -> np.ndarray:
    """The weights as floats, each row checked: numbers, finite, not negative, integers for
    frequency weights, not all zero. Missing values are the caller's (they drop the row).

    ``labels`` are the rows' labels, for messages; ``name`` what the weights are called.

    Examples
    --------
    >>> check_weights([1, 2, 0], "frequency")
    array([1., 2., 0.])
    """
    series = pd.Series(values) if labels is None else pd.Series(np.asarray(values), index=labels)
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            and not pd.api.types.is_complex_dtype(series)):
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any() or series.dtype == bool:
            at = series.index[np.argmax(bad.to_numpy())] if bad.any() else series.index[0]
            raise DataError(f"The {name} must be numbers; got {series.loc[at]!r} at row "
                            f"{at!r} (dtype {series.dtype}).")
        series = numbers
    w = series.to_numpy(dtype=float)
    known = ~np.isnan(w)
    for problem, bad in (("infinite", np.isinf(w)), ("negative", known & (w < 0)),
                         ("not a whole number (frequency weights count rows)",
                          known & np.isfinite(w) & (w != np.round(w))
                          if weight_type == "frequency" else np.zeros(len(w), bool))):
        if bad.any():
            at = np.argmax(bad)
            raise DataError(f"The {name} must be finite, non-negative"
                            + (" whole numbers" if weight_type == "frequency" else " numbers")
                            + f"; the weight at row {series.index[at]!r} is {problem} "
                            f"({float(w[at])!r}).")
    if known.any() and not np.any(w[known] > 0):
        raise DataError(f"Every one of the {name} is zero: there is nothing to fit.")
    return w


def model_weights(raw: np.ndarray, weight_type: str) -> np.ndarray:
    """The multipliers of the rows' log-likelihoods: analytic weights rescaled to sum to
    the number of rows (Stata's convention), the others as given.

    Examples
    --------
    >>> model_weights(np.array([1.0, 3.0]), "analytic")
    array([0.5, 1.5])
    """
    if weight_type == "analytic":
        return raw * (len(raw) / raw.sum())
    return raw


def effective_n(weights: np.ndarray | None, weight_type: str | None, n_rows: int) -> int:
    """``n_obs``: the sum of frequency weights, or else the number of rows.

    Examples
    --------
    >>> effective_n(np.array([1.0, 2.0, 3.0]), "frequency", 3)
    6
    """
    if weight_type == "frequency":
        return int(round(float(np.sum(weights))))
    return n_rows


def refuse_pseudo_likelihood(weight_type: str | None, what: str, instead: str) -> None:
    """Refuse ``what`` (a likelihood-ratio test, a profile interval) of a fit with probability
    weights, whose pseudo-log-likelihood differences are not chi-squared; say what to use."""
    if weight_type == "probability":
        raise SpecificationError(
            f"{what} needs a likelihood, and a fit with probability weights maximizes a "
            f"pseudo-log-likelihood, whose differences are not chi-squared; use {instead}.")


def refuse_model_based(kind: str, weight_type: str | None) -> None:
    """Refuse a model-based covariance of a probability-weighted (pseudo-likelihood) fit."""
    if weight_type == "probability" and kind in MODEL_BASED:
        raise SpecificationError(
            f"cov={kind!r} is not valid with probability weights: the weighted sum is a "
            "pseudo-log-likelihood, whose information matrix does not estimate the "
            "variance of the estimates; use cov='robust' (the default with probability "
            "weights), 'HC0', 'HC1' or 'cluster'.")
