"""fisherkit.distributed.partitions: the work on one partition of a Dask fit, run on pandas
frames directly: what a partition reads, errors that name it, and pieces whose sums over
partitions are the in-memory model's whole-data values."""

import numpy as np
import pandas as pd
import pytest

import fisherkit as fk
from fisherkit.distributed.partitions import (
    Failure,
    PartitionSpec,
    categorical_candidates,
    check_whole_design,
    classify_partition,
    combine_pieces,
    formula_variables,
    partition_data,
    partition_family,
    partition_pieces,
    pooled_start,
    scan_partition,
    summarize_partition,
)
from fisherkit.models.builtins import make_family
from fisherkit.models.formula import build_data
from fisherkit.models.index_model import Model

FORMULA = "y ~ x + z + g"
LEVELS = {"g": ("a", "b", "c")}
#: sums over partitions differ from the whole-data sums only in the order of additions
TOL = 1e-11


def make_frame(n=300, seed=5):
    """Covariates, a level "c" that only the last rows hold, clusters across the rows."""
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b"], n).astype(object)
    g[-40:] = "c"
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.uniform(-1, 1, n), "g": g,
                       "firm": rng.integers(0, 12, n)})
    eta = 0.3 + 0.8 * df["x"] - 0.5 * df["z"] + 0.4 * (df["g"] == "b") - 0.6 * (df["g"] == "c")
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return df


def split(df, k=3):
    return [df.iloc[rows] for rows in np.array_split(np.arange(len(df)), k)]


@pytest.fixture(scope="module")
def frame():
    return make_frame()


@pytest.fixture(scope="module")
def spec():
    return PartitionSpec(FORMULA, make_family("logit"), categories=LEVELS, cluster="firm")


# ---- what a partition reads ---------------------------------------------------------------

def test_formula_variables_are_the_outcome_and_every_formula_part():
    assert formula_variables("y ~ x + C(g)", make_family("logit")) == ("y", ["y", "x + C(g)"])
    assert formula_variables("~ x", make_family("logit")) == ("", ["1", "x"])
    family = fk.Family(lambda y, mu, sigma: -((y - mu) / sigma) ** 2, mu=fk.Predictor(),
                       sigma=fk.Predictor("~ w", link="log"))
    assert formula_variables("y ~ x", family) == ("y", ["y", "x", "w"])
    with pytest.raises(fk.SpecificationError,
                       match=r"The formula must read 'outcome ~ terms'; got 'y x'"):
        formula_variables("y x", family)


def test_categorical_candidates_are_the_variables_used_only_inside_c():
    used, wrapped = categorical_candidates(["y", "x + C(g) + C(h) + h", "np.log(w)"])
    assert used == ["g", "h", "w", "x", "y"]
    assert wrapped == {"g"}  # h is used bare as well


def test_scan_partition_gives_the_distinct_values_without_missing_ones():
    part = pd.DataFrame({"g": ["b", None, "a", "b"], "k": [1.0, np.nan, 1.0, 2.0]})
    found = scan_partition(part, ["g", "k"])
    assert sorted(found["g"]) == ["a", "b"] and sorted(found["k"]) == [1.0, 2.0]


def test_classify_partition_follows_the_in_memory_column_policy():
    part = pd.DataFrame({"num": [1, 2.5, None, True], "text": ["b", None, "a", "b"],
                         "none": [None] * 4, "mixed": [1.0, 2.0, 3.0, "n/a"]},
                        index=[10, 11, 12, 13], dtype=object)
    found = classify_partition(part, 2, ["num", "text", "none"])
    assert found["num"] == {"kind": "numbers"} and found["none"] == {"kind": "empty"}
    assert found["text"]["kind"] == "text" and sorted(found["text"]["values"]) == ["a", "b"]
    assert found["text"]["first"] == (10, "b")
    with pytest.raises(fk.DataError, match=r"In partition 2: The column 'mixed' mixes numbers "
                                           r"and text: row 13 holds 'n/a' among 3 numbers"):
        classify_partition(part, 2, ["mixed"])


# ---- errors that name the partition -------------------------------------------------------

def test_missing_values_and_unknown_levels_name_their_partition(frame):
    with_missing = frame.assign(x=frame["x"].where(frame.index != 250))
    spec = PartitionSpec(FORMULA, make_family("logit"), categories=LEVELS, missing="raise")
    parts = split(with_missing)
    partition_data(parts[0], 0, spec)  # the first partition has no missing value
    with pytest.raises(fk.DataError, match=r"^In partition 2: Missing values"):
        partition_data(parts[2], 2, spec)
    narrow = PartitionSpec(FORMULA, make_family("logit"), categories={"g": ("a", "b")})
    with pytest.raises(fk.DataError,
                       match=r"The column 'g' holds the level 'c' in partition 2, which is not "
                             r"among its levels \['a', 'b'\]"):
        partition_data(split(frame)[2], 2, narrow)


def test_an_ordinal_partition_codes_its_outcome_against_the_whole_datas_levels():
    family = partition_family(make_family("ordinal"), (0.0, 1.0, 2.0, 3.0))
    spec = PartitionSpec("y ~ x", family, outcome_levels=(0.0, 1.0, 2.0, 3.0))
    part = pd.DataFrame({"x": [0.1, -0.3, 0.5], "y": [2.0, 3.0, 2.0]})  # lacks levels 0 and 1
    data = partition_data(part, 0, spec)
    np.testing.assert_array_equal(data.y, [2.0, 3.0, 2.0])
    assert data.levels == (0.0, 1.0, 2.0, 3.0)
    with pytest.raises(fk.DataError, match=r"^In partition 0: The outcome column 'y' holds the "
                                           r"level .*7\.0.*, not among the levels \[0\.0, 1\.0, "
                                           r"2\.0, 3\.0\]"):
        partition_data(part.assign(y=[2.0, 7.0, 2.0]), 0, spec)


