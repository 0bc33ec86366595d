"""fisherkit.models.formula: missing data, categorical and transformed terms, outcomes,
``ModelData``, and the design's layout and cheap checks.

Coefficients of designs built by formulaic are checked against statsmodels fits of the same
formula (patsy builds statsmodels' design, so the two sides share no code). Both sides are
maximum-likelihood fits run to a tight tolerance, so they agree to far better than the
``rtol=1e-6`` used below; the slack is for the optimizers' stopping rules.
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.miscmodels.ordinal_model import OrderedModel

import fisherkit as fk
from fisherkit.models.builtins import make_family
from fisherkit.models.design_checks import check_design_columns, design_summary
from fisherkit.models.formula import (
    ModelData,
    _plain_design,
    build_data,
)
from fisherkit.models.index_model import Model

N = 200
RTOL_VS_STATSMODELS = 1e-6


def make_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Simulated data for every family used here, with a string column ``g``."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.uniform(0.5, 3.0, size=n)
    g = rng.choice(["a", "b", "c"], size=n)
    eta = 0.3 + 0.8 * x1 - 0.4 * x2 + 0.5 * (g == "b")
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    exposure = rng.uniform(0.5, 2.0, size=n)
    count = rng.poisson(exposure * np.exp(0.2 + 0.3 * x1)).astype(float)
    trials = rng.integers(1, 8, size=n).astype(float)
    successes = rng.binomial(trials.astype(int), 1.0 / (1.0 + np.exp(-0.5 * x1))).astype(float)
    time = rng.exponential(np.exp(0.5 + 0.3 * x1))
    event = (rng.random(n) < 0.8).astype(float)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g, "count": count,
                         "log_exposure": np.log(exposure), "trials": trials,
                         "successes": successes, "time": time, "event": event,
                         "unused": rng.normal(size=n)})


def sm_logit(formula: str, data: pd.DataFrame) -> pd.Series:
    return smf.logit(formula, data=data).fit(method="newton", tol=1e-12, maxiter=100,
                                             disp=0).params


# ---- missing values ---------------------------------------------------------------------

DROP = [3, 17, 150]


@pytest.mark.parametrize("column, value", [
    ("x1", np.nan),
    ("x1", None),   # None assigned into a float column is stored as NaN
    ("g", None),    # None in a string (object) column
    ("g", np.nan),
    ("y", np.nan),  # the outcome
])
def test_missing_value_in_used_column_drops_the_row(column, value):
    df = make_frame()
    df.loc[DROP, column] = value
    res = fk.fit("y ~ x1 + g", data=df, family="logit")
    assert res.n_dropped == len(DROP)
    assert res.n_obs == N - len(DROP)
    complete = fk.fit("y ~ x1 + g", data=make_frame().drop(index=DROP), family="logit")
    np.testing.assert_allclose(res.params, complete.params, rtol=1e-12)


def test_rows_missing_in_several_columns_are_counted_once():
    df = make_frame()
    df.loc[[3, 17], "x1"] = np.nan
    df.loc[[17, 40], "y"] = np.nan
    df.loc[[40, 41], "g"] = None
    res = fk.fit("y ~ x1 + g", data=df, family="logit")
    assert res.n_dropped == 4  # rows 3, 17, 40, 41
    assert res.n_obs == N - 4


def test_missing_values_in_pandas_nullable_dtypes_drop_the_row():
    df = make_frame()
    df["x1"] = df["x1"].astype("Float64")
    df["y"] = df["y"].astype("Int64")
    df.loc[5, "x1"] = pd.NA
    df.loc[6, "y"] = pd.NA
    res = fk.fit("y ~ x1", data=df, family="logit")
    assert res.n_dropped == 2


def test_missing_value_inside_a_transform_or_interaction_drops_the_row():
    df = make_frame()
    df.loc[[8, 9], "x2"] = np.nan
    res = fk.fit("y ~ x1 * C(g) + np.log(x2)", data=df, family="logit")
    assert res.n_dropped == 2
    assert res.n_obs == N - 2


def test_missing_in_an_unused_column_drops_nothing():
    df = make_frame()
    df.loc[::3, "unused"] = np.nan
    df.loc[::5, "count"] = np.nan
    res = fk.fit("y ~ x1 + g", data=df, family="logit")
    assert res.n_dropped == 0
    assert res.n_obs == N


@pytest.mark.parametrize("as_array", [False, True], ids=["column", "array"])
def test_missing_offset_drops_the_row(as_array):
    df = make_frame()
    df.loc[[2, 11], "log_exposure"] = np.nan
    offset = df["log_exposure"].to_numpy() if as_array else "log_exposure"
    res = fk.fit("count ~ x1", data=df, family="poisson", offset=offset)
    assert res.n_dropped == 2
    complete = make_frame().drop(index=[2, 11])
    ref = fk.fit("count ~ x1", data=complete, family="poisson", offset="log_exposure")
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)


def test_missing_trials_drops_the_row():
    df = make_frame()
    df.loc[[4, 90, 91], "trials"] = np.nan
    res = fk.fit("successes ~ x1", data=df, family="binomial", trials="trials")
    assert res.n_dropped == 3
    assert res.n_obs == N - 3


@pytest.mark.parametrize("family", ["exponential", "weibull"])
def test_missing_event_drops_the_row(family):
    df = make_frame()
    df.loc[[0, 199], "event"] = np.nan
    res = fk.fit("time ~ x1", data=df, family=family, event="event")
    assert res.n_dropped == 2
    complete = make_frame().drop(index=[0, 199])
    ref = fk.fit("time ~ x1", data=complete, family=family, event="event")
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)


@pytest.mark.parametrize("column", ["x1", "y", "g"])
def test_missing_raise_names_the_column(column):
    df = make_frame()
    df.loc[7, column] = None
    with pytest.raises(fk.DataError, match=rf"Missing values in column\(s\) \['{column}'\]"):
        fk.fit("y ~ x1 + g", data=df, family="logit", missing="raise")


def test_missing_raise_names_the_offset():
    df = make_frame()
    df.loc[7, "log_exposure"] = np.nan
    with pytest.raises(fk.DataError, match=r"Missing values in column\(s\) \['offset'\], "
                                           r"first at row 7"):
        fk.fit("count ~ x1", data=df, family="poisson", offset="log_exposure", missing="raise")


def test_missing_raise_on_complete_data_fits():
    df = make_frame()
    res = fk.fit("y ~ x1", data=df, family="logit", missing="raise")
    assert res.n_dropped == 0


# ---- categorical predictors ---------------------------------------------------------------

def test_categorical_names_follow_formulaic():
    df = make_frame()
    res = fk.fit("y ~ C(g) + x1", data=df, family="logit")
    assert list(res.params.index) == ["Intercept", "C(g)[T.b]", "C(g)[T.c]", "x1"]


def test_string_column_is_treated_as_categorical():
    df = make_frame()
    res = fk.fit("y ~ g + x1", data=df, family="logit")
    assert list(res.params.index) == ["Intercept", "g[T.b]", "g[T.c]", "x1"]
    via_c = fk.fit("y ~ C(g) + x1", data=df, family="logit")
    np.testing.assert_allclose(res.params.to_numpy(), via_c.params.to_numpy(), rtol=1e-12)


def test_pandas_categorical_uses_its_first_category_as_reference():
    df = make_frame()
    df["g"] = pd.Categorical(df["g"], categories=["c", "a", "b"])
    res = fk.fit("y ~ g", data=df, family="logit")
    assert list(res.params.index) == ["Intercept", "g[T.a]", "g[T.b]"]


def test_level_first_seen_late_in_the_data_gets_its_column():
    # the design spec is read from the first rows: a level appearing only later must not
    # be lost (nor its rows silently folded into the reference level)
    df = make_frame()
    df["late"] = np.where(np.arange(N) < 120, "a", np.where(np.arange(N) % 2 == 0, "b", "c"))
    res = fk.fit("y ~ late", data=df, family="logit")
    assert list(res.params.index) == ["Intercept", "late[T.b]", "late[T.c]"]
    ref = sm_logit("y ~ late", df)
    np.testing.assert_allclose(res.params[ref.index], ref, rtol=RTOL_VS_STATSMODELS)


# ---- interactions and transforms against statsmodels ---------------------------------------

@pytest.mark.parametrize("rhs", [
    "x1:x2",
    "x1 * x2",
    "np.log(x2) + x1",
    "C(g) + x1",
    "C(g) * x1",
    "x1 * x2 + np.log(x2) + C(g)",
])
def test_coefficients_equal_statsmodels_on_the_same_design(rhs):
    df = make_frame()
    res = fk.fit(f"y ~ {rhs}", data=df, family="logit")
    ref = sm_logit(f"y ~ {rhs}", df)
    assert res.converged
    assert sorted(res.params.index) == sorted(ref.index)
    np.testing.assert_allclose(res.params[ref.index], ref, rtol=RTOL_VS_STATSMODELS)


def test_interaction_column_is_the_product():
    df = make_frame()
    data = build_data("y ~ x1:x2", df, make_family("logit"))
    assert data.column_names["mu"] == ("Intercept", "x1:x2")
    np.testing.assert_array_equal(data.designs["mu"][:, 1], df["x1"] * df["x2"])


def test_transform_column_is_evaluated():
    df = make_frame()
    data = build_data("y ~ np.log(x2)", df, make_family("logit"))
    assert data.column_names["mu"] == ("Intercept", "np.log(x2)")
    np.testing.assert_allclose(data.designs["mu"][:, 1], np.log(df["x2"]), rtol=1e-15)


# ---- outcomes -------------------------------------------------------------------------------

def test_bool_outcome_works_for_logit():
    df = make_frame()
    df["passed"] = df["y"].astype(bool)
    res = fk.fit("passed ~ x1 + x2", data=df, family="logit")
    ref = fk.fit("y ~ x1 + x2", data=df, family="logit")
    assert res.converged
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
    assert res.loglik == pytest.approx(ref.loglik, rel=1e-12)


def _ordinal_frame(categories):
    df = make_frame()
    rng = np.random.default_rng(5)
    latent = 1.2 * df["x2"] + rng.logistic(size=N)
    labels = np.select([latent < 1.5, latent < 3.0], ["low", "mid"], "high")
    df["rating"] = pd.Categorical(labels, categories=categories, ordered=True)
    return df


def test_ordinal_outcome_follows_the_categorical_order():
    # "low" < "mid" < "high" is not the alphabetical order
    df = _ordinal_frame(["low", "mid", "high"])
    res = fk.fit("rating ~ x2", data=df, family="ordinal")
    assert res.model.data.levels == ("low", "mid", "high")
    assert list(res.params.index) == ["x2", "low|mid", "mid|high"]
    assert res.params["x2"] > 0
    assert res.params["low|mid"] < res.params["mid|high"]
    # statsmodels' OrderedModel reports the first cut point and the log of the gap, as
    # fisherkit's working scale does
    ref = OrderedModel(df["rating"], df[["x2"]], distr="logit").fit(
        method="bfgs", gtol=1e-10, maxiter=1000, disp=0)
    np.testing.assert_allclose(res.params_working.to_numpy(), ref.params.to_numpy(), rtol=1e-5)


def test_reversing_the_category_order_mirrors_the_fit():
    forward = fk.fit("rating ~ x2", data=_ordinal_frame(["low", "mid", "high"]), family="ordinal")
    backward = fk.fit("rating ~ x2", data=_ordinal_frame(["high", "mid", "low"]),
                      family="ordinal")
    assert list(backward.params.index) == ["x2", "high|mid", "mid|low"]
    # logistic symmetry: P(Y <= j) under one order is P(Y >= j) under the other
    assert backward.params["x2"] == pytest.approx(-forward.params["x2"], rel=1e-7)
    np.testing.assert_allclose(backward.params.iloc[1:].to_numpy(),
                               -forward.params.iloc[1:].to_numpy()[::-1], rtol=1e-7)
    assert backward.loglik == pytest.approx(forward.loglik, rel=1e-10)


# ---- build_data and ModelData ---------------------------------------------------------------

def test_build_data_contents():
    df = make_frame()
    df.loc[[1, 2], "x1"] = np.nan
    data = build_data("count ~ C(g) + x1", df, make_family("poisson"), offset="log_exposure",
                      cluster="g")
    assert isinstance(data, ModelData)
    assert data.n_obs == N - 2 and data.n_dropped == 2
    assert data.outcome == "count"
    assert list(data.index) == [i for i in range(N) if i not in (1, 2)]
    assert data.column_names["mu"] == ("Intercept", "C(g)[T.b]", "C(g)[T.c]", "x1")
    assert data.designs["mu"].shape == (N - 2, 4)
    kept = df.drop(index=[1, 2])
    np.testing.assert_array_equal(data.y, kept["count"].to_numpy())
    np.testing.assert_array_equal(data.offsets["mu"], kept["log_exposure"].to_numpy())
    np.testing.assert_array_equal(data.cluster, kept["g"].to_numpy())
    np.testing.assert_array_equal(data.designs["mu"][:, 3], kept["x1"].to_numpy())


def test_build_data_docstring_example():
    df = pd.DataFrame({"y": [0, 1, 1, 0], "x": [1.0, 2.0, 3.0, None]})
    assert build_data("y ~ x", df, make_family("logit")).n_dropped == 1


def test_take_restricts_every_per_row_array():
    df = make_frame()
    data = build_data("successes ~ x1 + g", df, make_family("binomial"), trials="trials",
                      cluster="g")
    rows = np.array([5, 0, 17, 42])
    part = data.take(rows)
    assert part.n_obs == 4
    assert part.n_dropped == 0
    assert part.column_names == data.column_names
    np.testing.assert_array_equal(part.y, data.y[rows])
    np.testing.assert_array_equal(part.designs["mu"], data.designs["mu"][rows])
    np.testing.assert_array_equal(part.aux["trials"], data.aux["trials"][rows])
    np.testing.assert_array_equal(part.cluster, data.cluster[rows])
    by_slice = data.take(slice(10, 20))
    np.testing.assert_array_equal(by_slice.y, data.y[10:20])


def test_take_keeps_offsets_aligned():
    df = make_frame()
    data = build_data("count ~ x1", df, make_family("poisson"), offset="log_exposure")
    part = data.take(slice(50, 60))
    np.testing.assert_array_equal(part.offsets["mu"], data.offsets["mu"][50:60])


def test_log_likelihood_adds_over_partitions_made_by_take():
    df = make_frame()
    family = make_family("poisson")
    data = build_data("count ~ x1 + g", df, family, offset="log_exposure")
    theta = np.array([0.1, -0.2, 0.3, 0.25])
    whole = Model(family, data).loglik(theta)
    rng = np.random.default_rng(3)
    order = rng.permutation(N)
    parts = [Model(family, data.take(order[a:a + 50])).loglik(theta) for a in range(0, N, 50)]
    assert sum(parts) == pytest.approx(whole, rel=1e-12)


# ---- the design's layout and the checks from its source columns ---------------------------


def test_designs_are_built_column_major_also_after_dropping_rows():
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"y": (rng.random(300) < 0.5).astype(float),
                       "a": rng.standard_normal(300), "b": rng.standard_normal(300)})
    family = make_family("logit")
    X = build_data("y ~ a + b", df, family).designs["mu"]
    assert X.flags.f_contiguous
    np.testing.assert_array_equal(X[:, 1:], df[["a", "b"]].to_numpy())
    df.loc[[4, 9], "b"] = np.nan
    X = build_data("y ~ a + b", df, family).designs["mu"]
    assert X.flags.f_contiguous and X.shape == (298, 3)
    np.testing.assert_array_equal(X[:, 1:], df[["a", "b"]].dropna().to_numpy())
    X = build_data("y ~ a + np.exp(b)", df, family).designs["mu"]
    assert X.flags.f_contiguous and X.shape == (298, 3)


def test_summary_from_source_columns_equals_the_summary_of_the_design():
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"a": rng.standard_normal(5000), "b": rng.random(5000),
                       "c": rng.integers(0, 4, 5000).astype(float)})
    X, names, _, (lo, hi, proj) = _plain_design("a + b + c", df, drop_intercept=False)
    assert names == ("Intercept", "a", "b", "c")
    lo2, hi2, proj2 = design_summary(X)
    np.testing.assert_array_equal(lo, lo2)
    np.testing.assert_array_equal(hi, hi2)
    np.testing.assert_allclose(proj, proj2, rtol=1e-12)


def test_design_check_from_the_source_summary_still_finds_problems():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"a": rng.standard_normal(300), "k": np.full(300, 2.0)})
    df["a2"] = df["a"]
    X, names, _, summary = _plain_design("a + k", df, drop_intercept=False)
    with pytest.raises(fk.DataError, match=r"\['k'\].*constant"):
        check_design_columns(X, names, "mu", summary)
    X, names, _, summary = _plain_design("a + a2", df, drop_intercept=False)
    with pytest.raises(fk.DataError, match="'a' and 'a2'.*identical"):
        check_design_columns(X, names, "mu", summary)


def test_missing_and_infinite_values_in_plain_columns_are_still_found():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"y": (rng.random(200) < 0.5).astype(float),
                       "a": rng.standard_normal(200), "b": rng.standard_normal(200)})
    df.loc[[3, 17], "a"] = np.nan
    data = build_data("y ~ a + b", df, make_family("logit"))
    assert data.n_dropped == 2 and data.n_obs == 198
    assert np.all(np.isfinite(data.designs["mu"]))
    np.testing.assert_array_equal(data.designs["mu"][:, 1:], df[["a", "b"]].dropna().to_numpy())
    df.loc[40, "b"] = -np.inf
    with pytest.raises(fk.DataError, match="'b' holds infinite values, first at row 40"):
        build_data("y ~ a + b", df, make_family("logit"))


def test_missing_and_infinite_values_beyond_the_first_piece_of_a_column_are_found():
    # the plain design is copied and summarized in pieces; a NaN in a later piece must
    # still mark its row, and an infinite value still be refused
    rng = np.random.default_rng(10)
    n = 300_000
    df = pd.DataFrame({"y": (rng.random(n) < 0.5).astype(float), "a": rng.standard_normal(n)})
    df.loc[250_000, "a"] = np.nan
    data = build_data("y ~ a", df, make_family("logit"))
    assert data.n_dropped == 1 and 250_000 not in data.index
    df.loc[200_001, "a"] = np.inf
    with pytest.raises(fk.DataError, match="'a' holds infinite values, first at row 200001"):
        build_data("y ~ a", df, make_family("logit"))


def test_a_misspelt_option_names_itself_and_the_familys_data():
    spector = fk.datasets.load("spector")
    with pytest.raises(fk.SpecificationError,
                       match=r"logit family does not take \['clientt'\]: it takes no extra data, "
                             r"and fk.fit has no such option"):
        fk.fit("GRADE ~ GPA", spector, "logit", clientt=1)
    with pytest.raises(fk.SpecificationError, match=r"its extra data are \['trials'\]"):
        fk.fit("GRADE ~ GPA", spector, "binomial", trials=np.ones(len(spector)), exposure=1)


def test_a_series_option_is_matched_to_the_rows_by_its_index():
    ships = fk.datasets.load("ships")
    complete = ships.dropna(subset=["accident", "service"])
    exposure = np.log(complete["service"])
    by_array = fk.fit("accident ~ op_75_79", complete, "poisson", offset=exposure.to_numpy())
    # the same offsets in another row order: matched by label, so the same fit
    shuffled = exposure.sample(frac=1.0, random_state=0)
    by_label = fk.fit("accident ~ op_75_79", complete, "poisson", offset=shuffled)
    np.testing.assert_array_equal(by_label.params.to_numpy(), by_array.params.to_numpy())
    # statsmodels with the offset in the data's own order, as an independent check
    import statsmodels.api as sm
    reference = sm.GLM(complete["accident"], sm.add_constant(complete[["op_75_79"]]),
                       family=sm.families.Poisson(), offset=exposure).fit(tol=1e-12)
    np.testing.assert_allclose(by_label.params.to_numpy(), reference.params.to_numpy(),
                               rtol=1e-8)
    positional = pd.Series(exposure.to_numpy())  # a fresh 0..33 index: not the data's rows
    with pytest.raises(fk.DataError,
                       match=r"offset is a pandas Series whose index does not match the data's "
                             r"rows \(5 of the data's row labels are not in it"):
        fk.fit("accident ~ op_75_79", complete, "poisson", offset=positional)


def test_a_formula_without_an_outcome_is_refused():
    with pytest.raises(fk.SpecificationError, match=r"The formula '~ GPA' has no outcome"):
        fk.fit("~ GPA", fk.datasets.load("spector"), "logit")
