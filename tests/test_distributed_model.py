"""Fits on Dask equal the in-memory fits: params and every kind of standard error."""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest

import fisherkit as fk

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from fisherkit.distributed.model import DaskComputationError, NotInMemoryError  # noqa: E402

#: sums over partitions differ from the in-memory sums only in the order of additions
TOL = 1e-10
SE_KINDS = ["observed", "expected", "opg", "sandwich", "HC0", "HC1", "cluster"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def make_data(n=1600, seed=7):
    """Covariates, a categorical whose level "d" only the last rows hold, clusters that
    span partitions, a few missing values, and outcomes of several families."""
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    g[-60:] = "d"
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.uniform(-1, 1, n), "g": g,
                       "firm": rng.integers(0, 30, n), "k": rng.integers(1, 4, n)})
    eta = 0.2 + 0.7 * df["x"] - 0.4 * df["z"] + 0.5 * (df["g"] == "b") - 0.3 * (df["g"] == "d")
    df["binary"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df["count"] = rng.poisson(np.exp(0.5 * eta))
    df["overdispersed"] = rng.negative_binomial(2.0, 2.0 / (2.0 + np.exp(0.5 * eta)))
    df["value"] = 1.5 * eta + rng.normal(scale=0.8, size=n)
    df["grade"] = np.digitize(eta + rng.logistic(size=n), [-0.5, 0.5, 1.5])
    df.loc[[3, 500, 1201], "x"] = np.nan
    df.loc[[77], "g"] = None
    return df


@pytest.fixture(scope="module")
def data():
    df = make_data()
    return df, dd.from_pandas(df, npartitions=4, sort=False)


def assert_same_fit(memory, dask_fit, kinds=SE_KINDS):
    assert dask_fit.names == memory.names
    assert dask_fit.n_obs == memory.n_obs and dask_fit.n_dropped == memory.n_dropped
    np.testing.assert_allclose(dask_fit.params, memory.params, rtol=TOL, atol=TOL)
    assert dask_fit.loglik == pytest.approx(memory.loglik, rel=TOL)
    for kind in kinds:
        np.testing.assert_allclose(dask_fit.with_cov(kind).se, memory.with_cov(kind).se,
                                   rtol=TOL, err_msg=kind)


@pytest.mark.parametrize("family, outcome", [("logit", "binary"), ("poisson", "count"),
                                             ("normal", "value")])
def test_fit_on_a_two_worker_cluster_equals_the_in_memory_fit(data, client, family, outcome):
    df, ddf = data
    formula = f"{outcome} ~ x + z + g"
    memory = fk.fit(formula, data=df, family=family, cluster="firm")
    on_dask = fk.fit(formula, data=ddf, family=family, cluster="firm", client=client)
    assert on_dask.converged and on_dask.model.data.n_partitions == 4
    assert_same_fit(memory, on_dask)
    for kind in ("observed", "expected", "opg"):
        np.testing.assert_allclose(on_dask.information(kind), memory.information(kind),
                                   rtol=TOL, atol=TOL * 1e3)
    pd.testing.assert_frame_equal(on_dask.with_cov("cluster").summary(),
                                  memory.with_cov("cluster").summary(), rtol=TOL)


def test_threads_by_default_and_a_scheduler_address(data, client):
    df, ddf = data
    memory = fk.fit("count ~ x + C(k)", data=df, family="poisson", cov="sandwich")
    threads = fk.fit("count ~ x + C(k)", data=ddf, family="poisson", cov="sandwich")
    by_address = fk.fit("count ~ x + C(k)", data=ddf, family="poisson", cov="sandwich",
                        client=client.scheduler.address)
    assert "C(k)[T.3]" in threads.names
    for res in (threads, by_address):
        np.testing.assert_allclose(res.params, memory.params, rtol=TOL)
        np.testing.assert_allclose(res.se, memory.se, rtol=TOL)
    by_address.model._client.close()


def test_negative_binomial_exact_expected_and_fisher_scoring(data):
    df, ddf = data
    formula = "overdispersed ~ x + g"
    memory = fk.fit(formula, data=df, family="negbin", cluster="firm")
    on_dask = fk.fit(formula, data=ddf, family="negbin", cluster="firm")
    assert_same_fit(memory, on_dask)
    assert on_dask.with_cov("expected").expected_information.method == "exact"
    scoring = fk.fit("count ~ x + z", data=ddf, family="poisson", method="fisher_scoring")
    np.testing.assert_allclose(scoring.params, fk.fit("count ~ x + z", data=df,
                                                      family="poisson").params, rtol=1e-8)


def test_ordinal_cut_points_when_a_partition_lacks_a_level(data):
    df, _ = data
    ordered = df.sort_values("grade", kind="stable")
    ddf = dd.from_pandas(ordered, npartitions=4, sort=False)
    memory = fk.fit("grade ~ x + z", data=ordered, family="ordinal")
    on_dask = fk.fit("grade ~ x + z", data=ddf, family="ordinal")
    assert on_dask.names[-3:] == memory.names[-3:] == ("0|1", "1|2", "2|3")
    assert_same_fit(memory, on_dask, ["observed", "expected", "opg", "sandwich"])


def test_parquet_path_reads_only_the_columns_used(data, tmp_path):
    df, ddf = data
    ddf.to_parquet(tmp_path / "rows")
    memory = fk.fit("value ~ x + g", data=df, family="normal")
    on_disk = fk.fit("value ~ x + g", data=tmp_path / "rows", family="normal")
    assert on_disk.model.data.n_partitions == 4
    np.testing.assert_allclose(on_disk.params, memory.params, rtol=TOL)
    np.testing.assert_allclose(on_disk.se, memory.se, rtol=TOL)


def test_missing_values_are_counted_or_named_with_their_partition(data):
    df, ddf = data
    res = fk.fit("binary ~ x + g", data=ddf, family="logit")
    assert res.n_dropped == 4 and res.n_obs == len(df) - 4
    # whichever partition with a missing value is reached first is named
    with pytest.raises(fk.DataError, match=r"In partition [013]: Missing values in "
                                           r"column\(s\) \[('g', )?'x'\]"):
        fk.fit("binary ~ x + g", data=ddf, family="logit", missing="raise")


def test_a_level_outside_the_known_levels_names_column_level_and_partition(data):
    _, ddf = data
    with pytest.raises(fk.DataError, match=r"column 'g' holds the level 'd' in partition 3"):
        fk.fit("binary ~ x + g", data=ddf, family="logit", levels={"g": ["a", "b", "c"]})


def test_the_whole_design_is_checked_not_each_partition(data):
    df, _ = data
    constant = df.assign(one=1.0)
    with pytest.raises(fk.DataError, match=r"\['one'\] of the 'mu' design are constant"):
        fk.fit("binary ~ x + one", data=dd.from_pandas(constant, npartitions=3), family="logit")
    twin = df.assign(x2=df["x"])
    with pytest.raises(fk.DataError, match="'x' and 'x2' of the 'mu' design are identical"):
        fk.fit("binary ~ x + x2", data=dd.from_pandas(twin, npartitions=3), family="logit")
    tiny = dd.from_pandas(df.head(3), npartitions=1)
    with pytest.raises(fk.DataError, match="3 usable rows for at least 4 parameters"):
        fk.fit("binary ~ x + z + k", data=tiny, family="logit")


def test_bad_arguments_are_named(data):
    _, ddf = data
    with pytest.raises(fk.DataError, match="uses 'nope', which is not a column"):
        fk.fit("binary ~ nope", data=ddf, family="logit")
    with pytest.raises(fk.DataError, match="No parquet data at"):
        fk.fit("binary ~ x", data="/nonexistent/rows.parquet", family="logit")
    with pytest.raises(fk.SpecificationError, match="'client' must be a distributed.Client"):
        fk.fit("binary ~ x", data=ddf, family="logit", client=3)
    with pytest.raises(fk.SpecificationError, match="give offset= as a column name"):
        fk.fit("count ~ x", data=ddf, family="poisson", offset=np.zeros(1600))
    with pytest.raises(fk.DataError, match="The cluster column 'nope' is not in the data"):
        fk.fit("count ~ x", data=ddf, family="poisson", cluster="nope")


def test_per_row_quantities_say_the_rows_are_not_in_memory(data):
    _, ddf = data
    res = fk.fit("count ~ x", data=ddf, family="poisson")
    with pytest.raises(NotInMemoryError, match="keeps only sums over partitions"):
        res.information_matrix_test()
    with pytest.raises(NotInMemoryError, match="not held in memory, so there is no 'y'"):
        res.model.data.y
    with pytest.raises(fk.SpecificationError, match="fit with cluster='column'"):
        res.model.group_scores(res.theta, np.zeros(res.n_obs))


#: failures left for each partition's read (see :func:`_read_partition`)
FAILURES: dict = {}


def _read_partition(k, rows):
    """A partition's read that fails while ``FAILURES[k]`` is positive."""
    if FAILURES.get(k, 0) > 0:
        FAILURES[k] -= 1
        raise OSError(f"simulated failed read of partition {k}")
    return rows


def flaky_frame(df, fails: int, npartitions=4):
    """``df`` in partitions whose reads of partition 1 fail the first ``fails`` times."""
    from dask import delayed
    pieces = np.array_split(np.arange(len(df)), npartitions)
    FAILURES.clear()
    FAILURES[1] = fails
    return dd.from_delayed([delayed(_read_partition, pure=False)(k, df.iloc[rows])
                            for k, rows in enumerate(pieces)], meta=df.iloc[:0])


@pytest.mark.parametrize("scheduler", ["distributed", "sync"])
@pytest.mark.parametrize("fails, retries", [(2, 2), (0, 0), (3, 2), (1, 0)])
def test_retries_rerun_a_failing_task_that_many_times(data, client, scheduler, fails, retries):
    """On a cluster Dask reruns the task; on a local scheduler the pass is run again. Either
    way a task failing ``fails`` times succeeds when ``fails <= retries``."""
    import dask
    df, _ = data
    frame = flaky_frame(df, fails)
    options = dict(client=client) if scheduler == "distributed" else {}
    with dask.config.set(scheduler="sync"):
        if fails <= retries:
            res = fk.fit("count ~ x", data=frame, family="poisson", retries=retries, **options)
            memory = fk.fit("count ~ x", data=df, family="poisson")
            np.testing.assert_allclose(res.params, memory.params, rtol=TOL)
            assert FAILURES[1] == 0
            return
        with pytest.raises(DaskComputationError,
                           match=r"computing the rows and design checks failed"
                                 + (f" after {retries} retries" if retries else "")
                                 + r" \(OSError: simulated failed read of partition 1\); "
                                   "no result is returned"):
            fk.fit("count ~ x", data=frame, family="poisson", retries=retries, **options)
    # the first failure beyond the retries stops the fit
    assert FAILURES[1] == fails - retries - 1


def test_a_data_error_is_not_retried_and_retries_are_checked(data):
    df, ddf = data
    with pytest.raises(fk.SpecificationError, match="'retries' must be a non-negative integer"):
        fk.fit("count ~ x", data=ddf, family="poisson", retries=-1)
    with pytest.raises(fk.SpecificationError, match="'retries' must be a non-negative integer"):
        fk.fit("count ~ x", data=ddf, family="poisson", retries=1.5)
    calls = {"n": 0}

    def bad_read(rows):
        calls["n"] += 1
        return rows.assign(x=np.inf)

    import dask
    frame = dd.from_delayed([dask.delayed(bad_read)(df.iloc[:100])], meta=df.iloc[:0])
    with dask.config.set(scheduler="sync"), pytest.raises(fk.DataError, match="infinite"):
        fk.fit("count ~ x", data=frame, family="poisson", retries=3)
    assert calls["n"] == 1


def test_a_killed_worker_names_dasks_allowed_failures():
    from fisherkit.distributed.model import _failure
    killed = type("KilledWorker", (Exception,), {})("Attempted to run task on 4 workers")
    message = str(_failure(killed, "the score", 2))
    assert "after 2 retries" in message and "'distributed.scheduler.allowed-failures'" in message
    assert "not retries=" in message


def test_object_columns_follow_the_in_memory_column_policy(data):
    """An ``object`` column of numbers is numeric and one of text categorical, as in
    memory (Dask keeps object columns when its string conversion is off)."""
    import dask
    df, _ = data
    objects = df.assign(x=df["x"].astype(object).where(df["x"].notna(), None),
                        g=df["g"].astype(object))
    memory = fk.fit("count ~ x + g", data=objects, family="poisson")
    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_pandas(objects, npartitions=4, sort=False)
        assert frame.dtypes["x"] == object and frame.dtypes["g"] == object
        on_dask = fk.fit("count ~ x + g", data=frame, family="poisson")
        assert on_dask.names == memory.names == ("Intercept", "x", "g[T.b]", "g[T.c]",
                                                 "g[T.d]")
        assert on_dask.n_dropped == memory.n_dropped == 4
        np.testing.assert_allclose(on_dask.params, memory.params, rtol=TOL)
        np.testing.assert_allclose(on_dask.se, memory.se, rtol=TOL)
        # numbers in some partitions and text in others: refused as a mixed column is
        mixed = objects.assign(x=objects["x"].where(objects.index < 800, "n/a"))
        with pytest.raises(fk.DataError, match=r"column 'x' mixes numbers and text"):
            fk.fit("count ~ x", data=mixed, family="poisson")
        with pytest.raises(fk.DataError, match=r"column 'x' mixes numbers and text: partition "
                                               r"0 holds numbers and partition 2 text \('n/a' "
                                               r"at row 800\)"):
            fk.fit("count ~ x", data=dd.from_pandas(mixed, npartitions=4, sort=False),
                   family="poisson")


def test_separation_is_counted_over_partitions():
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    df = pd.DataFrame({"x": x, "w": rng.normal(size=400), "y": (x > 0).astype(float)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fk.fit("y ~ x + w", data=dd.from_pandas(df, npartitions=3), family="logit",
                     maxiter=30)
    separation = [str(w.message) for w in caught if issubclass(w.category, fk.SeparationWarning)]
    # y = (x > 0) separates every row: the count is the whole data's, not one partition's
    assert len(separation) == 1 and separation[0].startswith("400 observations are fitted")
    assert "separation" in res.flags


def _heteroscedastic_logpdf(y, mu, sigma):
    return -0.5 * ((y - mu) / sigma) ** 2 - anp.log(sigma)


def test_a_predictor_offset_column_is_read_from_the_partitions():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=400), "z": rng.normal(size=400),
                       "s_off": rng.uniform(-0.5, 0.5, 400)})
    df["y"] = df["x"] + np.exp(0.3 * df["z"] + df["s_off"]) * rng.normal(size=400)
    family = fk.Family(_heteroscedastic_logpdf, mu=fk.Predictor(),
                       sigma=fk.Predictor("~ z", link="log", offset="s_off"))
    here = fk.fit("y ~ x", data=df, family=family)
    there = fk.fit("y ~ x", data=dd.from_pandas(df, npartitions=3), family=family)
    np.testing.assert_allclose(there.params.to_numpy(), here.params.to_numpy(), rtol=TOL)
    np.testing.assert_allclose(there.se.to_numpy(), here.se.to_numpy(), rtol=1e-8)
    values = fk.Family(_heteroscedastic_logpdf, mu=fk.Predictor(),
                       sigma=fk.Predictor("~ z", link="log", offset=df["s_off"].to_numpy()))
    with pytest.raises(fk.SpecificationError, match="give a fk.Predictor's offset= as a column"):
        fk.fit("y ~ x", data=dd.from_pandas(df, npartitions=3), family=values)
