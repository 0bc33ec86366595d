"""Every input to a formula fit gives the right answer or is refused, naming the culprit.

Checks the column policy of :mod:`fisherkit.models.columns` as :func:`fk.fit` applies it
through :func:`fisherkit.models.formula.build_data`: conversions that are accepted give the
estimates of the clean data, and refusals are ``fk.DataError`` / ``fk.SpecificationError``
whose message names the column, row, option or parameter at fault.
"""

import datetime
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fisherkit as fk
from fisherkit.models.builtins import make_family
from fisherkit.models.columns import categorical_only, numeric_option, prepare_columns
from fisherkit.models.formula import build_data

N = 40


def make_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "y": 1.0 + 0.5 * x + rng.normal(size=n),
        "x": x,
        "z": rng.uniform(1.0, 2.0, size=n),
        "b": (rng.random(n) < 0.5).astype(float),
        "count": rng.poisson(np.exp(0.3 + 0.2 * x)).astype(float),
        "g": rng.choice(["a", "b", "c"], size=n),
    })


@pytest.fixture
def df() -> pd.DataFrame:
    return make_frame()


def same_fit(a, b, tol=1e-12):
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=tol, atol=tol)
    assert list(a.params.index) == list(b.params.index)


# ---- object columns of numbers are numbers ---------------------------------------------------


def test_object_numbers_fit_as_the_float_column(df):
    obj = df.assign(x=pd.Series(list(df["x"]), dtype=object))
    same_fit(fk.fit("y ~ x", obj), fk.fit("y ~ x", df))


def test_none_in_object_numbers_is_missing_and_the_row_dropped(df):
    values = list(df["x"])
    values[3] = None
    obj = df.assign(x=pd.Series(values, dtype=object))
    res = fk.fit("y ~ x", obj)
    assert res.n_obs == N - 1 and res.n_dropped == 1
    same_fit(res, fk.fit("y ~ x", df.drop(index=3)))


def test_object_integers_decimals_and_pd_na_are_numbers(df):
    ints = df.assign(k=pd.Series(list(df["count"].astype(int)), dtype=object))
    same_fit(fk.fit("y ~ k", ints), fk.fit("y ~ k", df.rename(columns={"count": "k"})))
    dec = df.assign(x=pd.Series([Decimal(repr(v)) for v in df["x"]], dtype=object))
    same_fit(fk.fit("y ~ x", dec), fk.fit("y ~ x", df))
    values = list(df["x"])
    values[0] = pd.NA
    na = df.assign(x=pd.Series(values, dtype=object))
    same_fit(fk.fit("y ~ x", na), fk.fit("y ~ x", df.drop(index=0)))


def test_object_numbers_of_mixed_python_types_are_numbers(df):
    values = [bool(v) if i % 2 else float(v) for i, v in enumerate(df["b"])]
    res = fk.fit("y ~ t", df.assign(t=pd.Series(values, dtype=object)))
    same_fit(res, fk.fit("y ~ t", df.assign(t=df["b"])))


def test_object_numbers_in_C_stay_categorical(df):
    levels = df.assign(k=pd.Series(list(df["count"].astype(int)), dtype=object))
    res = fk.fit("y ~ C(k)", levels)
    assert any(name.startswith("C(k)[T.") for name in res.params.index)


def test_object_outcome_of_numbers_is_converted(df):
    values = list(df["y"])
    values[5] = None
    obj = df.assign(y=pd.Series(values, dtype=object))
    res = fk.fit("y ~ x", obj)
    assert res.n_dropped == 1
    same_fit(res, fk.fit("y ~ x", df.drop(index=5)))
    logit = df.assign(b=pd.Series([int(v) for v in df["b"]], dtype=object))
    same_fit(fk.fit("b ~ x", logit, "logit"), fk.fit("b ~ x", df, "logit"))


# ---- booleans are 0 / 1 ------------------------------------------------------------------------


def test_bool_column_is_zero_one_named_after_the_column(df):
    flags = df.assign(t=df["x"] > 0)
    res = fk.fit("y ~ t", flags)
    assert list(res.params.index) == ["Intercept", "t", "sigma"]
    same_fit(res, fk.fit("y ~ t", df.assign(t=(df["x"] > 0).astype(float))))


def test_bool_outcome_fits_as_zero_one(df):
    same_fit(fk.fit("t ~ x", df.assign(t=df["b"] == 1), "logit"), fk.fit("b ~ x", df, "logit"))


