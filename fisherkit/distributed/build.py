"""A Dask model from a formula, a Dask DataFrame (or a parquet path) and a family.

Before the fit, one pass learns the levels of categorical columns (skipped for columns
whose levels are known: Dask categoricals with known categories, or ``levels=``) and what
``object`` columns hold, numbers or text, by the in-memory policy of
:mod:`fisherkit.models.columns`; one pass counts the rows used and dropped (and sums the
weights), checks the design on the whole data set and takes starting values from rows
sampled in every partition (all rows of a small data set).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from ..exceptions import DataError, SpecificationError
from ..models.family import Family
from ..models.index_model import Model
from ..models.weights import check_weight_type
from ..validation import MISSING, check_choice
from . import partitions as parts
from .model import ClusterColumn, DistributedData, DistributedModel, compute

__all__ = ["distributed_model", "is_dask_collection", "START_ROWS"]

#: rows sampled evenly across partitions for the starting values (all rows, up to this)
START_ROWS = 200_000


def is_dask_collection(value) -> bool:
    """Whether ``value`` is a Dask collection (a Dask DataFrame or Series), by the module
    of its type, so that telling needs no import of Dask."""
    return type(value).__module__.split(".")[0] in ("dask", "dask_expr")


def _client_for(client):
    """A ``distributed.Client`` from a client or a scheduler address, or None."""
    if client is None:
        return None
    from distributed import Client
    if isinstance(client, Client):
        return client
    if isinstance(client, str):
        return Client(client)
    raise SpecificationError(f"The 'client' must be a distributed.Client or a scheduler "
                             f"address; got {type(client).__name__}.")


def _read(data, columns: list[str] | None = None):
    import dask.dataframe as dd
    if isinstance(data, (str, os.PathLike)):
        if not os.path.exists(data) and "://" not in str(data):
            raise DataError(f"No parquet data at {str(data)!r}.")
        return dd.read_parquet(data, columns=columns)
    if not is_dask_collection(data) or not hasattr(data, "to_delayed"):
        raise DataError(f"'data' must be a pandas or Dask DataFrame or a parquet path; got "
                        f"{type(data).__name__}.")
    return data if columns is None else data[columns]


def _column_argument(frame, value, what: str):
    """A keyword given as a column name or as a Dask Series aligned with the data."""
    if value is None or isinstance(value, str):
        if value is not None and value not in frame.columns:
            raise DataError(f"The {what} column {value!r} is not in the data.")
        return frame, value
    if is_dask_collection(value) and hasattr(value, "to_delayed"):
        name = f"__fisherkit_{what}"
        return frame.assign(**{name: value}), name
    raise SpecificationError(f"On Dask, give {what}= as a column name or a Dask Series; got "
                             f"{type(value).__name__}.")


def _learned_levels(frame, used: list[str], wrapped: set, outcome: str, levels: dict):
    """Which columns are categorical, those whose levels a first pass must learn, and the
    ``object`` columns that pass must classify (numbers or text, as in memory: see
    :mod:`fisherkit.models.columns`). Other dtypes (dates, say) are left to the partitions,
    which refuse them as in memory."""
    import pandas as pd
    fixed, learn, classify = {}, [], []
    for column in used:
        if column == outcome:
            continue
        dtype = frame.dtypes[column]
        if column in levels:
            fixed[column] = tuple(levels[column])
        elif isinstance(dtype, pd.CategoricalDtype):
            if frame[column].cat.known:
                fixed[column] = tuple(frame[column].cat.categories)
            else:
                learn.append(column)
        elif column in wrapped or isinstance(dtype, pd.StringDtype) or dtype.kind in "US":
            learn.append(column)
        elif dtype == object:
            classify.append(column)
    return fixed, learn, classify


def _text_levels(found: list[dict], column: str):
    """The levels of an ``object`` column, or None when it holds numbers; a column holding
    numbers in some partitions and text in others is refused, as a mixed column is in
    memory."""
    kinds = {f[column]["kind"]: k for k, f in reversed(list(enumerate(found)))}
    if "text" not in kinds:
        return None
    if "numbers" in kinds:
        row, value = found[kinds["text"]][column]["first"]
        raise DataError(
            f"The column {column!r} mixes numbers and text: partition {kinds['numbers']} "
            f"holds numbers and partition {kinds['text']} text ({value!r} at row {row!r}). "
            f"Convert it to numbers (pd.to_numeric(df[{column!r}], errors='coerce') makes "
            f"text missing), or use C({column}) for a categorical.")
    values = [v for f in found if f[column]["kind"] == "text" for v in f[column]["values"]]
    return tuple(sorted(dict.fromkeys(values)))


def _weight_totals(summaries: list[dict], name: str) -> float:
    """The sum of the weights of the rows used, after refusing weights that are all zero
    (as in memory, over the whole data set rather than one partition)."""
    totals = [s["weights"] for s in summaries]
    if sum(t["known"] for t in totals) and not sum(t["positive"] for t in totals):
        raise DataError(f"Every one of the {name} is zero: there is nothing to fit.")
    return sum(t["sum"] for t in totals)


def distributed_model(formula: str, data, family: Family, *, offset=None, missing="drop",
                      cluster=None, weights=None, weight_type: str | None = None,
                      client=None, levels: dict | None = None, retries: int = 2,
                      **aux_columns) -> DistributedModel:
    """A :class:`DistributedModel` of ``formula`` on a Dask DataFrame or a parquet path.

    ``fk.fit`` calls it when ``data`` is a Dask DataFrame, or a path (str or
    ``os.PathLike``) to a parquet file or directory, which is read with
    ``dask.dataframe.read_parquet`` (only the columns the model uses).

    Parameters
    ----------
    formula, family, offset, missing, cluster
        As in :func:`fisherkit.fit`; ``offset=``, ``cluster=``, ``trials=``, ``event=`` and a
        family's own extras are column names (or Dask Series aligned with the data).
    weights, weight_type : str or Dask Series, and str, optional
        Observation weights, a column name (or a Dask Series aligned with the data), and
        what they mean, as in :func:`fisherkit.fit` (see :mod:`fisherkit.models.weights`):
        every number equals the in-memory fit's. Analytic weights are rescaled to sum to
        the rows of the whole data set (the sum is learned in the pass that counts the
        rows); rows of zero weight are dropped and counted in ``n_dropped``.
    client : distributed.Client or str, optional
        The cluster to run on, or its scheduler address (``"tcp://host:8786"``), for which a
        client is made and kept for the life of the result. Without it, a
        ``dask.distributed`` client made earlier in the session is used when there is one,
        else Dask's active scheduler (local threads by default).
    levels : dict, optional
        The levels of categorical columns (column name to a list), known in advance. Others
        are learned in one pass over the data before the fit; a partition holding a level
        not in its column's list is a ``DataError``.
    retries : int
        Times a task that raises an error (a failed read, say) is run again before the fit
        stops with :class:`DaskComputationError`: on a ``dask.distributed`` cluster Dask
        reruns the task (``Client.compute(retries=)``, whatever it raised); Dask's local
        schedulers run each task once, so there the pass is run again (but not for an
        error in the data, a ``DataError``, which would recur). A worker that dies is not
        counted here: the scheduler reruns its tasks on other workers up to Dask's
        ``distributed.scheduler.allowed-failures`` setting (3 by default, set where the
        scheduler starts), then the fit stops with :class:`DaskComputationError`.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import fisherkit as fk
    >>> df = fk.datasets.load("spector")
    >>> ddf = dd.from_pandas(df, npartitions=4)
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=ddf, family="logit")
    >>> res.model.data.n_partitions, res.summary().round(3).loc["PSI", ["estimate", "se"]].tolist()
    (4, [2.379, 1.065])

    With a cluster: ``client = distributed.Client(distributed.LocalCluster(n_workers=2))``
    then ``fk.fit(..., data=ddf, client=client)`` (or ``client="tcp://host:8786"``).
    """
    from dask import delayed
    check_choice("missing", missing, MISSING)
    if isinstance(retries, bool) or not isinstance(retries, (int, np.integer)) or retries < 0:
        raise SpecificationError(f"The 'retries' must be a non-negative integer; got "
                                 f"{retries!r}.")
    retries = int(retries)
    weight_type = check_weight_type(weights, weight_type)
    weights_name = f"weights {weights!r}" if isinstance(weights, str) else "weights"
    client = _client_for(client)
    frame = _read(data)
    lhs, formula_parts = parts.formula_variables(formula, family)
    used, wrapped = parts.categorical_candidates(formula_parts)
    for name in used:
        if name not in frame.columns:
            raise DataError(f"The formula uses {name!r}, which is not a column of the data.")
    frame, offset = _column_argument(frame, offset, "offset")
    frame, cluster = _column_argument(frame, cluster, "cluster")
    frame, weights = _column_argument(frame, weights, "weights")
    aux = {}
    for key, value in aux_columns.items():
        frame, aux[key] = _column_argument(frame, value, key)
    own = [s.offset for s in family.params.values() if s.has_design and s.offset is not None]
    for column in own:
        if not isinstance(column, str):
            raise SpecificationError("On Dask, give a fk.Predictor's offset= as a column name; "
                                     f"got {type(column).__name__}.")
        _column_argument(frame, column, "offset")
    columns = list(dict.fromkeys(used + [c for c in (offset, cluster, weights, *aux.values(),
                                                     *own) if c]))
    frame = _read(data, columns) if isinstance(data, (str, os.PathLike)) else frame[columns]
    fixed, learn, classify = _learned_levels(frame, used, wrapped, lhs, dict(levels or {}))
    ordinal = family.drop_intercept and lhs in frame.columns
    scan = learn + ([lhs] if ordinal else [])
    partitions = frame.to_delayed()
    outcome_levels = None
    if classify or scan:
        # one pass: what object columns hold, and the levels of the categorical ones
        both = compute(delayed([(delayed(parts.classify_partition)(p, k, classify),
                                 delayed(parts.scan_partition)(p, scan))
                                for k, p in enumerate(partitions)]),
                       "the levels of categorical columns", client, retries)
        found = [f for _, f in both]
        for column in classify:
            text = _text_levels([kinds for kinds, _ in both], column)
            if text is not None:
                fixed[column] = text
        for column in scan:
            values = np.concatenate([np.asarray(f[column], dtype=object) for f in found])
            values = list(dict.fromkeys(values.tolist()))
            if column == lhs:
                import pandas as pd
                meta = frame.dtypes[lhs]
                if isinstance(meta, pd.CategoricalDtype) and frame[lhs].cat.known:
                    values = pd.Categorical(values, categories=meta.categories,
                                            ordered=meta.ordered)
                outcome_levels = family.prepare_outcome(pd.Series(values), lhs)[1]
            else:
                try:
                    fixed[column] = tuple(sorted(values))
                except TypeError:  # C() of numbers and text: numbers first, as formulaic
                    fixed[column] = tuple(sorted(values, key=lambda v: (isinstance(v, str), v)))
    spec = parts.PartitionSpec(formula, parts.partition_family(family, outcome_levels), fixed,
                               outcome_levels, offset, cluster, aux, missing, weights,
                               weight_type)
    per_partition = max(1, START_ROWS // len(partitions))
    summaries = compute(delayed([delayed(parts.summarize_partition)(p, k, spec, per_partition)
                                  for k, p in enumerate(partitions)]),
                         "the rows and design checks", client, retries)
    template = Model(spec.family, summaries[0]["sample"].take(slice(0, 0)))
    n_rows = sum(s["n_obs"] for s in summaries)
    weight_total = None if weights is None else _weight_totals(summaries, weights_name)
    parts.check_whole_design(summaries, template.data.column_names, template.n_params)
    start = parts.pooled_start(spec.family, [s["sample"] for s in summaries])
    if weight_type == "analytic":
        spec = dataclasses.replace(spec, weight_scale=n_rows / weight_total)
    info = DistributedData(n_obs=n_rows, n_dropped=sum(s["n_dropped"] for s in summaries),
                           n_partitions=len(partitions), column_names=template.data.column_names,
                           levels=template.data.levels, outcome=lhs,
                           cluster=None if cluster is None else ClusterColumn(cluster, n_rows),
                           weight_type=weight_type, weight_total=weight_total)
    return DistributedModel(frame, spec, family, template, info, start, client=client,
                            retries=retries)
