"""Every input gives the right answer or is refused naming the culprit (property suite).

hypothesis generates bad inputs of every kind (stray values in columns, columns of the
wrong kind, misaligned Series, bad option values, bad weights, degenerate frames, broken
formulas, bad new data) across every built-in family, every optimizer, every covariance
kind, a user's ``fk.Family`` and an ``fk.Likelihood``, and the calls made after a fit.
One checker, :func:`obeys_rule`, judges each outcome:

- a result: any NaN in it comes with a flag on the fit or a warning of fisherkit's own;
  where the generator knows the right answer (a missing value dropped, object numbers,
  booleans) the numbers are checked against it;
- a refusal: ``fk.DataError`` or ``fk.SpecificationError`` whose message names the culprit
  the generator planted (a column, row, option or parameter);
- anything else (a raw ``TypeError``, ``KeyError``, ``LinAlgError``, a formulaic or autograd
  exception, more than ``TIME_LIMIT`` seconds) breaks the rule.

The fast default run draws a few examples of each generator; the ``slow`` generators draw
more. ``FISHERKIT_PROPERTY_EXAMPLES=N`` multiplies every generator's examples (for a long
run by hand), and ``FISHERKIT_PROPERTY_COUNTS=path`` appends one line per outcome there.
"""

import functools
import os
import pickle
import signal
import warnings
from collections import Counter

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fisherkit as fk
from fisherkit.inference.covariance import COV_TYPES
from fisherkit.models.builtins import FAMILIES
from fisherkit.results import FitResult

from tests.shared import simulate

FAMILY_NAMES = sorted(FAMILIES)
METHODS = ("newton", "fisher_scoring", "bfgs", "lbfgs", "gradient", "natural_gradient")
N_ROWS = 60
TIME_LIMIT = 30
SCALE = int(os.environ.get("FISHERKIT_PROPERTY_EXAMPLES", "1"))
COUNTS = Counter()