def test_object_bools_with_none_are_zero_one_with_missing(df):
    values = [bool(v) for v in df["b"]]
    values[2] = None
    res = fk.fit("y ~ t", df.assign(t=pd.Series(values, dtype=object)))
    clean = df.assign(t=df["b"]).drop(index=2)
    same_fit(res, fk.fit("y ~ t", clean))


def test_nullable_boolean_and_integer_columns(df):
    t = pd.array([bool(v) for v in df["b"]], dtype="boolean")
    t[4] = pd.NA
    k = pd.array(df["count"].astype(int), dtype="Int64")
    k[4] = pd.NA
    res = fk.fit("y ~ t + k", df.assign(t=t, k=k))
    clean = df.assign(t=df["b"], k=df["count"]).drop(index=4)
    same_fit(res, fk.fit("y ~ t + k", clean), tol=1e-10)


# ---- text is categorical, None in it is missing -------------------------------------------------


def test_text_column_is_categorical_with_none_missing(df):
    values = list(df["g"])
    values[1] = None
    res = fk.fit("y ~ g", df.assign(g=pd.Series(values, dtype=object)))
    assert "g[T.b]" in res.params.index and res.n_dropped == 1
    same_fit(res, fk.fit("y ~ g", df.drop(index=1)))


def test_nullable_string_column_is_categorical(df):
    s = pd.array(list(df["g"]), dtype="string")
    s[1] = pd.NA
    res = fk.fit("y ~ g", df.assign(g=s))
    same_fit(res, fk.fit("y ~ g", df.drop(index=1)))


# ---- mixed number / text columns are refused -------------------------------------------------


@pytest.mark.parametrize("stray", ["3.1", "n/a", "x"])
def test_stray_string_among_numbers_is_refused(df, stray):
    values = list(df["x"])
    values[7] = stray
    with pytest.raises(fk.DataError, match=rf"column 'x' mixes numbers and text: row 7 holds "
                                           rf"'{stray}'.*pd\.to_numeric.*C\(x\)"):
        fk.fit("y ~ x", df.assign(x=pd.Series(values, dtype=object)))


def test_stray_number_among_text_is_refused(df):
    values = list(df["g"])
    values[9] = 3
    with pytest.raises(fk.DataError, match="column 'g' mixes numbers and text: row 9 holds 3 "
                                           "among 39 text"):
        fk.fit("y ~ g", df.assign(g=pd.Series(values, dtype=object)))


def test_stray_string_in_the_outcome_is_refused(df):
    values = list(df["y"])
    values[0] = "oops"
    with pytest.raises(fk.DataError, match="column 'y' mixes numbers and text: row 0 holds 'oops'"):
        fk.fit("y ~ x", df.assign(y=pd.Series(values, dtype=object)))


def test_mixed_column_asked_for_as_C_is_categorical(df):
    values = list(df["g"])
    values[9] = 3
    res = fk.fit("y ~ C(g)", df.assign(g=pd.Series(values, dtype=object)))
    assert "C(g)[T.b]" in res.params.index


def test_row_label_of_an_integer_index_reads_as_written(df):
    values = pd.Series(list(df["x"]), dtype=object)
    values[5] = "q"
    frame = df.set_index(pd.Index(np.zeros(N, dtype=np.int64))).assign(x=values.to_numpy())
    with pytest.raises(fk.DataError, match="row 0 holds 'q'"):
        fk.fit("y ~ x", frame)


def test_row_label_is_the_index_label(df):
    values = pd.Series(list(df["x"]), index=df.index + 100, dtype=object)
    values.iloc[3] = "bad"
    with pytest.raises(fk.DataError, match="row 103 holds 'bad'"):
        fk.fit("y ~ x", df.set_index(df.index + 100).assign(x=values))


def test_other_python_objects_are_refused(df):
    values = [[v] for v in df["x"]]
    with pytest.raises(fk.DataError, match=r"column 'x' holds list values \(\[.*first at row 0"):
        fk.fit("y ~ x", df.assign(x=pd.Series(values, dtype=object)))


# ---- complex, dates, durations, periods -------------------------------------------------------