# ---- pieces and their sums ----------------------------------------------------------------

def test_pieces_summed_over_partitions_are_the_whole_datas(frame, spec):
    family = make_family("logit")
    whole = Model(family, build_data(FORMULA, frame, family, cluster="firm"))
    theta = whole.start_values() + np.array([0.1, 0.5, -0.3, 0.2, -0.4])
    want = ("score", "hessian", "opg", "groups", "separated", ("expected", ()))
    pieces = [partition_pieces(part, k, spec, theta, want) for k, part in enumerate(split(frame))]
    total = combine_pieces(*pieces)
    loglik, score, hessian = whole.derivatives(theta)
    assert total["n_obs"] == whole.n_obs == 300
    assert total["loglik"] == pytest.approx(loglik, rel=TOL)
    np.testing.assert_allclose(total["score"], score, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(total["hessian"], hessian, rtol=TOL)
    np.testing.assert_allclose(total["opg"], whole.opg(theta), rtol=TOL)
    np.testing.assert_allclose(total["groups"].to_numpy(),
                               whole.group_scores(theta, whole.data.cluster), rtol=TOL, atol=TOL)
    assert list(total["groups"].index) == sorted(frame["firm"].unique())
    assert total["separated"] == whole.count_separated(theta) == 0
    expected = total[("expected", ())]
    assert expected["method"] == "closed"
    np.testing.assert_allclose(expected["matrix"], whole.expected_information(theta).matrix,
                               rtol=TOL)


def test_a_soft_piece_that_fails_is_kept_until_asked_for(frame):
    # the expected information of a censored Weibull model is refused; as a soft piece the
    # refusal is returned (and kept when pieces are added) instead of stopping the pass
    rng = np.random.default_rng(2)
    df = frame.assign(t=rng.weibull(1.5, len(frame)) + 0.01, d=(rng.random(len(frame)) < 0.7) * 1.0)
    spec = PartitionSpec("t ~ x", make_family("weibull"), aux={"event": "d"})
    theta = np.array([0.0, 0.1, 0.2])
    want = ("loglik", ("expected", ()))
    pieces = [partition_pieces(part, k, spec, theta, want, soft=want[1:])
              for k, part in enumerate(split(df))]
    assert all(isinstance(p[("expected", ())], Failure) for p in pieces)
    total = combine_pieces(*pieces)
    assert isinstance(total[("expected", ())], Failure) and np.isfinite(total["loglik"])
    assert "depends on the censoring" in str(total[("expected", ())].error)
    with pytest.raises(fk.DataError, match="depends on the censoring"):
        partition_pieces(split(df)[0], 0, spec, theta, want)


def test_an_empty_partition_gives_only_its_count(frame, spec):
    out = partition_pieces(frame.iloc[:0], 0, spec, np.zeros(5), ("score", "opg"))
    assert out == {"n_obs": 0}
    total = combine_pieces(out, partition_pieces(frame, 1, spec, np.zeros(5), ("opg",)))
    assert total["n_obs"] == 300 and total["opg"].shape == (5, 5)


# ---- checks and start on the whole data set ------------------------------------------------

def summaries(parts, spec, sample_rows=1000):
    return [summarize_partition(part, k, spec, sample_rows) for k, part in enumerate(parts)]


def check(parts, spec):
    found = summaries(parts, spec)
    template = Model(spec.family, found[0]["sample"].take(slice(0, 0)))
    check_whole_design(found, template.data.column_names, template.n_params)


def test_the_design_checks_see_the_whole_data_not_one_partition(frame):
    spec = PartitionSpec("y ~ x + k", make_family("logit"))
    # k is constant inside each partition but not over the data: accepted
    parts = [part.assign(k=float(i)) for i, part in enumerate(split(frame))]
    check(parts, spec)
    with pytest.raises(fk.DataError, match=r"\['k'\] of the 'mu' design are constant"):
        check([part.assign(k=1.0) for part in split(frame)], spec)
    spec = PartitionSpec("y ~ x + x2", make_family("logit"))
    # x2 equals x in one partition only: accepted; everywhere: refused
    parts = [part.assign(x2=part["x"] if i == 0 else part["z"]) for i, part in enumerate(split(frame))]
    check(parts, spec)
    with pytest.raises(fk.DataError, match="'x' and 'x2' of the 'mu' design are identical"):
        check([part.assign(x2=part["x"]) for part in split(frame)], spec)
    with pytest.raises(fk.DataError, match="3 usable rows for at least 4 parameters"):
        check([frame.head(2), frame.iloc[2:3]], PartitionSpec("y ~ x + z + firm",
                                                               make_family("logit")))


def test_the_summary_counts_rows_and_the_pooled_start_is_the_in_memory_start(frame, spec):
    with_missing = frame.assign(x=frame["x"].where(~frame.index.isin([5, 150, 151])))
    found = summaries(split(with_missing), spec)
    assert [s["n_obs"] for s in found] == [99, 98, 100]
    assert [s["n_dropped"] for s in found] == [1, 2, 0]
    family = make_family("logit")
    whole = Model(family, build_data(FORMULA, with_missing, family))
    # every row is sampled here, so the pooled start is the whole data's
    np.testing.assert_allclose(pooled_start(spec.family, [s["sample"] for s in found]),
                               whole.start_values(), rtol=1e-12)
    # with fewer rows sampled, evenly spaced rows of each partition are kept
    few = summaries(split(frame), spec, sample_rows=10)
    assert [s["sample"].n_obs for s in few] == [10, 10, 10]
