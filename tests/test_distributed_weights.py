"""Observation weights on Dask: every number equals the in-memory weighted fit's, analytic
weights take the whole data's factor, the sandwich meat is its own piece, and bad weights
are refused as in memory."""

import numpy as np
import pandas as pd
import pytest

import fisherkit as fk

dd = pytest.importorskip("dask.dataframe")

from fisherkit.distributed.partitions import PartitionSpec, partition_data  # noqa: E402
from fisherkit.models.builtins import make_family  # noqa: E402

#: sums over partitions differ from the in-memory sums only in the order of additions
TOL = 1e-10
FORMULA = "{} ~ x + z"
OUTCOMES = {"poisson": "count", "logit": "binary", "normal": "value"}


def make_data(n=480, seed=11):
    """Weights whose scale grows along the rows, so that each partition's own factor for
    analytic weights would differ from the whole data's; zeros and a missing weight."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.uniform(-1, 1, n),
                       "firm": rng.integers(0, 25, n)})
    eta = 0.3 + 0.6 * df["x"] - 0.4 * df["z"]
    df["count"] = rng.poisson(np.exp(eta))
    df["binary"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df["value"] = eta + rng.normal(scale=0.7, size=n)
    df["fw"] = rng.integers(0, 4, n)
    df["aw"] = rng.uniform(0.2, 1.0, n) * np.linspace(1.0, 6.0, n)
    df.loc[[4, 250], "aw"] = 0.0
    df.loc[[9], "aw"] = np.nan
    return df


@pytest.fixture(scope="module")
def data():
    df = make_data()
    return df, dd.from_pandas(df, npartitions=4, sort=False)


def kinds(weight_type):
    robust = ["sandwich", "HC0", "HC1", "robust", "cluster"]
    return robust if weight_type == "probability" else ["observed", "expected", "opg"] + robust


def fit_both(data, family, weight_type, **options):
    df, ddf = data
    column = "fw" if weight_type == "frequency" else "aw"
    formula = FORMULA.format(OUTCOMES[family])
    options = dict(weights=column, weight_type=weight_type, cluster="firm", tol=1e-13,
                   **options)
    return fk.fit(formula, df, family, **options), fk.fit(formula, ddf, family, **options)


@pytest.mark.parametrize("weight_type", ["frequency", "analytic", "probability"])
@pytest.mark.parametrize("family", sorted(OUTCOMES))
def test_weighted_fit_on_dask_equals_the_in_memory_fit(data, family, weight_type):
    memory, on_dask = fit_both(data, family, weight_type)
    assert on_dask.model.data.n_partitions == 4
    assert on_dask.model.weight_type == weight_type
    assert (on_dask.n_obs, on_dask.n_dropped) == (memory.n_obs, memory.n_dropped)
    assert on_dask.model.n_rows == memory.model.n_rows
    assert on_dask.cov_type == memory.cov_type
    np.testing.assert_allclose(on_dask.params, memory.params, rtol=TOL, atol=TOL)
    for attr in ("loglik", "aic", "bic"):
        assert getattr(on_dask, attr) == pytest.approx(getattr(memory, attr), rel=TOL)
    for kind in kinds(weight_type):
        np.testing.assert_allclose(on_dask.with_cov(kind).se, memory.with_cov(kind).se,
                                   rtol=TOL, err_msg=kind)


def test_counts_follow_the_kind_of_weight(data):
    df, _ = data
    rows = int((df["fw"] > 0).sum())
    frequency, on_dask = fit_both(data, "poisson", "frequency")
    # n_obs is the sum of frequency weights, the rows dropped are those of weight zero
    assert on_dask.n_obs == frequency.n_obs == int(df["fw"].sum())
    assert on_dask.model.n_rows == rows and on_dask.n_dropped == len(df) - rows
    _, analytic = fit_both(data, "poisson", "analytic")
    # two zero weights and a missing one; n_obs counts rows
    assert analytic.n_dropped == 3 and analytic.n_obs == analytic.model.n_rows == len(df) - 3


def test_analytic_weights_take_the_whole_datas_factor_not_each_partitions(data):
    df, _ = data
    used = df["aw"].notna() & (df["aw"] > 0)
    factor = used.sum() / df.loc[used, "aw"].sum()
    family = make_family("poisson")
    spec = PartitionSpec("count ~ x + z", family, weights="aw", weight_type="analytic",
                         weight_scale=factor)
    part = df.iloc[120:240]
    rescaled = partition_data(part, 1, spec)
    assert rescaled.weight_type == "analytic"
    np.testing.assert_allclose(rescaled.weights, part["aw"].to_numpy() * factor, rtol=1e-15)
    # the partition's own factor would be another number: these rows weigh more than most
    own = len(part) / part["aw"].sum()
    assert abs(own / factor - 1) > 0.1
    memory, on_dask = fit_both(data, "poisson", "analytic")
    whole = memory.model.data.weights
    np.testing.assert_allclose(whole.sum(), len(whole), rtol=1e-12)
    assert on_dask.model._spec.weight_scale == pytest.approx(factor, rel=1e-14)


@pytest.mark.parametrize("weight_type", ["analytic", "probability"])
def test_the_meat_of_weighted_scores_is_a_piece_of_its_own(data, weight_type):
    memory, on_dask = fit_both(data, "logit", weight_type)
    theta = on_dask.theta
    meat = on_dask.model.sandwich_meat(theta)
    opg = on_dask.model.opg(theta)
    np.testing.assert_allclose(meat, memory.model.sandwich_meat(memory.theta), rtol=1e-9)
    np.testing.assert_allclose(opg, memory.model.opg(memory.theta), rtol=1e-9)
    # sum (w s)(w s)' is not sum w s s' when the weights are not all one
    assert np.max(np.abs(meat / opg - 1)) > 0.1
    # both came in one pass with the expected information and the cluster sums
    passes = on_dask.model.passes
    on_dask.with_cov("cluster").se, on_dask.with_cov("HC1").se
    assert on_dask.model.passes == passes


def test_frequency_weights_use_the_opg_as_meat(data):
    _, on_dask = fit_both(data, "normal", "frequency")
    theta = on_dask.theta
    np.testing.assert_array_equal(on_dask.model.sandwich_meat(theta), on_dask.model.opg(theta))
    assert "meat" not in on_dask.model._se_pieces()


def test_weights_as_a_dask_series_and_on_parquet(data, tmp_path):
    df, ddf = data
    memory, _ = fit_both(data, "poisson", "probability")
    series = fk.fit("count ~ x + z", ddf.drop(columns="aw"), "poisson", weights=ddf["aw"],
                    weight_type="probability", cluster="firm", tol=1e-13)
    ddf.to_parquet(tmp_path / "rows")
    parquet = fk.fit("count ~ x + z", tmp_path / "rows", "poisson", weights="aw",
                     weight_type="probability", cluster="firm", tol=1e-13)
    for res in (series, parquet):
        assert res.n_dropped == memory.n_dropped
        np.testing.assert_allclose(res.params, memory.params, rtol=TOL)
        np.testing.assert_allclose(res.se, memory.se, rtol=TOL)


def test_a_partition_whose_weights_are_all_zero_is_dropped_not_refused(data):
    df, _ = data
    zeros = df.assign(fw=np.where(np.arange(len(df)) < 120, 0, df["fw"]))
    memory = fk.fit("value ~ x + z", zeros, "normal", weights="fw", weight_type="frequency")
    on_dask = fk.fit("value ~ x + z", dd.from_pandas(zeros, npartitions=4, sort=False),
                     "normal", weights="fw", weight_type="frequency")
    assert on_dask.n_dropped == memory.n_dropped and on_dask.n_obs == memory.n_obs
    np.testing.assert_allclose(on_dask.params, memory.params, rtol=TOL)
    np.testing.assert_allclose(on_dask.se, memory.se, rtol=TOL)


def test_probability_weights_default_to_robust_and_refuse_model_based_kinds(data):
    _, on_dask = fit_both(data, "poisson", "probability")
    assert on_dask.cov_type == "robust"
    for kind in ("observed", "expected", "opg"):
        with pytest.raises(fk.SpecificationError, match=f"cov='{kind}' is not valid with "
                                                        "probability weights"):
            on_dask.with_cov(kind)
    with pytest.raises(fk.SpecificationError, match="pseudo-log-likelihood"):
        fit_both(data, "poisson", "probability", cov="observed")


WEIGHTED = pd.DataFrame({"y": [0, 1, 0, 1, 1, 0, 1, 0], "x": np.arange(8.0)})


@pytest.mark.parametrize("w, weight_type, match", [
    ([1, 2, -1, 1, 1, 1, 1, 1], "analytic", r"row 2 is negative \(-1.0\)"),
    ([1, 2, 1.5, 1, 1, 1, 1, 1], "frequency", r"row 2 is not a whole number"),
    ([1, 2, np.inf, 1, 1, 1, 1, 1], "probability", "row 2 is infinite"),
    (["1", "a", 1, 1, 1, 1, 1, 1], "analytic", r"must be numbers; got 'a' at row 1"),
    ([0, 0, 0, 0, 0, 0, 0, 0], "frequency", r"Every one of the weights 'w' is zero"),
])
def test_bad_weights_are_refused_as_in_memory(w, weight_type, match):
    df = WEIGHTED.assign(w=pd.Series(w, dtype=object if isinstance(w[0], str) else None))
    with pytest.raises(fk.DataError, match=match):
        fk.fit("y ~ x", df, "logit", weights="w", weight_type=weight_type)
    with pytest.raises(fk.DataError, match=match):
        fk.fit("y ~ x", dd.from_pandas(df, npartitions=2, sort=False), "logit", weights="w",
               weight_type=weight_type)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(weights="w"), fk.SpecificationError, "weights= needs weight_type="),
    (dict(weight_type="frequency"), fk.SpecificationError, "was given without weights="),
    (dict(weights="w", weight_type="survey"), fk.SpecificationError,
     "Unknown weight_type 'survey'"),
    (dict(weights="nope", weight_type="analytic"), fk.DataError,
     "The weights column 'nope' is not in the data"),
    (dict(weights=np.ones(8), weight_type="analytic"), fk.SpecificationError,
     "On Dask, give weights= as a column name or a Dask Series"),
])
def test_weight_options_are_refused_with_their_name(kwargs, error, match):
    ddf = dd.from_pandas(WEIGHTED.assign(w=1.0), npartitions=2)
    with pytest.raises(error, match=match):
        fk.fit("y ~ x", ddf, "logit", **kwargs)


def test_bad_weights_in_a_dask_series_are_named_as_weights():
    ddf = dd.from_pandas(WEIGHTED.assign(w=[1, 2, -1, 1, 1, 1, 1, 1]), npartitions=2,
                         sort=False)
    with pytest.raises(fk.DataError, match=r"In partition 0: The weights must be finite, "
                                           r"non-negative numbers; the weight at row 2"):
        fk.fit("y ~ x", ddf.drop(columns="w"), "logit", weights=ddf["w"],
               weight_type="analytic")


def test_missing_weights_are_dropped_or_named_with_their_partition(data):
    df, ddf = data
    with pytest.raises(fk.DataError, match=r"In partition 0: Missing values in column"):
        fk.fit("count ~ x + z", ddf, "poisson", weights="aw", weight_type="analytic",
               missing="raise")
