"""Fits on data larger than memory: a Dask DataFrame or a parquet data set.

The log-likelihood, the score, the Hessian, the expected information, the outer product of
scores and cluster-summed scores are all sums over rows. So every step of the optimizer is
one map over the partitions, each computing its pieces with the in-memory code, and one
small reduction of ``p``-vectors and ``p x p`` matrices (:mod:`fisherkit.distributed.partitions`).
Dask runs the graph: local threads by default, a ``dask.distributed`` cluster when a
client exists, is given as ``client=``, or an address is given instead.

The model is built by :func:`fisherkit.distributed.build.distributed_model`. Each
evaluation computes at once what the step may need next (the Hessian for Newton, the
expected information for Fisher scoring), and the first standard error asked for other
than the observed one computes the expected information, the outer product of scores and
the cluster sums together, in one more pass (so keep the client open until then).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..exceptions import DataError, SpecificationError
from ..models.expected import ExpectedInformation
from ..models.family import Family
from ..models.index_model import Model
from ..models.protocol import refuse_random_effects, refuse_subset
from ..models.weights import effective_n
from . import partitions as parts

__all__ = ["DistributedModel", "DistributedData", "ClusterColumn", "DaskComputationError",
           "NotInMemoryError", "compute"]

_EXPECTED_DEFAULTS = (("draws", 200), ("max_terms", 100_000), ("method", "auto"), ("seed", 0),
                      ("tail", 1e-12))


class DaskComputationError(RuntimeError):
    """A pass over the partitions failed (a task raised more often than ``retries=``
    allows, or workers died more often than Dask's ``allowed-failures``); no result is
    returned."""


class NotInMemoryError(SpecificationError, AttributeError):
    """A per-row quantity was asked of a model whose rows live in Dask partitions."""


class ClusterColumn:
    """The cluster labels of a Dask fit: a column read partition by partition."""

    def __init__(self, column: str, n_obs: int):
        self.column, self.n_obs = column, n_obs

    def __len__(self) -> int:
        return self.n_obs

    def __repr__(self) -> str:
        return f"<cluster column {self.column!r}, {self.n_obs} rows>"


@dataclass(frozen=True)
class DistributedData:
    """What a Dask fit knows of its data: counts, names and levels, never rows.

    ``n_obs`` counts the rows used (as :class:`fisherkit.models.formula.ModelData` does);
    ``weight_total`` is the sum of their weights as given (before analytic weights are
    rescaled), None without weights.
    """

    n_obs: int
    n_dropped: int
    n_partitions: int
    column_names: dict
    levels: tuple | None
    outcome: str
    cluster: ClusterColumn | None = None
    weight_type: str | None = None
    weight_total: float | None = None

    def __getattr__(self, name):
        raise NotInMemoryError(f"The data of a Dask fit are not held in memory, so there is no "
                               f"{name!r}; compute it partition by partition, or fit a sample "
                               "in memory.")


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
        return (f"<DistributedModel {self.family.name}: {self.n_rows} rows in "
                f"{self.data.n_partitions} partitions>")

    def __getstate__(self) -> dict:
        """Everything but the frame and the client (see the class's docstring)."""
        return {**vars(self), "_frame": None, "_client": None}

    @property
    def n_obs(self) -> int:
        """Observations: the rows, or the sum of their frequency weights."""
        return effective_n(self.data.weight_total, self.data.weight_type, self.data.n_obs)

    @property
    def n_rows(self) -> int:
        return self.data.n_obs

    @property
    def weight_type(self) -> str | None:
        return self.data.weight_type

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
        return compute(graph, what, self._client, self._retries)

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
        if self.weight_type not in (None, "frequency"):
            out.append("meat")
        return tuple(out + (["groups"] if self.data.cluster is not None else []))

    # ---- the Model interface ------------------------------------------------------------

    def start_values(self) -> np.ndarray:
        """Starting values from rows sampled evenly in every partition (from all rows
        when there are at most ``fisherkit.distributed.build.START_ROWS``, as in memory)."""
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

    def random_effects(self, theta):
        refuse_random_effects(self.label)

    def variance_null(self, restricted, removed) -> None:
        """No random effects: a likelihood-ratio test has its plain chi-square."""
        return None

    def sandwich_meat(self, theta) -> np.ndarray:
        """The sandwich's middle, as :meth:`Model.sandwich_meat`: the OPG (``sum w s s'``)
        without weights or with frequency weights, else ``sum (w s)(w s)'``, a piece of
        its own summed over partitions."""
        if self.weight_type in (None, "frequency"):
            return self.opg(theta)
        se = self._se_pieces()
        return self._pieces(theta, ("meat",), se, soft=se)["meat"].copy()

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

    def design_for(self, data=None, *, offset=None, random_effects=None):
        """New rows in a pandas DataFrame through the template model; the fitted rows stay
        in the partitions, so ``data`` is needed."""
        if random_effects is not None:
            refuse_random_effects(self.label)
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


def _failure(exc: BaseException, what: str, retries: int) -> DaskComputationError:
    """The error that stops the fit, saying what was tried."""
    tried = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
    lost = ""
    if type(exc).__name__ == "KilledWorker":
        # a worker that dies is not a task error: Dask's scheduler setting governs it
        lost = (" Workers died running the task; Dask reruns such a task up to its "
                "'distributed.scheduler.allowed-failures' setting (3 by default, set where "
                "the scheduler starts), not retries=.")
    return DaskComputationError(f"The pass over the partitions computing {what} failed{tried} "
                                f"({type(exc).__name__}: {exc}); no result is returned.{lost}")


def compute(graph, what: str, client, retries: int):
    """Run a graph on the given client, else on the default client, else on Dask's
    active scheduler (threads unless configured otherwise).

    A task that raises (a failed read, say) is run again up to ``retries`` times: on a
    ``dask.distributed`` client by Dask itself (``Client.compute(retries=)``, per task,
    whatever it raised); Dask's local schedulers run each task once, so there the whole
    pass is run again, unless the error is fisherkit's own (:class:`DataError`,
    :class:`SpecificationError`), which would recur. Those are raised as they are;
    anything else that still fails stops the fit with :class:`DaskComputationError`.

    Examples
    --------
    >>> import dask
    >>> compute(dask.delayed(sum)([1, 2, 3]), "a sum", None, retries=0)
    6
    """
    active = client if client is not None else _default_client()
    attempts = 0
    while True:
        try:
            if active is not None:
                return active.compute(graph, retries=retries).result()
            import dask
            return dask.compute(graph)[0]
        except (DataError, SpecificationError, FloatingPointError):
            raise
        except Exception as exc:
            if active is None and attempts < retries:
                attempts += 1
                continue
            raise _failure(exc, what, retries) from exc