@pytest.mark.parametrize("make, match", [
    (lambda d: d["x"] + 1j * d["z"], r"column 'x' holds complex numbers.*np\.real"),
    (lambda d: pd.date_range("2020-01-01", periods=len(d)), r"column 'x' holds dates.*\.dt\.days"),
    (lambda d: pd.Series([datetime.date(2020, 1, 1 + i % 28) for i in range(len(d))]),
     r"column 'x' holds dates.*pd\.to_datetime"),
    (lambda d: pd.to_timedelta(np.arange(len(d)), unit="D"),
     r"column 'x' holds durations.*total_seconds"),
    (lambda d: pd.period_range("2020-01", periods=len(d), freq="M"),
     r"column 'x' holds periods.*C\(x\)"),
])
def test_columns_that_are_not_numbers_are_refused(df, make, match):
    with pytest.raises(fk.DataError, match=match):
        fk.fit("y ~ x", df.assign(x=make(df)))


def test_complex_and_datetime_outcomes_are_refused(df):
    with pytest.raises(fk.DataError, match="column 'y' holds complex numbers"):
        fk.fit("y ~ x", df.assign(y=df["y"] + 0j))
    with pytest.raises(fk.DataError, match="column 'y' holds dates or times"):
        fk.fit("y ~ x", df.assign(y=pd.date_range("2020-01-01", periods=N)))


def test_a_period_column_in_C_is_categorical(df):
    months = pd.Series(pd.period_range("2020-01", periods=3, freq="M")).iloc[np.arange(N) % 3]
    res = fk.fit("y ~ C(m)", df.assign(m=months.to_numpy()))
    assert len(res.params) == 4


# ---- what happened to the rows ----------------------------------------------------------------


def test_empty_data_says_so(df):
    with pytest.raises(fk.DataError, match="The data have no rows"):
        fk.fit("y ~ x", df.iloc[:0])


def test_every_row_dropped_names_the_columns(df):
    df["x"] = np.nan
    df.loc[::2, "y"] = np.nan
    with pytest.raises(fk.DataError, match=f"All {N} rows have a missing value in 'y' or 'x'; "
                                           "nothing is left"):
        fk.fit("y ~ x", df)


def test_every_row_dropped_names_an_option(df):
    with pytest.raises(fk.DataError, match="All 40 rows have a missing value in 'offset='"):
        fk.fit("count ~ x", df, "poisson", offset=np.full(N, np.nan))


def test_one_row_says_too_few_rows(df):
    with pytest.raises(fk.DataError, match="1 usable rows for at least 3 parameters"):
        fk.fit("y ~ x", df.iloc[:1])


def test_too_few_rows_counts_the_dropped(df):
    small = df.iloc[:5].copy()
    small.loc[[0, 1], "x"] = np.nan
    with pytest.raises(fk.DataError, match=r"3 usable rows for at least 3 parameters \(2 row"):
        fk.fit("y ~ x", small)


# ---- names -------------------------------------------------------------------------------------


def test_a_used_column_named_Intercept_is_refused(df):
    with pytest.raises(fk.DataError, match="data column 'Intercept'.*rename the column"):
        fk.fit("y ~ x + Intercept", df.assign(Intercept=df["z"]))


def test_an_unused_column_named_Intercept_is_fine(df):
    same_fit(fk.fit("y ~ x", df.assign(Intercept=df["z"])), fk.fit("y ~ x", df))


def test_a_used_duplicated_label_is_refused(df):
    twice = pd.concat([df, df[["x"]]], axis=1)
    with pytest.raises(fk.DataError, match="2 columns labelled 'x'"):
        fk.fit("y ~ x", twice)
    same_fit(fk.fit("y ~ z", twice), fk.fit("y ~ z", df))


def test_a_duplicated_label_given_as_an_option_is_refused(df):
    twice = pd.concat([df, df[["z"]]], axis=1)
    with pytest.raises(fk.DataError, match="2 columns labelled 'z', so the offset column 'z'"):
        fk.fit("y ~ x", twice, offset="z")


def test_an_unknown_name_suggests_close_columns(df):
    with pytest.raises(fk.DataError, match=r"formula 'y ~ xx' uses 'xx', which is not a column "
                                           r".*did you mean 'x'"):
        fk.fit("y ~ xx", df)


# ---- formulas formulaic cannot read -----------------------------------------------------------


