"""Tables of fits for reports: one fit's header, several fits side by side, and an array
parameter in its own shape.

Both are plain pandas objects, so that a whole summary exports from Python with pandas'
own writers (``to_latex``, ``to_html``, ``to_markdown``, ``to_csv``), not only from the
command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .exceptions import SpecificationError
from .models.parameters import element_names

__all__ = ["header", "side_by_side", "array_table", "STATISTICS"]

#: the fit statistics under the coefficients of a side-by-side table
STATISTICS = ("n_obs", "loglik", "aic", "bic")


def header(result) -> pd.Series:
    """What a fit is and how it went: family (or likelihood), formula, n_obs, n_dropped,
    loglik, aic, bic, converged, n_iter, method and covariance kind.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> header(res)[["family", "n_obs", "cov"]].tolist()
    ['logit', 32, 'observed']
    """
    return pd.Series({"family": result.model.label, "formula": result.formula,
                      "n_obs": result.n_obs, "n_dropped": result.n_dropped,
                      "loglik": result.loglik, "aic": result.aic, "bic": result.bic,
                      "converged": result.converged, "n_iter": result.n_iter,
                      "method": result.method, "cov": result.cov_type},
                     name="header", dtype=object)


def _named(fits) -> dict:
    if isinstance(fits, Mapping):
        named = dict(fits)
    elif isinstance(fits, Sequence) and not isinstance(fits, str):
        named = {f"({i + 1})": fit for i, fit in enumerate(fits)}
    else:
        raise SpecificationError("side_by_side takes a list of fits or a dict from column name "
                                 f"to fit; got {type(fits).__name__}.")
    if not named:
        raise SpecificationError("side_by_side needs at least one fit.")
    for name, fit in named.items():
        if not (hasattr(fit, "params") and hasattr(fit, "se") and hasattr(fit, "loglik")):
            raise SpecificationError(f"The entry {name!r} of side_by_side is not a fit result; "
                                     f"got {type(fit).__name__}.")
    return named


def side_by_side(fits) -> pd.DataFrame:
    """Several fits in one table: a column per fit, for each parameter its estimate and
    standard error, then ``n_obs``, ``loglik``, ``aic`` and ``bic``.

    Parameters
    ----------
    fits : list of FitResult, or dict from column name to FitResult
        Columns are named ``(1)``, ``(2)``, ... for a list. Parameters are listed in the
        order they first appear; a parameter a fit does not have is NaN in its column.

    Returns
    -------
    pandas.DataFrame
        Rows indexed by ``(term, statistic)``: ``(name, "estimate")`` and ``(name, "se")``
        for every parameter, then ``(statistic, "")`` for the fit statistics. Each fit's
        covariance kind is in ``attrs["cov"]``. Numbers are kept as numbers: format them
        when writing, e.g. ``table.to_latex(float_format="%.3f")``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> df = fk.datasets.load("spector")
    >>> small = fk.fit("GRADE ~ GPA", data=df, family="logit")
    >>> big = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit")
    >>> table = side_by_side({"small": small, "big": big})
    >>> table.loc[("PSI", "estimate")].round(3).tolist()
    [nan, 2.379]
    >>> table.loc[("n_obs", "")].tolist()
    [32.0, 32.0]
    """
    named = _named(fits)
    terms = list(dict.fromkeys(n for fit in named.values() for n in fit.params.index))
    overlap = sorted(set(terms) & set(STATISTICS))
    if overlap:
        raise SpecificationError(f"A parameter is named like a fit statistic ({overlap}); "
                                 "rename it to put the fits side by side.")
    rows = [(t, s) for t in terms for s in ("estimate", "se")] + [(s, "") for s in STATISTICS]
    index = pd.MultiIndex.from_tuples(rows, names=["term", "statistic"])
    table = pd.DataFrame(np.nan, index=index, columns=list(named), dtype=float)
    for column, fit in named.items():
        params, se = fit.params, fit.se
        for term in params.index:
            table.loc[(term, "estimate"), column] = float(params[term])
            table.loc[(term, "se"), column] = float(se[term])
        for statistic in STATISTICS:
            table.loc[(statistic, ""), column] = float(getattr(fit, statistic))
    table.attrs["cov"] = {column: fit.cov_type for column, fit in named.items()}
    return table


def array_table(result, name: str, column: str = "estimate", alpha: float = 0.05):
    """One array-valued parameter of a fit (an :class:`fisherkit.Array` of a
    :class:`fisherkit.Likelihood`) laid out in its own shape.

    Parameters
    ----------
    result : FitResult
    name : str
        The parameter's name, whose elements the fit reports as ``name[i]`` or
        ``name[i,j]`` (:func:`fisherkit.models.parameters.element_names`).
    column : str
        A column of ``result.summary(alpha)``: ``"estimate"``, ``"se"``, ``"z"``,
        ``"p_value"``, ``"ci_lower"`` or ``"ci_upper"``.
    alpha : float
        The level of the intervals, for ``"ci_lower"`` and ``"ci_upper"``.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        A vector as a Series indexed by position, a matrix as a DataFrame with rows and
        columns labelled by position (element ``[i, j]`` at row ``i``, column ``j``), a
        higher-dimensional array as a Series indexed by position tuples; ``attrs`` hold
        ``parameter``, ``column`` and ``alpha``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> import numpy as np
    >>> import fisherkit as fk
    >>> def gaussian(p, data):
    ...     return -0.5 * anp.sum((data - p["m"].ravel()) ** 2, axis=1)
    >>> data = np.arange(12.0).reshape(3, 4)
    >>> res = fk.fit_likelihood(fk.Likelihood(gaussian, data, params={"m": np.zeros((2, 2))}))
    >>> array_table(res, "m").round(6).to_numpy().tolist()
    [[4.0, 5.0], [6.0, 7.0]]
    """
    table = result.summary(alpha)
    if column not in table.columns:
        raise SpecificationError(f"The 'column' must be one of {list(table.columns)}; got "
                                 f"{column!r}.")
    element = re.compile(re.escape(name) + r"\[(\d+(?:,\d+)*)\]")
    positions = [tuple(int(i) for i in m.group(1).split(",")) for m in map(element.fullmatch,
                                                                           table.index) if m]
    if not positions or len({len(p) for p in positions}) > 1:
        scalar = " (a scalar: read res.params instead)" if name in table.index else ""
        raise SpecificationError(f"The fit has no array parameter {name!r}{scalar}; its "
                                 f"parameters are {list(table.index)}.")
    shape = tuple(int(n) + 1 for n in np.max(positions, axis=0))
    values = table[column].reindex(element_names(name, shape)).to_numpy().reshape(shape)
    if len(shape) == 1:
        out = pd.Series(values, name=name)
    elif len(shape) == 2:
        out = pd.DataFrame(values)
    else:
        out = pd.Series(values.ravel(), index=pd.MultiIndex.from_tuples(list(np.ndindex(*shape))),
                        name=name)
    out.attrs.update(parameter=name, column=column, alpha=alpha)
    return out
