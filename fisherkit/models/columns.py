"""What each kind of column means to a formula, decided once, before formulaic sees it.

The policy, for every column a formula uses (outcome and covariates):

- Real numbers (float, integer, nullable ``Int64`` / ``Float64``) are numbers.
- Booleans (``bool``, nullable ``boolean``) are numbers, 0 and 1, as formulaic codes them:
  the coefficient is named after the column (``"treated"``), not ``"treated[T.True]"``.
  Write ``C(treated)`` for the categorical coding.
- An ``object`` column whose values are all numbers (or booleans), with ``None`` / NaN /
  ``pd.NA`` where missing, is numeric: it is converted to float and its missing rows are
  dropped. Without this formulaic would make a categorical with a level per distinct value.
- Text (``str``, ``string``, ``object`` of strings) and ``Categorical`` columns are
  categorical; ``None`` in them is missing.
- An ``object`` column mixing numbers and text (``"3.1"`` or ``"n/a"`` among numbers) is
  refused, naming the first value of the minority kind and its row: the mixture is almost
  always a reading error, and either guess (numbers, levels) could be silently wrong.
- Complex numbers, dates and times (``datetime64``, ``datetime.date`` objects), durations
  (``timedelta64``), periods, bytes and other Python objects are refused, with the
  conversion to pass instead.
- A column used only as ``C(column)`` is an explicit request for a categorical and is
  passed on unchanged, whatever its values (``C(month)`` of a period column works).

The options that carry numbers per row (``offset=``, ``trials=``, ``event=``, a family's
extra data) follow the numeric part of the same policy: numbers, booleans and ``object``
numbers are accepted; text, categories and the rest are refused naming the option.
"""

from __future__ import annotations

import numbers
from decimal import Decimal
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
from formulaic import Formula

from ..exceptions import DataError

__all__ = ["prepare_columns", "numeric_option", "categorical_only", "check_unique_label"]

# what ``pandas.api.types.infer_dtype`` calls an object column of numbers
_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "decimal", "boolean"}
_DATE_KINDS = {"datetime", "datetime64", "date", "time"}
_DURATION_KINDS = {"timedelta", "timedelta64"}


def prepare_columns(data: pd.DataFrame, used: Iterable[str],
                    categorical: Iterable[str] = ()) -> pd.DataFrame:
    """``data`` with each ``used`` column as a formula should see it, or a DataError.

    Columns in ``categorical`` (see :func:`categorical_only`) are passed on unchanged.
    The frame is returned as it is when no column needs converting, and otherwise a
    shallow copy with the converted columns replaced.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 4.0], "x": pd.Series([1, 2.5, None], dtype=object)})
    >>> prepare_columns(df, ["y", "x"])["x"].tolist()
    [1.0, 2.5, nan]
    """
    categorical = set(categorical)
    changed = {}
    for name in used:
        check_unique_label(data, name, f"column {name!r}")
        if name in categorical:
            continue
        col = data[name]
        new = _formula_column(col, name)
        if new is not col:
            changed[name] = new
    if not changed:
        return data
    frame = data.copy(deep=False)
    for name, col in changed.items():
        frame[name] = col
    return frame


def numeric_option(col: pd.Series, option: str, column: str | None = None) -> pd.Series:
    """The values of the option ``option`` (``offset``, ``trials``, ...) as numbers.

    ``column`` is the data column they were read from, if any (for the message). Booleans
    and ``object`` numbers become floats, missing values NaN; anything else is refused.

    Examples
    --------
    >>> import pandas as pd
    >>> numeric_option(pd.Series([True, False]), "event").tolist()
    [1.0, 0.0]
    >>> numeric_option(pd.Series(["a", "b"]), "offset")
    Traceback (most recent call last):
    ...
    fisherkit.exceptions.DataError: The offset= array holds text ('a' at row 0); offset= takes numbers: convert it with pd.to_numeric.
    """
    what = f"{option}= array" if column is None else f"{option}= column {column!r}"
    ref = f"pd.Series({option})" if column is None else f"df[{column!r}]"
    if _is_real(col):
        return col.astype(float) if pd.api.types.is_bool_dtype(col) else col
    kind = _kind(col)
    if kind in _NUMBER_KINDS or kind == "empty":
        return _to_float(col)
    if kind == "string" or _is_text(col) or isinstance(col.dtype, pd.CategoricalDtype):
        row = col.notna().to_numpy().argmax()
        value = col.iloc[row]
        held = "categories" if isinstance(col.dtype, pd.CategoricalDtype) else "text"
        raise DataError(f"The {what} holds {held} ({value!r} at row {_label(col.index[row])!r}); "
                        f"{option}= takes numbers: convert it with pd.to_numeric.")
    return _refuse(col, kind, what, ref, None)


def categorical_only(parts: Iterable[str]) -> set[str]:
    """The columns the formula ``parts`` use only as the first argument of ``C(...)``.

    Examples
    --------
    >>> sorted(categorical_only(["y", "C(g) + x + C(h):x", "h"]))
    ['g']
    """
    inside, elsewhere = set(), set()
    for part in parts:
        for factor in _factors(Formula(part if part.strip() else "1")):
            found = re.match(r"^C\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*[,)]", factor.expr)
            named = {str(v) for v in factor.required_variables}
            if found:
                inside.add(found.group(1))
                named.discard(found.group(1))
            elsewhere |= named
    return inside - elsewhere


def _factors(formula):
    """Every factor of a formula, through the parts of a structured one (``x | g``)."""
    for item in formula:
        if hasattr(item, "factors"):
            yield from item.factors
        else:
            yield from _factors(item)