@pytest.mark.parametrize("formula, match", [
    ("y ~ x +", r"formula 'y ~ x \+' cannot be used: Operator `\+`"),
    ("y ~ (x", r"formula 'y ~ \(x' cannot be used: .*>>\(<<"),
    ("y ~ np.log(", r"formula 'y ~ np\.log\(' cannot be used"),
    ("y ~ np.lgo(x)", r"formula 'y ~ np\.lgo\(x\)' cannot be used: .*np\.lgo"),
    ("y ~ x ~ z", r"formula 'y ~ x ~ z' has more than one '~'"),
    ("y ~ x | g", r"formula 'y ~ x \| g' has a '\|'"),
    ("y ~ x - (1|g)", r"formula 'y ~ x - \(1\|g\)' cannot be used: Operator `\|`"),
])
def test_formula_errors_name_the_formula(df, formula, match):
    with pytest.raises(fk.SpecificationError, match=match):
        fk.fit(formula, df)


def test_formulaic_errors_name_the_formula_in_build_data_too(df):
    with pytest.raises(fk.SpecificationError, match=r"'y ~ x \+'"):
        build_data("y ~ x +", df, make_family("normal"))


# ---- options carrying numbers -------------------------------------------------------------------


def test_text_offset_column_is_refused(df):
    with pytest.raises(fk.DataError, match=r"offset= column 'g' holds text \('.' at row 0\)"):
        fk.fit("count ~ x", df, "poisson", offset="g")


def test_offset_array_of_strings_is_refused(df):
    with pytest.raises(fk.DataError, match="offset= array holds text"):
        fk.fit("count ~ x", df, "poisson", offset=np.array(["0.5"] * N))


def test_text_trials_and_event_are_refused(df):
    with pytest.raises(fk.DataError, match="trials= column 'm' holds text"):
        fk.fit("b ~ x", df.assign(m=["2"] * N), "binomial", trials="m")
    with pytest.raises(fk.DataError, match="event= array holds text"):
        fk.fit("z ~ x", df, "exponential", event=["1"] * N)


def test_a_two_dimensional_offset_is_refused(df):
    with pytest.raises(fk.DataError, match=r"offset must be one value per row .* shape \(40, 2\)"):
        fk.fit("count ~ x", df, "poisson", offset=np.zeros((N, 2)))


def test_dates_given_as_an_option_are_refused_without_C(df):
    with pytest.raises(fk.DataError, match=r"event= array holds dates.*\.dt\.year\)\.$"):
        fk.fit("z ~ x", df, "exponential", event=pd.date_range("2020", periods=N))


def test_categorical_offset_is_refused(df):
    with pytest.raises(fk.DataError, match="offset= column 'g' holds categories"):
        fk.fit("count ~ x", df.assign(g=df["g"].astype("category")), "poisson", offset="g")


def test_bool_event_and_object_offset_are_numbers(df):
    event = df["b"] == 1
    same_fit(fk.fit("z ~ x", df, "exponential", event=event),
             fk.fit("z ~ x", df, "exponential", event="b"))
    offset = pd.Series(list(np.log(df["z"])), dtype=object)
    same_fit(fk.fit("count ~ x", df, "poisson", offset=offset),
             fk.fit("count ~ x", df, "poisson", offset=np.log(df["z"])))


def test_a_mixed_option_is_refused_without_suggesting_C(df):
    values = pd.Series(list(df["z"]), dtype=object)
    values[3] = "n/a"
    with pytest.raises(fk.DataError, match=r"offset= array mixes numbers and text: row 3 holds "
                                           r"'n/a'.*makes text missing\)\.$"):
        fk.fit("count ~ x", df, "poisson", offset=values)


# ---- start values ------------------------------------------------------------------------------


@pytest.mark.parametrize("start, match", [
    (["a", "b", "c"], r"finite real numbers \(Intercept, x, log\(sigma\)\); got 'a' for 'Intercept'"),
    (["0", "0", "0"], "got '0' for 'Intercept'"),
    ([0.0, np.nan, 0.0], "got nan for 'x'"),
    ([0.0, 0.0, True], r"got True for 'log\(sigma\)'"),
    ([0.0, 0.0], r"must have 3 values \(Intercept, x, log\(sigma\)\); got shape \(2,\)"),
    ([[0.0, 0.0, 0.0]], r"got shape \(1, 3\)"),
])
def test_bad_start_is_refused(df, start, match):
    with pytest.raises(fk.SpecificationError, match=match):
        fk.fit("y ~ x", df, start=start)


