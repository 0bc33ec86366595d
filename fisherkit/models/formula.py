"""From a formula and a DataFrame to the arrays a model needs, with missing data handled.

Formulas are parsed and materialized by formulaic, so coefficient names follow its
conventions (``Intercept``, ``C(group)[T.b]``, ``np.log(x)``). Rows with a missing value in
any used column are dropped and counted; every other problem with the data is an error that
names the column.

What each kind of column means (numbers, booleans as 0 / 1, ``object`` numbers as numbers,
text and categories as categoricals; mixed, complex, date and duration columns refused) is
decided in :mod:`fisherkit.models.columns`, before formulaic sees the data. formulaic's own
errors (a syntax error, a factor it cannot evaluate) are reported as
:class:`~fisherkit.exceptions.SpecificationError` naming the formula.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from formulaic import Formula, SimpleFormula, model_matrix
from formulaic.errors import FormulaicError

from ..exceptions import DataError, SpecificationError
from ..validation import MISSING, check_choice, spoken_list
from .columns import categorical_only, check_unique_label, numeric_option, prepare_columns
from .design_checks import (
    check_constant_columns,
    check_design_columns,
    check_enough_rows,
    check_outcome_size,
    check_rows_left,
    check_some_parameter,
    design_direction,
)
from .family import Family
from .weights import check_weight_type, check_weights, model_weights

__all__ = ["ModelData", "build_data", "check_constant_columns", "check_enough_rows"]


@dataclass(frozen=True)
class ModelData:
    """The numeric content of a model: outcome, designs, offsets and extra data.

    ``designs`` and ``offsets`` are keyed by the family's predictor names; ``aux`` holds the
    per-observation extras the log-density takes (``trials``, ``event``). ``specs`` holds
    formulaic's ``ModelSpec`` of each design (new rows are built with it), and
    ``offset_columns`` the column each offset read from a column came from, by predictor
    (offsets given as arrays are not in it).
    """

    y: np.ndarray
    designs: dict[str, np.ndarray]
    column_names: dict[str, tuple[str, ...]]
    offsets: dict[str, np.ndarray | None]
    aux: dict[str, np.ndarray]
    levels: tuple | None = None
    outcome: str = "y"
    n_dropped: int = 0
    index: pd.Index | None = None
    cluster: np.ndarray | None = None
    specs: dict = field(default_factory=dict)
    offset_columns: dict[str, str] = field(default_factory=dict)
    weights: np.ndarray | None = None
    weight_type: str | None = None

    @property
    def n_obs(self) -> int:
        """Rows held (a model's ``n_obs`` counts frequency weights)."""
        return len(self.y)

    def take(self, rows: np.ndarray | slice) -> "ModelData":
        """The same model data restricted to some rows (for mini-batches and partitions)."""
        def sub(a):
            return None if a is None else a[rows]
        return ModelData(
            y=self.y[rows], designs={k: v[rows] for k, v in self.designs.items()},
            column_names=self.column_names, offsets={k: sub(v) for k, v in self.offsets.items()},
            aux={k: v[rows] for k, v in self.aux.items()}, levels=self.levels,
            outcome=self.outcome, n_dropped=0, index=None, cluster=sub(self.cluster),
            specs=self.specs, offset_columns=self.offset_columns, weights=sub(self.weights),
            weight_type=self.weight_type,
        )


def _as_column(value, data: pd.DataFrame, what: str) -> pd.Series:
    """A keyword given as a column name or as an array, aligned with the data's rows."""
    if isinstance(value, str):
        if value not in data.columns:
            raise DataError(f"The {what} column {value!r} is not in the data.")
        check_unique_label(data, value, f"{what} column {value!r}")
        return data[value]
    if isinstance(value, pd.Series) and not value.index.equals(data.index):
        # a Series is matched to the rows by its labels, never by position
        missing = data.index.difference(value.index)
        if value.index.has_duplicates or data.index.has_duplicates or len(missing):
            raise DataError(
                f"The {what} is a pandas Series whose index does not match the data's rows "
                f"({len(missing)} of the data's row labels are not in it, for example "
                f"{list(missing[:3])}); give a Series with the data's index, or an array in "
                "the data's row order.")
        value = value.reindex(data.index)
    arr = np.asarray(value)
    if arr.ndim > 1:
        raise DataError(f"The {what} must be one value per row (a column name or a 1-D array); "
                        f"got an array of shape {arr.shape}.")
    if arr.ndim != 1 or len(arr) != len(data):
        raise DataError(
            f"The {what} has {arr.shape[0] if arr.ndim else 1} values but the data has "
            f"{len(data)} rows; lengths must match."
        )
    return pd.Series(arr, index=data.index, name=what)


def _plain_design(rhs: str, frame: pd.DataFrame, drop_intercept: bool):
    """The design filled straight from the data, when every column is the intercept or a
    numeric column taken as it is (the common case for large data); else None.

    formulaic decides the columns (from the first rows, which is enough for such terms).
    Missing values are copied through, for the caller to find.
    Returns the design, its column names, the model spec and its :func:`design_summary`,
    gathered while the columns are copied, so that the data are read once.
    """
    spec = model_matrix(rhs, frame.iloc[:64], na_action="ignore").model_spec
    names = tuple(n for n in spec.column_names if not (drop_intercept and n == "Intercept"))
    variables = [str(v) for v in Formula(rhs).required_variables]
    plain = (all(v in names and _is_plain_numeric(frame[v]) for v in variables)
             and all(n == "Intercept" or n in variables for n in names))
    if not plain:
        return None
    n = len(frame)
    # column-major: each column is one contiguous copy of its source, and the scaled
    # blocks of the weighted products are formed along contiguous runs
    X = np.empty((n, len(names)), order="F")
    columns = [None if name == "Intercept" else frame[name].to_numpy(dtype=float)
               for name in names]
    direction = design_direction(n)
    lo, hi = np.ones(len(names)), np.ones(len(names))
    proj = np.full(len(names), float(np.sum(direction)))
    for j, col in enumerate(columns):
        if col is None or n == 0:
            X[:, j] = 1.0
            continue
        # copied and summarized in pieces, each read once while in cache; a NaN anywhere in
        # a column makes its minimum NaN, so the extremes also tell whether it is finite
        lo[j], hi[j], proj[j] = np.inf, -np.inf, 0.0
        for a in range(0, n, 131072):
            piece = col[a:a + 131072]
            X[a:a + 131072, j] = piece
            lo[j] = np.minimum(lo[j], piece.min())
            hi[j] = np.maximum(hi[j], piece.max())
            proj[j] += direction[a:a + 131072] @ piece
    return X, names, spec, (lo, hi, proj)


def _rows(X: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The kept rows of a column-major design, still column-major, taken column by column
    (indexing the whole matrix would return it row-major)."""
    out = np.empty((int(np.count_nonzero(keep)), X.shape[1]), order="F")
    for j in range(X.shape[1]):
        out[:, j] = X[:, j][keep]
    return out


def _formulaic_design(rhs: str, frame: pd.DataFrame, drop_intercept: bool, block: str):
    """The design materialized by formulaic, on data without missing values."""
    mm = model_matrix(rhs, frame, na_action="ignore")
    full = tuple(mm.model_spec.column_names)
    keep = [j for j, n in enumerate(full) if not (drop_intercept and n == "Intercept")]
    X = np.asfortranarray(mm.to_numpy(dtype=float)[:, keep])
    names = tuple(full[j] for j in keep)
    # the data are complete here, so anything not finite was made by a transform
    bad = ~np.isfinite(X)
    if bad.any():
        j = int(np.argmax(bad.any(axis=0)))
        raise DataError(f"The term {names[j]!r} of the {block!r} design is not finite in "
                        f"{int(bad[:, j].sum())} row(s) (for example a log of zero); drop or "
                        "recode them.")
    return X, names, mm.model_spec, None


def _is_plain_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _formulaic_errors(build):
    """formulaic's own errors (syntax, a factor it cannot evaluate) as a SpecificationError
    naming the formula, in place of formulaic's exception classes."""
    @functools.wraps(build)
    def wrapper(formula, *args, **kwargs):
        try:
            return build(formula, *args, **kwargs)
        except FormulaicError as exc:
            # formulaic marks the place of a syntax error with terminal colour codes
            text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).replace("⧛", ">>").replace("⧚", "<<")
            text = " ".join(text.split())
            raise SpecificationError(f"The formula {formula!r} cannot be used: {text}") from None
    return wrapper


@_formulaic_errors
def build_data(formula: str, data: pd.DataFrame, family: Family, *, offset=None,
               missing: str = "drop", cluster=None, weights=None, weight_type=None,
               check_design: bool = True, **aux_columns) -> ModelData:
    """Arrays for ``family`` from ``formula`` evaluated on ``data``.

    Parameters
    ----------
    formula : str
        ``"outcome ~ terms"`` in formulaic syntax.
    data : pandas.DataFrame
    family : Family
    offset : str or array-like, optional
        Added to the linear predictor taking the formula's right-hand side (exposure:
        ``np.log(t)``); the others take theirs from ``fk.Predictor(offset=)``.
    missing : {"drop", "raise"}
        What to do with rows that have a missing value in a used column.
    cluster : str or array-like, optional
        Group labels for cluster-robust covariance.
    weights, weight_type : str or array-like, and str, optional
        Observation weights and what they mean (see :mod:`fisherkit.models.weights`); rows
        of zero weight are dropped with those of missing values, and counted with them.
    check_design : bool
        Check that the design identifies the model (no constant or duplicated columns, more
        rows than parameters). One partition of a larger data set is not checked alone:
        :mod:`fisherkit.distributed.build` checks the whole instead.
    **aux_columns
        The family's extra data by name (``trials=``, ``event=``).

    Examples
    --------
    >>> import pandas as pd
    >>> from fisherkit.models.builtins import make_family
    >>> df = pd.DataFrame({"y": [0, 1, 1, 0], "x": [1.0, 2.0, 3.0, None]})
    >>> build_data("y ~ x", df, make_family("logit")).n_dropped
    1
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"'data' must be a pandas DataFrame; got {type(data).__name__}.")
    check_choice("missing", missing, MISSING)
    weight_type = check_weight_type(weights, weight_type)
    lhs, main, rhs_of = _split_formula(formula, family)
    used = _used_columns([lhs, *rhs_of.values()], data, formula)
    if "Intercept" in used:
        raise DataError("The formula uses the data column 'Intercept', which has the name "
                        "formulaic gives the intercept; rename the column (the intercept is "
                        "included unless the formula says 0 or -1).")
    data = prepare_columns(data, used, categorical_only([lhs, *rhs_of.values()]))
    offset_of = _offset_sources(family, main, offset)
    extras = _extra_columns(family, data, aux_columns,
                            {_offset_key(k, main): v for k, v in offset_of.items()}, cluster)
    if weights is not None:
        extras["weights"] = pd.Series(
            check_weights(_as_column(weights, data, "weights"), weight_type, data.index,
                          f"weights {weights!r}" if isinstance(weights, str) else "weights"),
            index=data.index)
    # Designs of plain numeric columns are built first, on all rows, with the extremes of
    # their columns, which tell at once whether any value is missing or infinite.
    plain = {key: _plain_design(part, data, family.drop_intercept and key == main)
             for key, part in rhs_of.items()}
    na, infinite = _incomplete_rows(data, used, lhs, rhs_of, plain, extras)
    frame = data
    if na.any() and missing == "raise":
        bad = [name for name in used if data[name].isna().any()]
        bad += [name for name, col in extras.items() if col.isna().any()]
        raise DataError(f"Missing values in column(s) {bad}, first at row "
                        f"{data.index[np.argmax(na)]!r} (missing='raise').")
    if "weights" in extras:
        # a row of weight zero is no observation at all
        na = na | (extras["weights"].to_numpy() == 0)
    if check_design:
        check_rows_left(data, na, {**{name: data[name] for name in used},
                                    **{f"{key}=": col for key, col in extras.items()}})
    if na.any():
        frame = data.loc[~na, used]
        extras = {k: v[~na] for k, v in extras.items()}
        plain = {k: None if b is None else (_rows(b[0], ~na), b[1], b[2], None)
                 for k, b in plain.items()}
    for name, bad in infinite.items():
        raise DataError(f"The column {name!r} holds infinite values, first at row "
                        f"{data.index[np.argmax(bad)]!r}; remove or recode them.")
    y, levels = _outcome(lhs, frame, family)
    designs, names, specs, summaries = {}, {}, {}, {}
    for key, part in rhs_of.items():
        built = plain[key] or _formulaic_design(part, frame, family.drop_intercept and key == main,
                                                key)
        designs[key], names[key], specs[key], summaries[key] = built
    n_params = sum(X.shape[1] for X in designs.values()) + len(family.params) - len(rhs_of)
    check_some_parameter(formula, family, n_params)
    n = len(frame)
    if check_design:
        # too few rows make every column look constant: say so first
        check_enough_rows(n, n_params, int(na.sum()))
        for key in rhs_of:
            check_design_columns(designs[key], names[key], key, summaries[key])
    names = {key: cols if key == main else tuple(f"{key}:{c}" for c in cols)
             for key, cols in names.items()}

    aux = {k: extras[k].to_numpy(dtype=float) for k in family.aux if k in extras}
    for key, make in family.default_aux.items():
        aux.setdefault(key, make(n))
    family.check_support(y, aux, lhs)
    check_outcome_size(y, lhs, frame.index)
    offsets = {k: extras[_offset_key(k, main)].to_numpy(dtype=float) if k in offset_of else None
               for k in rhs_of}
    clusters = extras["cluster"].to_numpy() if "cluster" in extras else None
    w = (model_weights(extras["weights"].to_numpy(dtype=float), weight_type)
         if "weights" in extras else None)
    return ModelData(y=y, designs=designs, column_names=names, offsets=offsets, aux=aux,
                     levels=levels, outcome=lhs, n_dropped=int(na.sum()), index=frame.index,
                     cluster=clusters, specs=specs,
                     offset_columns={k: v for k, v in offset_of.items() if isinstance(v, str)},
                     weights=w, weight_type=weight_type)


def _offset_sources(family: Family, main: str | None, offset) -> dict:
    """The offset of each linear predictor that has one: ``fit(offset=)`` for the one
    taking the formula's right-hand side, a predictor's own ``offset=`` for any."""
    sources = {k: s.offset for k, s in family.params.items()
               if s.has_design and s.offset is not None}
    if offset is not None:
        main = main or next(k for k, s in family.params.items() if s.has_design)
        if main in sources:
            raise SpecificationError(f"The predictor {main!r} has an offset of its own; give "
                                     "fit(offset=) or fk.Predictor(offset=), not both.")
        sources[main] = offset
    return sources


def _offset_key(key: str, main: str | None) -> str:
    """How an offset is named among the extra columns (and in messages about them)."""
    return "offset" if key == main else f"{key} offset"


def _split_formula(formula: str, family: Family):
    """The outcome expression, the predictor taking the formula's right-hand side, and the
    right-hand side of every predictor (its own formula, or an intercept alone)."""
    if not isinstance(formula, str) or "~" not in formula:
        raise SpecificationError(f"The formula must read 'outcome ~ terms'; got {formula!r}.")
    lhs, rhs = (part.strip() for part in formula.split("~", 1))
    if "~" in rhs:
        raise SpecificationError(f"The formula {formula!r} has more than one '~'; write it as "
                                 "'outcome ~ terms'.")
    if not lhs:
        raise SpecificationError(f"The formula {formula!r} has no outcome; write it as "
                                 "'outcome ~ terms'.")
    predictors = [k for k, s in family.params.items() if s.has_design]
    main = next((k for k in predictors if family.params[k].formula is None), None)
    rhs_of = {k: (rhs if k == main else (family.params[k].formula or "1").lstrip("~ ").strip()
                  or "1") for k in predictors}
    return lhs, main, rhs_of


def _used_columns(parts: list[str], data: pd.DataFrame, formula: str) -> list[str]:
    """The data columns the formula parts use, each once, in order of first use."""
    used: list[str] = []
    for part in parts:
        parsed = Formula(part if part else "1")
        if not isinstance(parsed, SimpleFormula):
            raise SpecificationError(f"The formula {formula!r} has a '|' that splits its terms "
                                     "into several formulas; write one 'outcome ~ terms'.")
        for var in sorted(parsed.required_variables, key=str):
            name = str(var)
            if name not in data.columns:
                close = difflib.get_close_matches(name, [str(c) for c in data.columns], n=3)
                hint = f"; did you mean {spoken_list(close)}?" if close else "."
                raise DataError(f"The formula {formula!r} uses {name!r}, which is not a column "
                                f"of the data (nor a function formulaic knows){hint}")
            used.append(name)
    return list(dict.fromkeys(used))


def _extra_columns(family: Family, data: pd.DataFrame, aux_columns: dict, offsets: dict,
                   cluster):
    """The family's extra data, the offsets (by :func:`_offset_key`) and the cluster labels
    as Series on the rows."""
    extras = {}
    for key in family.aux:
        if aux_columns.get(key) is not None:
            extras[key] = _numeric_extra(aux_columns.pop(key), data, key)
        elif key not in family.default_aux:
            raise SpecificationError(f"The {family.name} family needs '{key}=' (a column or array).")
    unknown = sorted(k for k, v in aux_columns.items() if v is not None)
    if unknown:
        takes = (f"its extra data are {list(family.aux)}" if family.aux
                 else "it takes no extra data")
        raise SpecificationError(f"The {family.name} family does not take {unknown}: {takes}, "
                                 "and fk.fit has no such option.")
    for key, source in offsets.items():
        extras[key] = _numeric_extra(source, data, key)
    if cluster is not None:
        extras["cluster"] = _as_column(cluster, data, "cluster")
    return extras


def _numeric_extra(value, data: pd.DataFrame, key: str) -> pd.Series:
    """An option carrying a number per row (``offset=``, ``trials=``, ``event=``)."""
    return numeric_option(_as_column(value, data, key), key,
                          value if isinstance(value, str) else None)


def _incomplete_rows(data, used, lhs, rhs_of, plain, extras):
    """Rows with a missing value in a used column, and per column the rows holding an
    infinite value; columns already read into a plain design are judged from it."""
    other_vars = {str(v) for key, part in rhs_of.items() if plain[key] is None
                  for v in Formula(part).required_variables}
    other_vars |= {str(v) for v in Formula(lhs if lhs else "1").required_variables}
    checked = {**{name: data[name] for name in used if name in other_vars
                  or not any(p is not None and name in p[1] for p in plain.values())},
               **extras}
    na = np.zeros(len(data), dtype=bool)
    infinite = {}
    for name, col in checked.items():
        if _is_plain_numeric(col) and not isinstance(col.dtype, pd.api.extensions.ExtensionDtype):
            values = col.to_numpy(dtype=float)
            # a finite sum rules out both NaN and inf with one read of the column
            if not np.isfinite(values.sum()):
                na |= np.isnan(values)
                if np.isinf(values).any():
                    infinite[name] = np.isinf(values)
        else:
            na |= col.isna().to_numpy()
    for built in plain.values():
        if built is not None and not (np.all(np.isfinite(built[3][0]))
                                      and np.all(np.isfinite(built[3][1]))):
            X, cols = built[0], built[1]
            na |= np.isnan(X).any(axis=1)
            for j in np.flatnonzero(np.isinf(X).any(axis=0)):
                infinite.setdefault(cols[j], np.isinf(X[:, j]))
    return na, infinite


def _outcome(lhs: str, frame: pd.DataFrame, family: Family):
    """The outcome as the family codes it (a column, or an expression of columns)."""
    if lhs in frame.columns:
        return family.prepare_outcome(frame[lhs], lhs)
    outcome = model_matrix(lhs, frame, na_action="ignore")
    if outcome.shape[1] != 1:
        raise DataError(f"The outcome {lhs!r} must be a single numeric column.")
    return family.prepare_outcome(pd.Series(outcome.to_numpy()[:, 0], index=frame.index), lhs)
