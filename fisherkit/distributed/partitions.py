"""The work done on one partition of a Dask fit, and how partial results add up.

Every function here takes one pandas partition and returns small pieces: the
log-likelihood, the score, ``p x p`` matrices, scores summed by cluster label. The pieces
are computed by the in-memory code (:func:`fisherkit.models.formula.build_data` and
:class:`fisherkit.models.index_model.Model` on the partition's rows), so a sum over partitions is the
in-memory answer up to the order of floating-point additions.

Categorical columns are made pandas Categoricals with levels fixed before any design is
built, so that formulaic gives every partition the same columns; a value outside those
levels is an error naming the column, the level and the partition.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from formulaic import Formula

from ..exceptions import DataError, SpecificationError
from ..models.family import Family
from ..models.columns import categorical_only, prepare_columns
from ..models.design_checks import check_constant_columns, check_enough_rows
from ..models.formula import ModelData, build_data
from ..models.index_model import Model

__all__ = ["PartitionSpec", "formula_variables", "categorical_candidates", "scan_partition",
           "classify_partition",
           "summarize_partition", "pooled_start", "partition_pieces", "combine_pieces", "Failure"]

#: autograd keeps its trace stack in a global, so two threads must not differentiate at
#: once; partitions in one process take turns (reading and design building overlap)
AUTOGRAD_LOCK = threading.Lock()
#: formulaic compiles each factor with the ast module, whose recursion counter CPython
#: (3.11 here) shares between threads: two partitions building designs at once can fail
#: with "SystemError: AST constructor recursion depth mismatch", so they take turns too
FORMULA_LOCK = threading.Lock()


@dataclass(frozen=True)
class PartitionSpec:
    """What every partition needs to build its part of the model."""

    formula: str
    family: Family
    categories: dict = field(default_factory=dict)
    outcome_levels: tuple | None = None
    offset: str | None = None
    cluster: str | None = None
    aux: dict = field(default_factory=dict)
    missing: str = "drop"
    #: the weights column and its kind (:mod:`fisherkit.models.weights`)
    weights: str | None = None
    weight_type: str | None = None
    #: what analytic weights are multiplied by: the whole data's rows over the sum of their
    #: weights, learned in the summary pass (None before it: the raw weights)
    weight_scale: float | None = None


@dataclass(frozen=True)
class Failure:
    """A piece that could not be computed (kept until someone asks for it)."""

    error: BaseException


class _FixedLevels:
    """An ordinal outcome coded against levels learned from the whole data set.

    A partition need not hold every level; the whole data set is checked once instead.
    """

    def __init__(self, levels: tuple):
        self.levels = levels

    def __call__(self, y: pd.Series, column: str):
        codes = pd.Categorical(y, categories=list(self.levels)).codes
        unseen = codes < 0
        if unseen.any():
            raise DataError(f"The outcome column {column!r} holds the level "
                            f"{y[unseen].iloc[0]!r}, not among the levels {list(self.levels)} "
                            "seen when the levels were learned.")
        return codes.astype(float), self.levels


def partition_family(family: Family, outcome_levels: tuple | None) -> Family:
    """The family as partitions use it: an ordinal outcome keeps the global levels."""
    if outcome_levels is None:
        return family
    fixed = copy.copy(family)
    fixed.prepare_outcome = _FixedLevels(tuple(outcome_levels))
    return fixed


def formula_variables(formula: str, family: Family) -> tuple[str, list[str]]:
    """The outcome column expression and every formula part (main and extra predictors)."""
    if not isinstance(formula, str) or "~" not in formula:
        raise SpecificationError(f"The formula must read 'outcome ~ terms'; got {formula!r}.")
    lhs, rhs = (part.strip() for part in formula.split("~", 1))
    parts = [lhs or "1", rhs]
    for spec in family.params.values():
        if spec.has_design and spec.formula is not None:
            parts.append(spec.formula.lstrip("~ ").strip() or "1")
    return lhs, parts


def categorical_candidates(parts: list[str]) -> tuple[list[str], set[str]]:
    """Variables the formula uses, and those it uses only inside ``C(...)`` (the in-memory
    rule, :func:`fisherkit.models.columns.categorical_only`)."""
    used = [str(v) for part in parts for v in Formula(part).required_variables]
    return list(dict.fromkeys(sorted(used))), categorical_only(parts)


def scan_partition(frame: pd.DataFrame, columns: list[str]) -> dict:
    """The distinct values of some columns in one partition (missing values left out)."""
    return {c: pd.unique(frame[c].dropna()) for c in columns}


def classify_partition(frame: pd.DataFrame, k: int, columns: list[str]) -> dict:
    """What each ``object`` column of one partition holds, by the in-memory column policy
    (:func:`fisherkit.models.columns.prepare_columns`): ``"numbers"``, ``"text"`` (with
    its distinct values and its first row) or ``"empty"``; a partition that mixes the
    two, or holds anything else, is refused as in memory, naming the partition.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"x": pd.Series([1, 2.5, None], dtype=object)})
    >>> classify_partition(rows, 0, ["x"])["x"]["kind"]
    'numbers'
    """
    out = {}
    for column in columns:
        try:
            seen = prepare_columns(frame, [column])[column]
        except DataError as exc:
            raise DataError(f"In partition {k}: {exc}") from None
        present = seen.notna().to_numpy()
        if not present.any():
            out[column] = {"kind": "empty"}
        elif seen.dtype == object:
            at = int(present.argmax())
            out[column] = {"kind": "text", "values": pd.unique(seen[present]),
                           "first": (frame.index[at], seen.iloc[at])}
        else:
            out[column] = {"kind": "numbers"}
    return out


def _with_levels(frame: pd.DataFrame, k: int, spec: PartitionSpec) -> pd.DataFrame:
    """The partition with categorical columns coded against the fixed levels."""
    if not spec.categories:
        return frame
    frame = frame.copy(deep=False)
    for column, levels in spec.categories.items():
        values = frame[column]
        unseen = values.notna() & ~values.isin(list(levels))
        if unseen.any():
            raise DataError(f"The column {column!r} holds the level {values[unseen].iloc[0]!r} "
                            f"in partition {k}, which is not among its levels {list(levels)} "
                            "(levels are fixed before the fit: learned from the data or given "
                            "as levels=).")
        frame[column] = pd.Categorical(values, categories=list(levels))
    return frame


def _zero_weights(frame: pd.DataFrame, spec: PartitionSpec) -> bool:
    """Whether every known weight of the partition is zero (it then has no rows to fit,
    though the whole data set may)."""
    if spec.weights is None:
        return False
    w = pd.to_numeric(frame[spec.weights], errors="coerce")
    return bool(w.notna().any() and (w[w.notna()] == 0).all())


def partition_data(frame: pd.DataFrame, k: int, spec: PartitionSpec) -> ModelData:
    """The model data of one partition, with errors that name the partition.

    Analytic weights are rescaled by the whole data's factor (``spec.weight_scale``), not
    the partition's, so that they sum to the rows of the whole data as in memory.
    """
    frame = _with_levels(frame, k, spec)
    # build_data refuses weights that are all zero, which is right for the whole data set
    # but not for one partition: its rows are checked with the zeros as ones, then dropped
    empty = _zero_weights(frame, spec)
    if empty:
        w = frame[spec.weights]
        frame = frame.assign(**{spec.weights: w.mask(pd.to_numeric(w, errors="coerce") == 0,
                                                     1)})
    # analytic weights come back raw (as probability weights do) and are scaled below
    kind = "probability" if spec.weight_type == "analytic" else spec.weight_type
    try:
        with FORMULA_LOCK:
            data = build_data(spec.formula, frame, spec.family, offset=spec.offset,
                              missing=spec.missing, cluster=spec.cluster, check_design=False,
                              weights=spec.weights, weight_type=kind, **spec.aux)
    except (DataError, SpecificationError) as exc:
        # weights given as a Dask Series live in a column of fisherkit's naming
        text = str(exc).replace("weights '__fisherkit_weights'", "weights")
        raise type(exc)(f"In partition {k}: {text}") from None
    if empty:
        data = dataclasses.replace(data.take(slice(0, 0)), n_dropped=len(frame))
    if spec.weight_type == "analytic":
        scale = 1.0 if spec.weight_scale is None else spec.weight_scale
        data = dataclasses.replace(data, weights=data.weights * scale, weight_type="analytic")
    return data


def _digest(column: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(column).tobytes(), digest_size=16).digest()


def summarize_partition(frame: pd.DataFrame, k: int, spec: PartitionSpec,
                        sample_rows: int) -> dict:
    """Rows used and dropped, each design column's range and fingerprint, and up to
    ``sample_rows`` evenly spaced rows (for the whole data set's checks and start)."""
    data = partition_data(frame, k, spec)
    n = data.n_obs
    columns = {}
    for key, X in data.designs.items():
        if n:
            columns[key] = (X.min(axis=0), X.max(axis=0), [_digest(X[:, j]) for j in
                                                            range(X.shape[1])])
        else:
            width = X.shape[1]
            columns[key] = (np.full(width, np.inf), np.full(width, -np.inf), [b""] * width)
    rows = np.unique(np.linspace(0, n - 1, min(n, sample_rows)).round().astype(int))
    out = {"n_obs": n, "n_dropped": data.n_dropped, "columns": columns,
           "sample": data.take(rows)}
    if spec.weights is not None:
        # the sum over the rows used (n_obs of frequency weights, the analytic factor), and
        # whether any weight of the partition is positive (all zero is refused as a whole)
        every = pd.to_numeric(frame[spec.weights], errors="coerce")
        out["weights"] = {"sum": float(np.sum(data.weights)), "known": int(every.notna().sum()),
                          "positive": int((every > 0).sum())}
    return out


def pooled_start(family: Family, samples: list[ModelData]) -> np.ndarray:
    """Starting values from the rows sampled in every partition (all rows of a small data
    set, so that the start is the in-memory one)."""
    def join(arrays):
        return None if arrays[0] is None else np.concatenate(arrays)
    first = samples[0]
    pooled = ModelData(
        y=join([s.y for s in samples]),
        designs={k: join([s.designs[k] for s in samples]) for k in first.designs},
        column_names=first.column_names,
        offsets={k: join([s.offsets[k] for s in samples]) for k in first.offsets},
        aux={k: join([s.aux[k] for s in samples]) for k in first.aux}, levels=first.levels,
        outcome=first.outcome, specs=first.specs)
    with AUTOGRAD_LOCK:
        return Model(family, pooled).start_values()


def _seeded(options: dict, k: int) -> dict:
    """Monte Carlo draws in partition ``k`` from their own stream of the given seed."""
    seed = options.get("seed", 0)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    return {**options, "seed": np.random.default_rng([0 if seed is None else int(seed), k])}


def _group_sums(model: Model, theta: np.ndarray) -> pd.DataFrame:
    labels = model.data.cluster
    sums = model.group_scores(theta, labels)
    return pd.DataFrame(sums, index=pd.Index(np.unique(labels)))


def _piece(name, model: Model, theta: np.ndarray, k: int):
    if name == "loglik":
        return model.loglik(theta)
    if name == "opg":
        return model.opg(theta)
    if name == "meat":
        return model.sandwich_meat(theta)
    if name == "groups":
        return _group_sums(model, theta)
    if name == "separated":
        return model.count_separated(theta)
    info = model.expected_information(theta, **_seeded(dict(name[1]), k))
    return {"matrix": info.matrix, "method": info.method, "tail_bound": info.tail_bound,
            "mc_var": None if info.mc_se is None else info.mc_se ** 2, "draws": info.draws}


def partition_pieces(frame: pd.DataFrame, k: int, spec: PartitionSpec, theta: np.ndarray,
                     want: tuple, soft: tuple = ()) -> dict:
    """The requested pieces of one partition at ``theta``.

    ``soft`` pieces that fail are returned as :class:`Failure` (raised later, if asked
    for), so that one unavailable kind of information does not stop the others.
    """
    data = partition_data(frame, k, spec)
    out = {"n_obs": data.n_obs}
    if data.n_obs == 0:
        return out
    model = Model(spec.family, data)
    with AUTOGRAD_LOCK, np.errstate(all="ignore"):
        if "score" in want or "hessian" in want:
            out["loglik"], out["score"], hessian = model.derivatives(theta, "hessian" in want)
            if hessian is not None:
                out["hessian"] = hessian
        for name in want:
            if name in out or name in ("score", "hessian"):
                continue
            try:
                out[name] = _piece(name, model, theta, k)
            except Exception as exc:
                if name not in soft:
                    raise
                out[name] = Failure(exc)
    return out


def _combine_expected(parts: list):
    failed = [p for p in parts if isinstance(p, Failure)]
    if failed:
        return failed[0]
    mc = [p["mc_var"] for p in parts]
    return {"matrix": sum(p["matrix"] for p in parts), "method": parts[0]["method"],
            "tail_bound": max(p["tail_bound"] for p in parts),
            "mc_var": None if mc[0] is None else sum(mc), "draws": parts[0]["draws"]}


def combine_pieces(*pieces: dict) -> dict:
    """Partial pieces of several partitions added up (the reduction of every pass)."""
    out = {"n_obs": sum(p["n_obs"] for p in pieces)}
    names = {name for p in pieces for name in p if name != "n_obs"}
    for name in names:
        parts = [p[name] for p in pieces if name in p]
        if any(isinstance(part, Failure) for part in parts) and not isinstance(name, tuple):
            out[name] = next(part for part in parts if isinstance(part, Failure))
        elif name == "groups":
            out[name] = pd.concat(parts).groupby(level=0, sort=True).sum()
        elif isinstance(name, tuple):
            out[name] = _combine_expected(parts)
        else:
            out[name] = sum(parts[1:], parts[0])
    return out


def check_whole_design(summaries: list[dict], names: dict, n_params: int) -> None:
    """The in-memory checks on the whole data set: constant or identical design columns,
    more rows than parameters (see :func:`fisherkit.models.formula.build_data`)."""
    for key, cols in names.items():
        lo = np.min([s["columns"][key][0] for s in summaries], axis=0)
        hi = np.max([s["columns"][key][1] for s in summaries], axis=0)
        plain = [c.split(":", 1)[1] if ":" in c and c.startswith(f"{key}:") else c for c in cols]
        check_constant_columns(lo, hi, plain, key)
        seen = {}
        for j in range(len(cols)):
            fingerprint = tuple(s["columns"][key][2][j] for s in summaries if s["n_obs"])
            if fingerprint in seen:
                raise DataError(f"The columns {plain[seen[fingerprint]]!r} and {plain[j]!r} of "
                                f"the {key!r} design are identical; drop one.")
            seen[fingerprint] = j
    check_enough_rows(sum(s["n_obs"] for s in summaries), n_params)