def test_good_start_of_numpy_numbers_is_taken(df):
    start = [np.float32(1.0), np.int64(0), 0.0]
    same_fit(fk.fit("y ~ x", df, start=start), fk.fit("y ~ x", df), tol=1e-8)


# ---- models without parameters, values too large -------------------------------------------


@pytest.mark.parametrize("family, outcome", [("logit", "b"), ("poisson", "count")])
def test_a_model_without_parameters_is_refused(df, family, outcome):
    with pytest.raises(fk.SpecificationError, match=rf"'{outcome} ~ 0' leaves the {family} model "
                                                    "with no parameter"):
        fk.fit(f"{outcome} ~ 0", df, family)


def test_normal_without_terms_still_has_sigma(df):
    res = fk.fit("y ~ 0", df)
    assert list(res.params.index) == ["sigma"]
    np.testing.assert_allclose(res.params["sigma"], np.sqrt(np.mean(df["y"] ** 2)), rtol=1e-8)


@pytest.mark.parametrize("family, value", [("poisson", 1e308), ("normal", 1e200),
                                           ("gamma", 1e200)])
def test_an_outcome_too_large_to_square_is_refused(df, family, value):
    df["count"] = df["count"] + 1.0
    df.loc[6, "count"] = value
    with pytest.raises(fk.DataError, match=r"outcome 'count' \(at row 6\) holds values as large "
                                           r"as 1e\+\d+.*rescale"):
        fk.fit("count ~ x", df, family)


def test_a_design_term_too_large_is_refused(df):
    df.loc[6, "x"] = 1e200
    with pytest.raises(fk.DataError, match="term 'x' of the 'mu' design holds values as large"):
        fk.fit("y ~ x", df)


def test_large_but_representable_outcomes_fit(df):
    scaled = df.assign(y=df["y"] * 1e100)
    res = fk.fit("y ~ x", scaled)
    # the fits agree to the stopping rule (relative to 1 + |loglik|), not to rounding
    np.testing.assert_allclose(res.params[["Intercept", "x"]] / 1e100,
                               fk.fit("y ~ x", df).params[["Intercept", "x"]], rtol=1e-6)


# ---- the helpers themselves ---------------------------------------------------------------


def test_prepare_columns_returns_the_same_frame_when_nothing_changes(df):
    assert prepare_columns(df, ["y", "x", "g"]) is df


def test_categorical_only_reads_the_factors():
    assert categorical_only(["y", "C(g) + C(h, contr.treatment) + x:C(k) + k"]) == {"g", "h"}


def test_numeric_option_names_a_column_it_was_read_from():
    with pytest.raises(fk.DataError, match="trials= column 'm' holds text"):
        numeric_option(pd.Series(["a"]), "trials", "m")


# ---- properties ---------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=10, max_value=40), st.data())
def test_a_stray_string_anywhere_is_refused_naming_column_and_row(n, data):
    rng = np.random.default_rng(n)
    frame = pd.DataFrame({"y": rng.normal(size=n), "v": rng.normal(size=n)})
    row = data.draw(st.integers(min_value=0, max_value=n - 1))
    stray = data.draw(st.text(alphabet="abcxyz0123456789./- ", min_size=1, max_size=6))
    values = list(frame["v"])
    values[row] = stray
    frame["v"] = pd.Series(values, dtype=object)
    with pytest.raises(fk.DataError, match=rf"column 'v' mixes numbers and text: row {row} holds"):
        build_data("y ~ v", frame, make_family("normal"))


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=12, max_value=40), st.data())
def test_object_numbers_with_nones_fit_as_the_float_column_without_those_rows(n, data):
    rng = np.random.default_rng(n + 1)
    x = rng.normal(size=n)
    frame = pd.DataFrame({"y": 0.5 + x + rng.normal(size=n), "x": x})
    gaps = data.draw(st.sets(st.integers(min_value=0, max_value=n - 1), max_size=n - 6))
    values = [None if i in gaps else float(v) for i, v in enumerate(x)]
    obj = frame.assign(x=pd.Series(values, dtype=object))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.FisherkitWarning)
        res = fk.fit("y ~ x", obj)
        clean = fk.fit("y ~ x", frame.drop(index=sorted(gaps)))
    assert res.n_dropped == len(gaps)
    np.testing.assert_allclose(res.params.to_numpy(), clean.params.to_numpy(), rtol=1e-12,
                               atol=1e-12)