def examples(n: int):
    return settings(max_examples=n * SCALE, deadline=None, derandomize=SCALE == 1,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---- the checker -----------------------------------------------------------------------------


class Hang(Exception):
    """A call took longer than TIME_LIMIT seconds."""


def _alarm(signum, frame):
    raise Hang(f"the call took more than {TIME_LIMIT} s")


def _numbers(value):
    """The numeric arrays of what a call returned, with the fit they belong to (if any)."""
    if isinstance(value, FitResult):
        return [value.params.to_numpy(), value.se.to_numpy()], value
    if isinstance(value, (pd.Series, pd.DataFrame)):
        numeric = value.select_dtypes("number") if isinstance(value, pd.DataFrame) else value
        if isinstance(numeric, pd.Series) and not pd.api.types.is_numeric_dtype(numeric):
            return [], None
        return [np.asarray(numeric, dtype=float)], None
    if isinstance(value, (float, np.floating)):
        return [np.array([value])], None
    return [], None


def _record(kind: str, label: str) -> None:
    COUNTS[kind] += 1
    path = os.environ.get("FISHERKIT_PROPERTY_COUNTS")
    if path:
        with open(path, "a") as out:
            out.write(f"{kind}\t{label}\n")


def obeys_rule(call, culprits=(), *, fit=None, nan_allowed=False, label="",
               declines=()) -> tuple:
    """Run ``call()`` and hold its outcome to the rule; return ``(kind, value)``.

    ``kind`` is ``"answer"`` (a result without numerical trouble), ``"flagged"`` (a result
    with a flag or a fisherkit warning) or ``"refused"`` (a DataError / SpecificationError
    whose message names one of ``culprits``; with no culprits given, a refusal breaks the
    rule). ``fit`` is the fit a post-fit call was made on: its flags cover NaN in the
    call's answer. ``nan_allowed`` admits NaN the call documents (rows of new data with
    a missing value). ``declines`` names what a good input may still be refused for (a
    method or covariance kind the model does not support): such a refusal is ``"declined"``.
    """
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            try:
                value = call()
                arrays, result = _numbers(value)
                flags = set(result.flags) if result is not None else set()
            except (fk.DataError, fk.SpecificationError) as exc:
                message = str(exc)
                if declines and any(str(c) in message for c in declines):
                    _record("declined", label)
                    return "declined", exc
                assert culprits, f"refused though the input is good: {exc!r}"
                assert any(str(c) in message for c in culprits), (
                    f"the message does not name the culprit (one of {list(culprits)}): "
                    f"{message}")
                _record("refused", label)
                return "refused", exc
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    ours = [w for w in record if issubclass(w.category, fk.FisherkitWarning)]
    for w in record:
        if not issubclass(w.category, fk.FisherkitWarning):
            # counted, not failed: the rule is about NaN and flags, and a library's own
            # warning on the way (numpy, pandas) is not itself a wrong answer
            _record("foreign_warning", f"{label}\t{w.category.__name__}: {w.message}")
    if fit is not None:
        flags |= set(fit.flags)
    has_nan = any(np.isnan(a).any() for a in arrays)
    if has_nan and not nan_allowed:
        assert flags or ours, "a NaN in the result without a flag or a fisherkit warning"
    kind = "flagged" if (flags or ours) else "answer"
    _record(kind, label)
    return kind, value


def capability(method="newton", cov=None):
    """What a good input may be declined for: its optimizer or covariance kind, when the
    model cannot give what they need (an expected information, cluster labels), or an
    analysis the family does not define (marginal effects of an ordinal outcome)."""
    return tuple(c for c in (method, cov, "expected information", "cluster",
                             "not available for the") if c)


def refused(call, culprits, label=""):
    """Like obeys_rule, but the input is bad: it must be refused, not answered."""
    kind, value = obeys_rule(call, culprits, label=label)
    assert kind == "refused", f"bad input not refused (culprit {list(culprits)}): {value!r}"
    return value


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fk.fit(*args, **kwargs)


# ---- data and settings -----------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _base(family: str):
    df, kwargs = simulate(family, n=N_ROWS, seed=3)
    df["g"] = np.repeat(np.arange(N_ROWS // 5), 5)  # cluster labels
    df["w"] = np.random.default_rng(5).integers(1, 4, size=N_ROWS).astype(float)
    return df, kwargs


def base(family: str):
    df, kwargs = _base(family)
    return df.copy(), dict(kwargs)


def formula_of(family: str) -> str:
    return "y ~ x1 + x2"


def fit_kwargs(family, df, kwargs, method, cov):
    out = dict(kwargs, method=method, cov=cov)
    if cov == "cluster":
        out["cluster"] = "g"
    return out


families = st.sampled_from(FAMILY_NAMES)
methods = st.sampled_from(METHODS)
covs = st.sampled_from(COV_TYPES)
# methods that reach the optimum of these small models within the default maxiter, so that
# a fit with the right answer can be compared with the fit of the clean data
exact_methods = st.sampled_from(("newton", "fisher_scoring", "bfgs", "lbfgs"))


def assert_same_fit(a, b, tol=1e-7, names=True):
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(a.se.to_numpy(), b.se.to_numpy(), rtol=1e-5, atol=1e-8)
    if names:
        assert list(a.params.index) == list(b.params.index)


# ---- stray values in the rows of numeric columns -------------------------------------------

STRAYS = ("nan", "none", "inf", "-inf", "text", "pd_na")


def _column_for(family, kwargs, which):
    """The column a case corrupts: a covariate, the outcome, or the family's extra column."""
    if which == "option" and kwargs:
        return next(iter(kwargs.values())), next(iter(kwargs))
    return ("y", None) if which == "outcome" else ("x1", None)


def _plant(df, column, rows, stray):
    labels = df.index[rows]
    values = (df[column].astype(object) if stray in ("none", "text", "pd_na")
              else df[column].astype(float))  # an integer column holds no NaN or inf
    planted = {"nan": np.nan, "none": None, "inf": np.inf, "-inf": -np.inf, "text": "n/a",
               "pd_na": pd.NA}[stray]
    for label in labels:
        values.loc[label] = planted
    df[column] = values
    return labels


def check_stray(family, which, stray, rows, method, missing):
    df, kwargs = base(family)
    column, option = _column_for(family, kwargs, which)
    labels = _plant(df, column, rows, stray)
    call = functools.partial(fk.fit, formula_of(family), df, family, method=method,
                             missing=missing, **kwargs)
    named = (column,) if option is None else (column, option)
    label = f"stray-{stray}"
    if stray in ("inf", "-inf", "text"):
        return refused(call, named, label)
    if missing == "raise":
        return refused(call, named, label)
    kind, res = obeys_rule(call, named, label=label, declines=capability(method))
    assert kind != "refused", res
    if kind == "declined":
        return
    clean, _ = base(family)
    expected = quiet_fit(formula_of(family), clean.drop(index=labels), family, method=method,
                         **kwargs)
    assert res.n_dropped == len(labels)
    # the cut points' names of an ordinal outcome made float by a missing value are checked
    # apart (test_ordinal_cut_point_names_survive_a_missing_outcome)
    assert_same_fit(res, expected, names=not (family == "ordinal" and which == "outcome"))


def test_ordinal_cut_point_names_survive_a_missing_outcome():
    df, _ = base("ordinal")
    clean = quiet_fit("y ~ x1 + x2", df.drop(index=[3]), "ordinal")
    df.loc[3, "y"] = np.nan
    assert list(quiet_fit("y ~ x1 + x2", df, "ordinal").params.index) == list(clean.params.index)


@given(family=families, which=st.sampled_from(("covariate", "outcome", "option")),
       stray=st.sampled_from(STRAYS), rows=st.lists(st.integers(0, N_ROWS - 1), min_size=1,
                                                    max_size=3, unique=True),
       method=exact_methods, missing=st.sampled_from(("drop", "raise")))
@examples(6)
def test_stray_values_fast(family, which, stray, rows, method, missing):
    check_stray(family, which, stray, rows, method, missing)


@pytest.mark.slow
@given(family=families, which=st.sampled_from(("covariate", "outcome", "option")),
       stray=st.sampled_from(STRAYS), rows=st.lists(st.integers(0, N_ROWS - 1), min_size=1,
                                                    max_size=3, unique=True),
       method=exact_methods, missing=st.sampled_from(("drop", "raise")))
@examples(60)
def test_stray_values(family, which, stray, rows, method, missing):
    check_stray(family, which, stray, rows, method, missing)


# ---- columns of the wrong kind -------------------------------------------------------------

KINDS = ("object_numbers", "bool", "datetime", "timedelta", "complex", "object_dates",
         "bytes", "mixed_object")


def _recast(df, column, kind, rng):
    values = df[column]
    if kind == "object_numbers":
        return pd.Series(list(values), index=df.index, dtype=object)
    if kind == "bool":
        return values > values.median()
    if kind == "datetime":
        return pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(len(df)), unit="D")
    if kind == "timedelta":
        return pd.to_timedelta(np.arange(len(df)), unit="h")
    if kind == "complex":
        return values + 1j
    if kind == "object_dates":
        return pd.Series([pd.Timestamp("2020-01-01").date()] * len(df), index=df.index,
                         dtype=object)
    if kind == "bytes":
        return pd.Series([b"a", b"b"] * (len(df) // 2), index=df.index, dtype=object)
    mixed = pd.Series(list(values), index=df.index, dtype=object)
    mixed.iloc[int(rng.integers(len(df)))] = "3.1"
    return mixed


def check_column_kind(family, kind, method, cov, seed):
    df, kwargs = base(family)
    rng = np.random.default_rng(seed)
    df["x1"] = _recast(df, "x1", kind, rng)
    kw = fit_kwargs(family, df, kwargs, method, cov)
    call = functools.partial(fk.fit, formula_of(family), df, family, **kw)
    if kind in ("object_numbers", "bool"):
        kind_, res = obeys_rule(call, (), label=f"kind-{kind}", declines=capability(method, cov))
        if kind_ == "declined":
            return
        as_float = df.assign(x1=df["x1"].astype(float))
        expected = quiet_fit(formula_of(family), as_float, family, **kw)
        np.testing.assert_allclose(res.params.to_numpy(), expected.params.to_numpy(),
                                   rtol=1e-10, atol=1e-10)
        return
    refused(call, ("'x1'",), f"kind-{kind}")


@given(family=families, kind=st.sampled_from(KINDS), method=exact_methods, cov=covs,
       seed=st.integers(0, 2 ** 16))
@examples(5)
def test_column_kinds_fast(family, kind, method, cov, seed):
    check_column_kind(family, kind, method, cov, seed)


@pytest.mark.slow
@given(family=families, kind=st.sampled_from(KINDS), method=methods, cov=covs,
       seed=st.integers(0, 2 ** 16))
@examples(50)
def test_column_kinds(family, kind, method, cov, seed):
    check_column_kind(family, kind, method, cov, seed)


# ---- Series options: shuffled index (aligned) or mismatched index (refused) -----------------

SERIES_OPTIONS = ("offset", "cluster", "trials", "event", "weights")


def _series_case(family, option):
    """The option's values as an array in row order, and the fit keywords without it."""
    df, kwargs = base(family)
    values = {"offset": np.linspace(-0.2, 0.2, N_ROWS), "cluster": df["g"].to_numpy(),
              "weights": df["w"].to_numpy()}
    if option in ("trials", "event"):
        if option not in kwargs:
            return None
        values[option] = df[kwargs.pop(option)].to_numpy()
    extra = {"cov": "cluster"} if option == "cluster" else {}
    if option == "weights":
        extra = {"weight_type": "frequency"}
    return df, kwargs, values[option], extra


def check_series(family, option, how, seed, method):
    case = _series_case(family, option)
    if case is None:
        return
    df, kwargs, values, extra = case
    rng = np.random.default_rng(seed)
    order = rng.permutation(N_ROWS)
    if how == "shuffled":
        series = pd.Series(values[order], index=df.index[order])
    elif how == "shifted":
        series = pd.Series(values, index=df.index + 1000)
    else:  # one label short
        series = pd.Series(values, index=df.index).drop(index=df.index[order[0]])
    call = functools.partial(fk.fit, formula_of(family), df, family, method=method,
                             **{option: series}, **kwargs, **extra)
    if how != "shuffled":
        return refused(call, (option,), f"series-{how}")
    kind, res = obeys_rule(call, (), label="series-shuffled", declines=capability(method))
    if kind == "declined":
        return
    expected = quiet_fit(formula_of(family), df, family, method=method, **{option: values},
                         **kwargs, **extra)
    assert_same_fit(res, expected, tol=1e-12)


@given(family=families, option=st.sampled_from(SERIES_OPTIONS),
       how=st.sampled_from(("shuffled", "shifted", "short")), seed=st.integers(0, 2 ** 16),
       method=exact_methods)
@examples(6)
def test_series_options_fast(family, option, how, seed, method):
    check_series(family, option, how, seed, method)


@pytest.mark.slow
@given(family=families, option=st.sampled_from(SERIES_OPTIONS),
       how=st.sampled_from(("shuffled", "shifted", "short")), seed=st.integers(0, 2 ** 16),
       method=exact_methods)
@examples(50)
def test_series_options(family, option, how, seed, method):
    check_series(family, option, how, seed, method)


# ---- option values ---------------------------------------------------------------------------

BAD_NUMBERS = (-1, 0, -0.5, float("nan"), float("inf"), True, False, "1e-3", None, [1], 2.5)
BAD_NAMES = ("nope", "", "Observed", " newton", 3, None, True)


def _bad_value(option, draw_number, draw_name):
    return draw_name if option in ("cov", "method", "family", "link", "missing",
                                   "weight_type") else draw_number


def check_option(family, option, value, method, cov):
    df, kwargs = base(family)
    good = dict(kwargs, method=method, cov=cov)
    if cov == "cluster":
        good["cluster"] = "g"
    label = f"option-{option}"
    if option in ("maxiter", "tol"):
        if option == "maxiter" and isinstance(value, int) and not isinstance(value, bool) \
                and value > 0:
            return
        if option == "tol" and isinstance(value, float) and np.isfinite(value) and value > 0:
            return
        return refused(lambda: fk.fit(formula_of(family), df, family, **{**good, option: value}),
                       (f"'{option}'",), label)
    if option == "learning_rate":
        if isinstance(value, float) and np.isfinite(value) and value > 0:
            return
        return refused(lambda: fk.fit(formula_of(family), df, family,
                                      **{**good, "method": "natural_gradient"},
                                      options={"learning_rate": value}),
                       ("'learning_rate'",), label)
    if option in ("cov", "method", "missing", "link", "weight_type", "family"):
        if option == "family":
            call = lambda: fk.fit(formula_of(family), df, value, **good)
        elif option == "weight_type":
            call = lambda: fk.fit(formula_of(family), df, family, weights="w", weight_type=value,
                                  **good)
        else:
            call = lambda: fk.fit(formula_of(family), df, family, **{**good, option: value})
        if option in ("link", "cov") and value is None:  # the default
            return obeys_rule(call, label=label, declines=capability(method, cov))
        if option == "link" and value == "":
            return  # test_an_empty_link_name_is_refused
        return refused(call, (option, repr(value)), label)
    res = _fitted(family, method, cov)
    if res is None:
        return
    post = {
        "alpha": lambda: res.summary(alpha=value),
        "alpha_predict": lambda: res.predict(alpha=value),
        "alpha_profile": lambda: res.profile_ci("x1", alpha=value),
        "alpha_delta": lambda: res.delta(lambda p: p["x1"], alpha=value),
        "alpha_marginal": lambda: res.marginal_effects(alpha=value),
        "kind": lambda: res.residuals(value),
        "information_kind": lambda: res.information(value),
        "scale": lambda: res.information("observed", value),
        "predict_scale": lambda: res.predict(scale=value),
        "with_cov": lambda: res.with_cov(value),
    }[option]
    if option.startswith("alpha") and isinstance(value, float) and 0 < value < 1:
        return
    names = {"alpha_predict": "alpha", "alpha_profile": "alpha", "alpha_delta": "alpha",
             "alpha_marginal": "alpha", "information_kind": "kind", "predict_scale": "scale",
             "with_cov": "cov"}
    return refused(post, (names.get(option, option), repr(value)), label)


def test_an_empty_link_name_is_refused():
    df, kwargs = base("logit")
    refused(lambda: fk.fit("y ~ x1 + x2", df, "logit", link=""), ("link",), "option-link")


NUMBER_OPTIONS = ("maxiter", "tol", "learning_rate", "alpha", "alpha_predict", "alpha_profile",
                  "alpha_delta", "alpha_marginal")
NAME_OPTIONS = ("cov", "method", "missing", "link", "weight_type", "family", "kind",
                "information_kind", "scale", "predict_scale", "with_cov")


@functools.lru_cache(maxsize=None)
def _fitted_cached(family, method, cov):
    df, kwargs = base(family)
    extra = {"cluster": "g"} if cov == "cluster" else {}
    try:
        return quiet_fit(formula_of(family), df, family, method=method, cov=cov, **kwargs,
                         **extra)
    except (fk.DataError, fk.SpecificationError) as exc:
        # a covariance or method the family cannot give (checked by the fit suites)
        assert any(c in str(exc) for c in capability(method, cov)), exc
        return None


def _fitted(family, method, cov):
    return _fitted_cached(family, method, cov)


option_values = st.one_of(
    st.tuples(st.sampled_from(NUMBER_OPTIONS), st.sampled_from(BAD_NUMBERS)),
    st.tuples(st.sampled_from(NAME_OPTIONS), st.sampled_from(BAD_NAMES)))


@given(family=families, case=option_values, method=exact_methods, cov=covs)
@examples(10)
def test_option_values_fast(family, case, method, cov):
    check_option(family, *case, method, cov)


@pytest.mark.slow
@given(family=families, case=option_values, method=methods, cov=covs)
@examples(80)
def test_option_values(family, case, method, cov):
    check_option(family, *case, method, cov)


# ---- weights ---------------------------------------------------------------------------------

BAD_WEIGHTS = ("negative", "nan", "inf", "text", "all_zero", "fraction")


def check_weights(family, weight_type, bad, row, method):
    df, kwargs = base(family)
    label = f"weights-{bad}"
    if bad == "no_type":
        return refused(lambda: fk.fit(formula_of(family), df, family, weights="w",
                                      method=method, **kwargs), ("weight_type",), label)
    values = df["w"].astype(object) if bad == "text" else df["w"].copy()
    at = df.index[row]
    if bad == "all_zero":
        values[:] = 0.0
    else:
        values.loc[at] = {"negative": -1.0, "nan": np.nan, "inf": np.inf, "text": "two",
                          "fraction": 1.5}[bad]
    df["w"] = values
    call = functools.partial(fk.fit, formula_of(family), df, family, weights="w",
                             weight_type=weight_type, method=method, **kwargs)
    if bad == "fraction" and weight_type != "frequency":
        return obeys_rule(call, label=label, declines=capability(method))
    if bad == "nan":
        # a missing weight is a missing value: its row is dropped like any other
        kind, res = obeys_rule(call, ("w",), label=label, declines=capability(method))
        if kind not in ("refused", "declined"):
            assert res.n_dropped == 1
        return
    refused(call, ("weights", "'w'"), label)


@given(family=families, weight_type=st.sampled_from(("frequency", "analytic", "probability")),
       bad=st.sampled_from(BAD_WEIGHTS + ("no_type",)), row=st.integers(0, N_ROWS - 1),
       method=exact_methods)
@examples(6)
def test_weights_fast(family, weight_type, bad, row, method):
    check_weights(family, weight_type, bad, row, method)


@pytest.mark.slow
@given(family=families, weight_type=st.sampled_from(("frequency", "analytic", "probability")),
       bad=st.sampled_from(BAD_WEIGHTS + ("no_type",)), row=st.integers(0, N_ROWS - 1),
       method=methods)
@examples(50)
def test_weights(family, weight_type, bad, row, method):
    check_weights(family, weight_type, bad, row, method)


# ---- degenerate frames, labels and formulas ---------------------------------------------------

SHAPES = ("empty", "one_row", "all_missing", "duplicate_label", "syntax", "unknown_column",
          "no_tilde", "two_tildes")
SYNTAX_ERRORS = ("y ~ x1 +", "y ~ (x1", "y ~ x1 + + ", "y ~ x1)", "y ~ x1 * * x2",
                 "y ~ C(x1", "y ~ x1 + np.log(")


def check_shape(family, shape, pick, method):
    df, kwargs = base(family)
    formula = formula_of(family)
    label = f"shape-{shape}"
    culprits = {
        "empty": ("no rows",), "one_row": ("1 usable rows", "'y' needs at least two levels"),
        "all_missing": ("'x2'",), "duplicate_label": ("'x1'",),
        "unknown_column": ("'nope'",), "no_tilde": ("~",), "two_tildes": ("~",),
    }
    if shape == "empty":
        df = df.iloc[:0]
    elif shape == "one_row":
        df = df.iloc[[pick % N_ROWS]]
    elif shape == "all_missing":
        df["x2"] = np.nan
    elif shape == "duplicate_label":
        df = pd.concat([df, df[["x1"]]], axis=1)
    elif shape == "syntax":
        formula = SYNTAX_ERRORS[pick % len(SYNTAX_ERRORS)]
        culprits["syntax"] = (formula,)
    elif shape == "unknown_column":
        formula = "y ~ x1 + nope"
    elif shape == "no_tilde":
        formula = "y x1 + x2"
    else:
        formula = "y ~ x1 ~ x2"
    refused(lambda: fk.fit(formula, df, family, method=method, **kwargs), culprits[shape], label)


@given(family=families, shape=st.sampled_from(SHAPES), pick=st.integers(0, 100),
       method=exact_methods)
@examples(6)
def test_degenerate_inputs_fast(family, shape, pick, method):
    check_shape(family, shape, pick, method)


@pytest.mark.slow
@given(family=families, shape=st.sampled_from(SHAPES), pick=st.integers(0, 100),
       method=methods)
@examples(50)
def test_degenerate_inputs(family, shape, pick, method):
    check_shape(family, shape, pick, method)


# ---- after the fit ---------------------------------------------------------------------------

POST_CALLS = ("summary", "with_cov", "predict", "predict_link", "predict_average",
              "residuals", "marginal_effects", "information", "profile_ci", "wald_test",
              "delta", "se_table", "pickle", "predict_missing_column", "predict_unseen_level",
              "predict_nan_rows", "wald_unknown", "profile_unknown", "delta_unknown")


@functools.lru_cache(maxsize=None)
def _fitted_with_level(family, method, cov):
    df, kwargs = base(family)
    df["grp"] = np.where(df["x2"] > 0, "a", "b")
    extra = {"cluster": "g"} if cov == "cluster" else {}
    try:
        res = quiet_fit("y ~ x1 + x2 + C(grp)", df, family, method=method, cov=cov, **kwargs,
                        **extra)
    except (fk.DataError, fk.SpecificationError) as exc:
        assert any(c in str(exc) for c in capability(method, cov)), exc
        return None, df
    return res, df


def check_post(family, call_name, method, cov, kind, info_scale, alpha, seed):
    res, df = _fitted_with_level(family, method, cov)
    if res is None:
        return
    rng = np.random.default_rng(seed)
    new = df.iloc[rng.permutation(N_ROWS)[:7]].copy()
    label = f"post-{call_name}"
    calls = {
        "summary": (lambda: res.summary(alpha=alpha), ()),
        "with_cov": (lambda: res.with_cov(kind, cluster=df["g"].to_numpy()), ("cov",)),
        "predict": (lambda: res.predict(new, alpha=alpha), ()),
        "predict_link": (lambda: res.predict(new, scale="link"), ()),
        "predict_average": (lambda: res.predict(average=True), ()),
        "residuals": (lambda: res.residuals(info_scale[0]), (repr(info_scale[0]),)),
        "marginal_effects": (lambda: res.marginal_effects(alpha=alpha), ()),
        "information": (lambda: res.information(info_scale[1], info_scale[2]),
                        (repr(info_scale[1]), repr(info_scale[2]))),
        "profile_ci": (lambda: res.profile_ci("x1", alpha=alpha), ()),
        "wald_test": (lambda: res.wald_test("x1 = x2"), ()),
        "delta": (lambda: res.delta(lambda p: anp.exp(p["x1"]), name="e"), ()),
        "se_table": (lambda: res.se_table(), ()),
        "pickle": (lambda: pickle.loads(pickle.dumps(res)), ()),
        "predict_missing_column": (lambda: res.predict(new.drop(columns="x2")), ("'x2'",)),
        "predict_unseen_level": (lambda: res.predict(new.assign(grp="zzz")), ("grp",)),
        "predict_nan_rows": (lambda: res.predict(new.assign(x1=np.where(
            np.arange(len(new)) % 2, np.nan, new["x1"]))), ()),
        "wald_unknown": (lambda: res.wald_test("x1 = nope"), ("nope",)),
        "profile_unknown": (lambda: res.profile_ci("nope"), ("nope",)),
        "delta_unknown": (lambda: res.delta(lambda p: p["nope"]), ("nope",)),
    }
    call, culprits = calls[call_name]
    must_refuse = call_name in ("predict_missing_column", "predict_unseen_level",
                                "wald_unknown", "profile_unknown", "delta_unknown")
    outcome, value = obeys_rule(call, culprits, fit=res, nan_allowed=call_name ==
                                "predict_nan_rows", label=label,
                                declines=() if must_refuse else capability(method, kind))
    if must_refuse:
        assert outcome == "refused", f"{call_name} answered: {value!r}"
    if call_name == "pickle":
        np.testing.assert_array_equal(value.params.to_numpy(), res.params.to_numpy())
        np.testing.assert_array_equal(value.se.to_numpy(), res.se.to_numpy())
    if call_name == "predict_nan_rows" and outcome != "refused":
        assert value.attrs["n_missing"] == 3
        assert value["estimate"].isna().sum() == 3


post_kinds = st.sampled_from(COV_TYPES + ("nope",))
info_scales = st.tuples(st.sampled_from(("response", "pearson", "deviance", "working",
                                         "anscombe", "cox_snell", "martingale", "nope")),
                        st.sampled_from(("observed", "expected", "opg", "nope")),
                        st.sampled_from(("natural", "working", "nope")))


@given(family=families, call_name=st.sampled_from(POST_CALLS), method=exact_methods, cov=covs,
       kind=post_kinds, info_scale=info_scales, alpha=st.sampled_from((0.05, 0.1, 0.32)),
       seed=st.integers(0, 2 ** 16))
@examples(12)
def test_after_the_fit_fast(family, call_name, method, cov, kind, info_scale, alpha, seed):
    check_post(family, call_name, method, cov, kind, info_scale, alpha, seed)


@pytest.mark.slow
@given(family=families, call_name=st.sampled_from(POST_CALLS), method=methods, cov=covs,
       kind=post_kinds, info_scale=info_scales, alpha=st.sampled_from((0.05, 0.1, 0.32)),
       seed=st.integers(0, 2 ** 16))
@examples(120)
def test_after_the_fit(family, call_name, method, cov, kind, info_scale, alpha, seed):
    check_post(family, call_name, method, cov, kind, info_scale, alpha, seed)


# ---- a user's Family and a Likelihood ---------------------------------------------------------


def normal_logpdf(y, mu, sigma):
    return -anp.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2


USER_FAMILY = fk.Family(normal_logpdf, mu=fk.Predictor(), sigma=fk.Scalar("positive"))


def logit_loglik(p, data):
    eta = p["intercept"] + data["x1"] * p["slope"]
    return data["y"] * eta - anp.logaddexp(0.0, eta)


def check_user_family(stray, rows, method, cov):
    df, _ = base("normal")
    labels = _plant(df, "x1", rows, stray) if stray != "clean" else []
    call = functools.partial(fk.fit, "y ~ x1 + x2", df, USER_FAMILY, method=method, cov=cov,
                             **({"cluster": "g"} if cov == "cluster" else {}))
    if stray in ("inf", "-inf", "text"):
        return refused(call, ("'x1'",), f"user-family-{stray}")
    kind, res = obeys_rule(call, label=f"user-family-{stray}", declines=capability(method, cov))
    if kind != "declined":
        assert res.n_dropped == len(labels)


def check_likelihood(stray, rows, method, cov):
    frame, _ = base("logit")
    frame = frame[["y", "x1"]].copy()
    labels = _plant(frame, "x1", rows, stray) if stray != "clean" else []
    # a likelihood's own function meets an infinite value; fisherkit names the rows
    culprits = ("'x1'", f"positions [{min(rows)}") if stray != "clean" else ()
    cov = cov if cov not in ("expected", "cluster") else "observed"

    def fit():
        lik = fk.Likelihood(logit_loglik, frame, params={"intercept": 0.0, "slope": 0.0})
        return fk.fit_likelihood(lik, method=method, cov=cov)
    kind, res = obeys_rule(fit, culprits, label=f"likelihood-{stray}",
                           declines=capability(method, cov))
    if stray in ("nan", "none", "pd_na", "clean") and kind != "declined":
        assert res.n_dropped == len(labels)
        expected = fk.fit("y ~ x1", frame.drop(index=labels), "logit")
        np.testing.assert_allclose(res.params.to_numpy(), expected.params.to_numpy(),
                                   rtol=1e-6, atol=1e-6)


user_rows = st.lists(st.integers(0, N_ROWS - 1), min_size=1, max_size=3, unique=True)


@given(stray=st.sampled_from(STRAYS + ("clean",)), rows=user_rows, method=exact_methods,
       cov=covs)
@examples(4)
def test_user_family_fast(stray, rows, method, cov):
    check_user_family(stray, rows, method, cov)


@pytest.mark.slow
@given(stray=st.sampled_from(STRAYS + ("clean",)), rows=user_rows, method=methods, cov=covs)
@examples(40)
def test_user_family(stray, rows, method, cov):
    check_user_family(stray, rows, method, cov)




@pytest.mark.parametrize("stray", [
    "nan", "inf", "-inf", "clean", "none", "pd_na", "text"])
@given(rows=user_rows, method=exact_methods, cov=covs)
@examples(2)
def test_likelihood_data(stray, rows, method, cov):
    check_likelihood(stray, rows, method, cov)


# ---- the checker itself -----------------------------------------------------------------------


def test_obeys_rule_catches_a_foreign_exception():
    with pytest.raises(KeyError):
        obeys_rule(lambda: {}["x"])


def test_obeys_rule_catches_an_unnamed_culprit():
    def refuse():
        raise fk.DataError("something is wrong")
    with pytest.raises(AssertionError, match="does not name the culprit"):
        obeys_rule(refuse, ("x1",))


def test_obeys_rule_catches_an_unflagged_nan():
    with pytest.raises(AssertionError, match="NaN in the result"):
        obeys_rule(lambda: pd.Series([1.0, np.nan]))


def test_obeys_rule_accepts_a_flagged_nan():
    def warn():
        warnings.warn("trouble", fk.SingularInformationWarning)
        return pd.Series([np.nan])
    assert obeys_rule(warn)[0] == "flagged"


@pytest.mark.parametrize("method", ["bfgs", "lbfgs"])
def test_quasi_newton_gamma_fit_raises_no_foreign_warning(method):
    df, kwargs = base("gamma")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.FisherkitWarning)
        warnings.simplefilter("error", RuntimeWarning)
        fk.fit("y ~ x1 + x2", df, "gamma", method=method, **kwargs)
