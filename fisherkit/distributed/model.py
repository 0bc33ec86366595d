"""Fits on data larger than memory: a Dask DataFrame or a parquet data set.

The log-likelihood, the score, the Hessian, the expected information, the outer product of
scores and cluster-summed scores are all sums over rows. So every step of the optimizer is
one map over the partitions, each computing its pieces with the in-memory code, and one
small reduction of ``p``-vectors and ``p x p`` matrices (:mod:`fisherkit.distributed.partitions`).
Dask runs the graph: local threads by default, a ``dask.distributed`` cluster when a
client exists, is given as ``client=``, or an address is given instead.

Before the fit, one pass learns the levels of categorical columns (skipped for columns
whose levels are known: Dask categoricals with known categories, or ``levels=``) and one
pass counts the rows used and dropped, checks the design on the whole data set and takes
starting values from rows sampled in every partition (all rows of a small data set). Each
evaluation computes at once what the step may need next (the Hessian for Newton, the
expected information for Fisher scoring), and the first standard error asked for other
than the observed one computes the expected information, the outer product of scores and
the cluster sums together, in one more pass (so keep the client open until then).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..exceptions import DataError, SpecificationError
from ..models.expected import ExpectedInformation
from ..models.family import Family
from ..models.index_model import Model
from ..models.protocol import refuse_subset
from ..validation import MISSING, check_choice
from . import partitions as parts

__all__ = ["DistributedModel", "DistributedData", "DaskComputationError", "NotInMemoryError",
           "distributed_model"]

#: rows sampled evenly across partitions for the starting values (all rows, up to this)
START_ROWS = 200_000
_EXPECTED_DEFAULTS = (("draws", 200), ("max_terms", 100_000), ("method", "auto"), ("seed", 0),
                      ("tail", 1e-12))


class DaskComputationError(RuntimeError):
    """A pass over the partitions failed (a task raised, or workers were lost beyond
    Dask's retries); no result is returned."""


class NotInMemoryError(SpecificationError, AttributeError):
    """A per-row quantity was asked of a model whose rows live in Dask partitions."""


class _ClusterColumn:
    """The cluster labels of a Dask fit: a column read partition by partition."""

    def __init__(self, column: str, n_obs: int):
        self.column, self.n_obs = column, n_obs

    def __len__(self) -> int:
        return self.n_obs

    def __repr__(self) -> str:
        return f"<cluster column {self.column!r}, {self.n_obs} rows>"


@dataclass(frozen=True)
class DistributedData:
    """What a Dask fit knows of its data: counts, names and levels, never rows."""

    n_obs: int
    n_dropped: int
    n_partitions: int
    column_names: dict
    levels: tuple | None
    outcome: str
    cluster: _ClusterColumn | None = None

    def __getattr__(self, name):
        raise NotInMemoryError(f"The data of a Dask fit are not held in memory, so there is no "
                               f"{name!r}; compute it partition by partition, or fit a sample "
                               "in memory.")


def _is_dask_collection(value) -> bool:
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
    if not _is_dask_collection(data) or not hasattr(data, "to_delayed"):
        raise DataError(f"'data' must be a pandas or Dask DataFrame or a parquet path; got "
                        f"{type(data).__name__}.")
    return data if columns is None else data[columns]


class DistributedModel:
    """A model whose rows live in Dask partitions; the same interface as :class:`Model`
    for everything that is a sum over rows.

    Made by :func:`distributed_model` (which ``fk.fit`` calls for Dask or parquet data).
    Results are cached by parameter vector, so that an optimizer asking for the
    log-likelihood, then the score and Hessian at the same point, costs one pass.

    Pickled (with its fit's result), the model keeps the numbers already computed (the
    sums cached at the last points it was asked about, and every matrix its results hold:
    the Hessian, and the expected information, outer product of scores and cluster sums
    once a standard error other than the observed one was read), but neither the frame's
    graph nor the client: a graph may hold every row (``from_pandas``), and a cluster does
    not travel. An unpickled model refuses any new pass over the data with a
    :class:`fisherkit.SpecificationError` that says to refit; read what the result should
    keep (``with_cov("sandwich").se``, say) before pickling it.
    """

    def __init__(self, frame, spec: parts.PartitionSpec, family: Family, template: Model,
                 data: DistributedData, start: np.ndarray, *, client=None, retries: int = 2):
        self._frame, self._spec, self._client, self._retries = frame, spec, client, retries
        self._template, self._start = template, start
        self.passes = 0
        self._cache: OrderedDict = OrderedDict()
        self.family, self.data = family, data
        self.prefetch(())
        self.blocks, self.n_params = template.blocks, template.n_params
        self.names, self.working_names = template.names, template.working_names

    def __repr__(self) -> str:
        return (f"<DistributedModel {self.family.name}: {self.n_obs} rows in "
                f"{self.data.n_partitions} partitions>")

    def __getstate__(self) -> dict:
        """Everything but the frame and the client (see the class's docstring)."""
        return {**vars(self), "_frame": None, "_client": None}

    @property
    def n_obs(self) -> int:
        return self.data.n_obs

    @property
    def label(self) -> str:
        return self.family.name

    def outcome_values(self) -> None:
        """The outcome stays in the partitions."""
        return None

    def subset(self, rows):
        refuse_subset("DistributedModel")

    # ---- passes over the data ---------------------------------------------------------

    def _compute(self, graph, what: str):
        self.passes += 1
        return _compute(graph, what, self._client, self._retries)

    def prefetch(self, pieces: tuple[str, ...]) -> None:
        """Compute ``pieces`` (of :data:`fisherkit.models.protocol.PIECES`) in the same pass
        as every log-likelihood and score; whether the fit ends in separation is counted
        in that pass too, for the families that can separate."""
        step = ("loglik", "score") + tuple(
            ("expected", _EXPECTED_DEFAULTS) if p == "expected" else p for p in pieces)
        if self.family.can_separate:
            step += ("separated",)  # checked at the estimate: no pass of its own
        self._step = step

    def _pass(self, theta: np.ndarray, want: tuple, soft: tuple = ()) -> dict:
        from dask import delayed
        if self._frame is None:
            raise SpecificationError(
                f"This Dask fit was unpickled without its data, so it cannot compute "
                f"{', '.join(str(w if isinstance(w, str) else w[0]) for w in want)} with a "
                "new pass over the partitions; it keeps only the numbers computed before "
                "pickling. Refit on the data for more.")
        theta = np.array(theta, dtype=float)
        tasks = [delayed(parts.partition_pieces, pure=True)(part, k, self._spec, theta, want,
                                                           soft)
                 for k, part in enumerate(self._frame.to_delayed())]
        while len(tasks) > 1:  # a tree of small reductions
            tasks = [delayed(parts.combine_pieces, pure=True)(*tasks[i:i + 8])
                     for i in range(0, len(tasks), 8)]
        return self._compute(tasks[0], ", ".join(str(w if isinstance(w, str) else w[0])
                                                 for w in want))

    def _pieces(self, theta, need: tuple, extra: tuple = (), soft: tuple = ()) -> dict:
        key = np.asarray(theta, dtype=float).tobytes()
        cached = self._cache.get(key, {})
        if any(name not in cached for name in need):
            want = tuple(dict.fromkeys(need + tuple(n for n in extra if n not in cached)))
            cached = {**cached, **self._pass(theta, want, soft)}
            self._cache[key] = cached
            while len(self._cache) > 16:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        for name in need:
            if isinstance(cached.get(name), parts.Failure):
                raise cached[name].error
        return cached

    def _se_pieces(self) -> tuple:
        """Computed together the first time any of them is needed at a point."""
        out = [("expected", _EXPECTED_DEFAULTS), "opg"]
        return tuple(out + (["groups"] if self.data.cluster is not None else []))

    # ---- the Model interface ------------------------------------------------------------

    def start_values(self) -> np.ndarray:
        """Starting values from rows sampled evenly in every partition (from all rows
        when there are at most ``START_ROWS``, as in memory)."""
        return self._start.copy()

    def loglik(self, theta) -> float:
        value = self._pieces(theta, ("loglik",), self._step)["loglik"]
        return value if np.isfinite(value) else -np.inf

    def derivatives(self, theta, second: bool = True):
        need = ("loglik", "score") + (("hessian",) if second else ())
        out = self._pieces(theta, need, self._step)
        return float(out["loglik"]), out["score"].copy(), (out["hessian"].copy() if second
                                                           else None)

    def score(self, theta) -> np.ndarray:
        return self.derivatives(theta, second=False)[1]

    def hessian(self, theta) -> np.ndarray:
        return self.derivatives(theta)[2]

    def opg(self, theta) -> np.ndarray:
        return self._pieces(theta, ("opg",), self._se_pieces(), soft=self._se_pieces())["opg"].copy()

    def group_scores(self, theta, groups) -> np.ndarray:
        """Scores summed within the fit's clusters (labels from its ``cluster=`` column)."""
        if groups is not self.data.cluster or groups is None:
            raise SpecificationError("On Dask, cluster labels come from a column: fit with "
                                     "cluster='column'.")
        pieces = self._pieces(theta, ("groups",), self._se_pieces(), soft=self._se_pieces())
        return pieces["groups"].to_numpy()

    def expected_information(self, theta, **options) -> ExpectedInformation:
        """The expected information summed over partitions (see
        :func:`fisherkit.models.expected.expected_information` for the options).

        Monte Carlo draws of each partition come from their own stream of ``seed``, so they
        differ from an in-memory draw; the Monte Carlo standard error of the sum combines
        the partitions' independent errors.
        """
        name = ("expected", tuple(sorted(options.items())))
        if isinstance(options.get("seed"), np.random.Generator):
            return self._expected_from(self._pass(theta, (name,))[name])
        soft = self._se_pieces() if name[1] == _EXPECTED_DEFAULTS else ()
        return self._expected_from(self._pieces(theta, (name,), soft, soft=soft)[name])

    @staticmethod
    def _expected_from(piece: dict) -> ExpectedInformation:
        mc = piece["mc_var"]
        return ExpectedInformation(piece["matrix"].copy(), piece["method"],
                                   mc_se=None if mc is None else np.sqrt(mc),
                                   tail_bound=piece["tail_bound"], draws=piece["draws"])

    def count_separated(self, theta) -> int:
        """Observations fitted within 1e-8 of their binary outcome, over all partitions."""
        return int(self._pieces(theta, ("separated",))["separated"])

    def step_divergence(self, path: np.ndarray) -> np.ndarray:
        """NaN: the divergence would cost a pass over the partitions per step, so none is computed."""
        return np.full(len(path), np.nan)

    def post_fit_checks(self, theta):
        return self.family.post_fit_checks(self, theta)

    def design_for(self, data=None, *, offset=None):
        """New rows in a pandas DataFrame through the template model; the fitted rows stay
        in the partitions, so ``data`` is needed."""
        if data is None:
            raise NotInMemoryError("The rows of a Dask fit are in its partitions: give the "
                                   "rows to predict at as a pandas DataFrame (data=).")
        return self._template.design_for(data, offset=offset)

    def eta_for(self, theta, rows):
        return self._template.eta_for(theta, rows)

    def theta_gradients(self, G, rows, part):
        return self._template.theta_gradients(G, rows, part)

    @property
    def link_column(self) -> int:
        return self._template.link_column

    def fitted_outcome(self, theta):
        raise NotInMemoryError("Residuals are per fitted row, and the rows of a Dask fit are "
                               "in its partitions; fit a sample in memory for them.")

    def to_natural(self, theta):
        return self._template.to_natural(theta)

    def natural_jacobian(self, theta) -> np.ndarray:
        return self._template.natural_jacobian(theta)

    def to_working(self, natural) -> np.ndarray:
        return self._template.to_working(natural)

    def own_coordinate(self, index: int) -> bool:
        return self._template.own_coordinate(index)

    def can_be_zero(self, index: int) -> bool:
        return self._template.can_be_zero(index)

    def __getattr__(self, name):
        if hasattr(Model, name):
            raise NotInMemoryError(f"Model.{name} works on the rows in memory; a Dask fit keeps "
                                   "only sums over partitions. Fit a sample in memory for it.")
        raise AttributeError(name)


def _default_client():
    try:
        from distributed import default_client
        return default_client()
    except (ImportError, ValueError):
        return None


def _compute(graph, what: str, client, retries: int):
    """Run a graph on the given client, else on the default client, else on Dask's
    active scheduler (threads unless configured otherwise); Dask retries tasks of lost
    workers, and anything that still fails stops the fit."""
    try:
        client = client if client is not None else _default_client()
        if client is not None:
            return client.compute(graph, retries=retries).result()
        import dask
        return dask.compute(graph)[0]
    except (DataError, SpecificationError, FloatingPointError):
        raise
    except Exception as exc:
        raise DaskComputationError(f"The pass over the partitions computing {what} failed "
                                   f"({type(exc).__name__}: {exc}); no result is "
                                   "returned.") from exc


def _column_argument(frame, value, what: str):
    """A keyword given as a column name or as a Dask Series aligned with the data."""
    if value is None or isinstance(value, str):
        if value is not None and value not in frame.columns:
            raise DataError(f"The {what} column {value!r} is not in the data.")
        return frame, value
    if _is_dask_collection(value) and hasattr(value, "to_delayed"):
        name = f"__fisherkit_{what}"
        return frame.assign(**{name: value}), name
    raise SpecificationError(f"On Dask, give {what}= as a column name or a Dask Series; got "
                             f"{type(value).__name__}.")


def _learned_levels(frame, used: list[str], wrapped: set, outcome: str, levels: dict):
    """Which columns are categorical, and those whose levels a first pass must learn."""
    import pandas as pd
    fixed, learn = {}, []
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
        elif (not pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
              or column in wrapped):
            learn.append(column)
    return fixed, learn


def distributed_model(formula: str, data, family: Family, *, offset=None, missing="drop",
                      cluster=None, client=None, levels: dict | None = None, retries: int = 2,
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
        Times the distributed scheduler reruns a failed task (a lost worker, say) before
        the fit stops with :class:`DaskComputationError`.

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
    client = _client_for(client)
    frame = _read(data)
    lhs, formula_parts = parts.formula_variables(formula, family)
    used, wrapped = parts.categorical_candidates(formula_parts)
    for name in used:
        if name not in frame.columns:
            raise DataError(f"The formula uses {name!r}, which is not a column of the data.")
    frame, offset = _column_argument(frame, offset, "offset")
    frame, cluster = _column_argument(frame, cluster, "cluster")
    aux = {}
    for key, value in aux_columns.items():
        frame, aux[key] = _column_argument(frame, value, key)
    columns = list(dict.fromkeys(used + [c for c in (offset, cluster, *aux.values()) if c]))
    frame = _read(data, columns) if isinstance(data, (str, os.PathLike)) else frame[columns]
    fixed, learn = _learned_levels(frame, used, wrapped, lhs, dict(levels or {}))
    ordinal = family.drop_intercept and lhs in frame.columns
    scan = learn + ([lhs] if ordinal else [])
    partitions = frame.to_delayed()
    outcome_levels = None
    if scan:
        found = _compute(delayed([delayed(parts.scan_partition)(p, scan) for p in partitions]),
                         "the levels of categorical columns", client, retries)
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
                fixed[column] = tuple(sorted(values))
    spec = parts.PartitionSpec(formula, parts.partition_family(family, outcome_levels), fixed,
                               outcome_levels, offset, cluster, aux, missing)
    per_partition = max(1, START_ROWS // len(partitions))
    summaries = _compute(delayed([delayed(parts.summarize_partition)(p, k, spec, per_partition)
                                  for k, p in enumerate(partitions)]),
                         "the rows and design checks", client, retries)
    template = Model(spec.family, summaries[0]["sample"].take(slice(0, 0)))
    parts.check_whole_design(summaries, template.data.column_names, template.n_params)
    start = parts.pooled_start(spec.family, [s["sample"] for s in summaries])
    n_obs = sum(s["n_obs"] for s in summaries)
    info = DistributedData(n_obs=n_obs, n_dropped=sum(s["n_dropped"] for s in summaries),
                           n_partitions=len(partitions), column_names=template.data.column_names,
                           levels=template.data.levels, outcome=lhs,
                           cluster=None if cluster is None else _ClusterColumn(cluster, n_obs))
    return DistributedModel(frame, spec, family, template, info, start, client=client,
                            retries=retries)