def check_unique_label(data: pd.DataFrame, name: str, what: str) -> None:
    """Refuse a label that several columns of ``data`` carry (``data[name]`` would be a
    DataFrame, not a column).

    Examples
    --------
    >>> import pandas as pd
    >>> check_unique_label(pd.DataFrame([[1, 2]], columns=["x", "x"]), "x", "column 'x'")
    Traceback (most recent call last):
    ...
    fisherkit.exceptions.DataError: The data have 2 columns labelled 'x', so the column 'x' is ambiguous; rename or drop one (df.loc[:, ~df.columns.duplicated()] keeps the first).
    """
    if data.columns.is_unique:
        return
    count = int(np.sum(data.columns == name))
    if count > 1:
        raise DataError(f"The data have {count} columns labelled {name!r}, so the {what} is "
                        "ambiguous; rename or drop one (df.loc[:, ~df.columns.duplicated()] "
                        "keeps the first).")


def _formula_column(col: pd.Series, name: str) -> pd.Series:
    if _is_real(col) or isinstance(col.dtype, pd.CategoricalDtype):
        return col
    if isinstance(col.dtype, pd.StringDtype):
        # formulaic reads a StringDtype column holding pd.NA as numbers; as object text it
        # is a categorical like any other
        return col if col.dtype.na_value is not pd.NA else (
            col.astype(object).where(col.notna(), np.nan))
    kind = _kind(col)
    if kind in _NUMBER_KINDS or kind == "empty":
        return _to_float(col)
    if kind == "string" or _is_text(col):
        return col
    return _refuse(col, kind, f"column {name!r}", f"df[{name!r}]", name)


def _refuse(col: pd.Series, kind: str, what: str, ref: str, name: str | None):
    """A DataError saying what ``col`` holds and what to pass instead (or the column as
    floats, when its values are numbers of several Python types, such as ``True`` and 2.5).

    ``what`` names the column in the message, ``ref`` is the expression of its values in
    the suggested conversions, and ``name`` the formula's name for it, where ``C(name)``
    would make a categorical (None for an option, which cannot be one).
    """
    dtype = col.dtype
    as_levels = (lambda kind: "" if name is None else
                 f", or use C({name}) for a categorical with a level per {kind}")
    if pd.api.types.is_complex_dtype(dtype) or kind == "complex":
        raise DataError(f"The {what} holds complex numbers; a likelihood needs real ones: pass "
                        f"the real and imaginary parts as two columns (np.real({ref}), "
                        f"np.imag({ref})) or the modulus np.abs({ref}).")
    if pd.api.types.is_datetime64_any_dtype(dtype) or kind in _DATE_KINDS:
        dates = ref if pd.api.types.is_datetime64_any_dtype(dtype) else f"pd.to_datetime({ref})"
        raise DataError(f"The {what} holds dates or times ({dtype}); pass a number instead, "
                        f"such as days since a date: ({dates} - pd.Timestamp('2000-01-01'))"
                        f".dt.days, or a part of it ({dates}.dt.year){as_levels('date')}.")
    if pd.api.types.is_timedelta64_dtype(dtype) or kind in _DURATION_KINDS:
        raise DataError(f"The {what} holds durations ({dtype}); pass a number instead: "
                        f"{ref}.dt.total_seconds(), or {ref} / pd.Timedelta(days=1) for days.")
    if isinstance(dtype, pd.PeriodDtype) or kind == "period":
        raise DataError(f"The {what} holds periods ({dtype}); pass a number instead (such as "
                        f"{ref}.dt.year){as_levels('period')}.")
    return _refuse_mixed(col, what, ref, name)


def _refuse_mixed(col: pd.Series, what: str, ref: str, name: str | None) -> pd.Series:
    """Name the first value that is neither a number nor text, or else the first value of
    the rarer of the two (numbers among text, text among numbers)."""
    present = col.notna().to_numpy()
    values = col.to_numpy()[present]
    labels = [_label(v) for v in col.index[present]]
    is_number = np.array([isinstance(v, (numbers.Real, np.bool_, Decimal)) for v in values],
                         dtype=bool)
    is_text = np.array([isinstance(v, str) for v in values], dtype=bool)
    other = ~(is_number | is_text)
    if other.any():
        j = int(np.argmax(other))
        raise DataError(f"The {what} holds {type(values[j]).__name__} values ({values[j]!r}, "
                        f"first at row {labels[j]!r}); a formula takes numbers, text or "
                        "categories: convert the column to one of them.")
    if not is_text.any():
        return _to_float(col)
    rare, among = (is_text, "numbers") if is_number.sum() >= is_text.sum() else (is_number, "text")
    j = int(np.argmax(rare))
    raise DataError(f"The {what} mixes numbers and text: row {labels[j]!r} holds {values[j]!r} "
                    f"among {int((~rare).sum())} {among}. Convert it to numbers "
                    f"(pd.to_numeric({ref}, errors='coerce') makes text missing)"
                    + ("." if name is None else f", or use C({name}) for a categorical."))


def _label(value):
    """A row label as the user wrote it (5, not np.int64(5))."""
    return value.item() if isinstance(value, np.generic) else value


def _is_real(col: pd.Series) -> bool:
    """Real numbers or booleans, in a numpy or nullable dtype."""
    return ((pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype))
            and not pd.api.types.is_complex_dtype(col.dtype)
            and not isinstance(col.dtype, pd.CategoricalDtype))


def _is_text(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.StringDtype) or col.dtype.kind in "US"


def _kind(col: pd.Series) -> str:
    """What an object column holds, by ``infer_dtype`` (one pass in compiled code)."""
    if col.dtype != object:
        return "other"
    return pd.api.types.infer_dtype(col, skipna=True)


def _to_float(col: pd.Series) -> pd.Series:
    # None and pd.NA become NaN first: astype(float) refuses pd.NA
    return col.where(col.notna(), np.nan).astype(float)
