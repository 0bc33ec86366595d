"""fisherkit.optimize.optimizers: optimizer objects with their settings checked where they
enter, the same fits as names and options; every method reaches Newton's maximum, counts its
passes over the data, and the natural gradient survives a singular Fisher information."""

import dataclasses
import re
import string
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fisherkit as fk
from fisherkit.optimize import (
    BFGS,
    LBFGS,
    METHODS,
    FisherScoring,
    Gradient,
    NaturalGradient,
    Newton,
    resolve_optimizer,
)

SPECTOR = "GRADE ~ GPA + TUCE + PSI"
CLASSES = [Newton, FisherScoring, NaturalGradient, Gradient, BFGS, LBFGS]

NUMBERS_ONLY = st.one_of(st.booleans(), st.text(max_size=4), st.just([1.0]))
BAD = {
    # option -> values its constraint refuses (None is "not given" where the default is None)
    "learning_rate": st.one_of(st.floats(max_value=0.0), st.just(np.nan), st.just(np.inf),
                               NUMBERS_ONLY),
    "damping": st.one_of(st.floats(max_value=-1e-300), st.just(np.nan), st.just(np.inf),
                         st.none(), NUMBERS_ONLY),
    "batch_size": st.one_of(st.integers(max_value=0), st.floats(), NUMBERS_ONLY),
    "record_every": st.one_of(st.integers(max_value=0), st.floats(), NUMBERS_ONLY),
    "decay": st.one_of(st.floats(max_value=0.0), st.just(np.nan), NUMBERS_ONLY),
    "seed": st.one_of(st.integers(max_value=-1), st.floats(), st.booleans(), st.text(max_size=3)),
    "fisher": st.one_of(st.text(max_size=8).filter(lambda s: s not in ("expected", "empirical")),
                        st.none(), st.floats()),
}
OPTIONS = [(cls, name) for cls in CLASSES for name in cls.constraints]


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


def test_names_defaults_and_settings_as_given():
    assert [cls.name for cls in CLASSES] == list(METHODS)
    assert list(METHODS) == ["newton", "fisher_scoring", "natural_gradient", "gradient", "bfgs",
                             "lbfgs"]
    assert NaturalGradient().settings() == {
        "learning_rate": 1.0, "damping": 1e-8, "fisher": "expected", "batch_size": None,
        "record_every": None, "seed": 0, "decay": None}
    assert Gradient().settings() == {"learning_rate": None, "batch_size": None,
                                     "record_every": None, "seed": 0, "decay": None}
    assert FisherScoring().damping == 0.0
    assert Newton().settings() == BFGS().settings() == LBFGS().settings() == {}
    assert NaturalGradient(learning_rate=2).learning_rate == 2  # stored as given, not cast


@pytest.mark.parametrize("cls", CLASSES)
def test_the_constraints_table_declares_every_setting(cls):
    assert set(cls.constraints) == {f.name for f in dataclasses.fields(cls)}
    assert set(cls.batch_constraints) <= set(cls.constraints)


def test_pieces_say_what_every_evaluation_needs():
    assert Newton().pieces == ("hessian",)
    assert FisherScoring().pieces == ("expected",)
    assert NaturalGradient().pieces == ("expected",)
    assert NaturalGradient(fisher="empirical").pieces == ("opg",)
    assert NaturalGradient(fisher=lambda theta: np.eye(len(theta))).pieces == ()
    assert NaturalGradient(batch_size=10).pieces == ("expected",)
    assert Gradient().pieces == Gradient(batch_size=10, learning_rate=0.1).pieces == ()
    assert BFGS().pieces == LBFGS().pieces == ()


def test_settings_are_keyword_only_and_frozen():
    with pytest.raises(TypeError, match="positional"):
        NaturalGradient(0.5)
    with pytest.raises(dataclasses.FrozenInstanceError, match="learning_rate"):
        NaturalGradient().learning_rate = 0.5
    assert NaturalGradient(learning_rate=0.5) == NaturalGradient(learning_rate=0.5)


def test_the_optimize_package_is_an_attribute_of_fisherkit():
    assert fk.optimize.NaturalGradient is NaturalGradient and "optimize" in fk.__all__


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_every_ill_typed_or_out_of_range_setting_is_refused_by_name(data):
    cls, name = data.draw(st.sampled_from(OPTIONS))
    value = data.draw(BAD[name])
    message = re.escape(f"The '{name}' option of {cls.name} must be ")
    with pytest.raises(fk.SpecificationError, match=message):
        cls(**{name: value})
    with pytest.raises(fk.SpecificationError, match=message):
        resolve_optimizer(cls.name, {name: value})


@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_every_unknown_option_is_refused_by_name_with_the_valid_ones(data):
    cls = data.draw(st.sampled_from(CLASSES))
    name = data.draw(st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)
                     .filter(lambda s: s not in cls.constraints))
    valid = ", ".join(sorted(cls.constraints)) or "it takes none"
    with pytest.raises(fk.SpecificationError, match=re.escape(
            f"The '{name}' option is not one of {cls.name}'s options: {valid}.")):
        resolve_optimizer(cls.name, {name: 1.0})


def test_the_documented_messages():
    with pytest.raises(fk.SpecificationError, match=re.escape(
            "The 'learning_rat' option is not one of natural_gradient's options: batch_size, "
            "damping, decay, fisher, learning_rate, record_every, seed.")):
        fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
               method="natural_gradient", options={"learning_rat": 0.5})
    with pytest.raises(fk.SpecificationError, match=re.escape(
            "The 'learning_rate' option of natural_gradient must be a positive finite number; "
            "got -1.")):
        NaturalGradient(learning_rate=-1)


@pytest.mark.parametrize("method", ["newton", "fisher_scoring", "bfgs", "lbfgs"])
def test_batch_size_is_refused_where_there_is_no_mini_batch_variant(method):
    with pytest.raises(fk.SpecificationError, match=f"'batch_size' option is not one of "
                       f"{method}'s options.*{method} has no mini-batch variant; "
                       "natural_gradient and gradient have one"):
        resolve_optimizer(method, {"batch_size": 100})


def test_the_mini_batch_variants_narrow_their_constraints():
    with pytest.raises(fk.SpecificationError, match="'fisher' option of natural_gradient with "
                       "batch_size must be 'expected' or 'empirical'; got <function"):
        NaturalGradient(batch_size=10, fisher=lambda theta: np.eye(2))
    with pytest.raises(fk.SpecificationError, match="'learning_rate' option of gradient with "
                       "batch_size must be a positive finite number; got None"):
        Gradient(batch_size=10)
    # a bad batch size is named before what it would narrow
    with pytest.raises(fk.SpecificationError, match="'batch_size' option of gradient must be"):
        Gradient(batch_size=0)
    assert Gradient(learning_rate=None).learning_rate is None  # the line-searched variant


def test_fit_refuses_an_object_with_options_too(spector):
    with pytest.raises(fk.SpecificationError, match="carries its own settings"):
        fk.fit(SPECTOR, data=spector, family="logit", method=NaturalGradient(),
               options={"learning_rate": 0.5})


def test_resolve_optimizer_takes_names_options_and_objects():
    assert resolve_optimizer("natural_gradient", {"learning_rate": 0.5}) == \
        NaturalGradient(learning_rate=0.5)
    assert resolve_optimizer("newton") == resolve_optimizer("newton", {}) == Newton()
    opt = NaturalGradient(damping=0.0)
    assert resolve_optimizer(opt) is opt and resolve_optimizer(opt, {}) is opt


@pytest.mark.parametrize("method, options, message", [
    (NaturalGradient(), {"learning_rate": 0.5}, "carries its own settings"),
    ("adam", None, r"Unknown method 'adam'; choose one of \['bfgs', 'fisher_scoring'"),
    (Newton, None, "Unknown method <class"),
    ("newton", [("a", 1)], "The 'options' must be a dict of the newton optimizer's settings"),
    ("gradient", {"callback": print}, "A callback is given to the optimizer's run()"),
    ("newton", {"learning_rate": 1.0}, "It is an option of natural_gradient and gradient"),
])
def test_resolve_optimizer_refuses(method, options, message):
    with pytest.raises(fk.SpecificationError, match=message):
        resolve_optimizer(method, options)


def _compare_cases():
    return [
        ("newton", {}, 100),
        ("fisher_scoring", {"damping": 1e-6}, 100),
        ("natural_gradient", {"learning_rate": 0.5}, 200),
        ("natural_gradient", {"fisher": "empirical", "learning_rate": 0.5}, 200),
        ("gradient", {"learning_rate": 0.001}, 50),
        ("gradient", {}, 50),
        ("bfgs", {}, 100),
        ("lbfgs", {}, 100),
        ("natural_gradient", {"batch_size": 16, "learning_rate": 0.2, "decay": 5,
                              "record_every": 3}, 40),
        ("gradient", {"batch_size": 8, "learning_rate": 1e-3, "seed": 4}, 40),
    ]


@pytest.mark.filterwarnings("ignore::fisherkit.ConvergenceWarning")
@pytest.mark.parametrize("method, options, maxiter", _compare_cases())
def test_an_object_fits_as_its_name_and_options_do(spector, method, options, maxiter):
    by_name = fk.fit(SPECTOR, data=spector, family="logit", method=method, options=options,
                     maxiter=maxiter)
    obj = METHODS[method](**options)
    by_object = fk.fit(SPECTOR, data=spector, family="logit", method=obj, maxiter=maxiter)
    a, b = by_name.optimize_result, by_object.optimize_result
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.path, a.path, rtol=1e-12, atol=1e-12)
    columns = ["iteration", "loglik", "decrement", "step_size", "passes"]
    pd.testing.assert_frame_equal(b.trace[columns], a.trace[columns], rtol=1e-12)
    assert (b.message, b.n_iter, by_object.method) == (a.message, a.n_iter, method)


def test_an_object_runs_on_a_general_likelihood_and_takes_a_callback():
    lik = fk.Likelihood(lambda p, d: -0.5 * (d["y"] - p["mu"]) ** 2, {"y": np.arange(5.0)},
                        params={"mu": 0.0})
    seen = []
    res = fk.fit_likelihood(lik, method=Newton(), options={"callback": seen.append})
    assert res.converged and res.method == "newton" and len(seen) == len(res.trace)
    direct = Newton().run(lik, lik.start_values(), maxiter=100, tol=1e-10)
    np.testing.assert_allclose(direct.theta, [2.0], rtol=1e-12)


def test_the_natural_gradient_at_rate_one_without_damping_is_fisher_scoring(spector):
    scoring = fk.fit(SPECTOR, data=spector, family="logit", method=FisherScoring())
    natural = fk.fit(SPECTOR, data=spector, family="logit",
                     method=NaturalGradient(learning_rate=1.0, damping=0))
    # no line search shortened a scoring step, so the two take the same steps
    assert (scoring.trace["step_size"].iloc[1:] == 1.0).all()
    np.testing.assert_allclose(natural.optimize_result.path, scoring.optimize_result.path,
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(natural.trace["decrement"], scoring.trace["decrement"],
                               rtol=1e-12)
    assert scoring.optimize_result.message == "converged: Fisher scoring decrement below tolerance"
    assert natural.optimize_result.message == \
        "converged: natural gradient decrement below tolerance"
    # the line search's trial log-likelihood is the one pass more scoring makes per step
    assert (np.diff(scoring.trace["passes"])[:-1] == 3).all()
    assert (np.diff(natural.trace["passes"]) == 2).all()


# ---- every method reaches Newton's maximum -------------------------------------------------

#: the methods checked against Newton's maximum (``METHODS`` above is the registry)
OTHER_METHODS = ["fisher_scoring", "natural_gradient", "bfgs", "lbfgs"]


@pytest.fixture(scope="module")
def count_data():
    rng = np.random.default_rng(11)
    n = 3000
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    mu = np.exp(0.4 + 0.3 * df["x1"] - 0.2 * df["x2"])
    df["y"] = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
    return df


@pytest.mark.parametrize("method", OTHER_METHODS)
@pytest.mark.parametrize("family", ["logit", "negbin"])
def test_methods_reach_newtons_maximum(method, family, count_data):
    if family == "logit":
        df, formula = fk.datasets.load("spector"), "GRADE ~ GPA + TUCE + PSI"
    else:
        df, formula = count_data, "y ~ x1 + x2"
    best = fk.fit(formula, data=df, family=family)
    res = fk.fit(formula, data=df, family=family, method=method, maxiter=2000)
    assert res.converged, res.optimize_result.message
    # stopping rules leave at most a log-likelihood gap of about 5e-11 (decrement 1e-10),
    # i.e. about 1e-5 standard errors; 1e-4 leaves room for the linear-rate methods
    gap = np.max(np.abs(res.params - best.params) / best.se)
    assert gap < 1e-4
    assert abs(res.loglik - best.loglik) < 1e-8 * abs(best.loglik)
    trace = res.trace
    assert list(trace.columns) == ["iteration", "loglik", "grad_norm", "decrement",
                                   "step_size", "elapsed", "passes", "kl"]
    # passes over the data never decrease, and every row after the first costs at least one
    assert trace["passes"].iloc[0] >= 1 and (np.diff(trace["passes"]) >= 1).all()
    # a step's divergence is its expected-information length to second order, and positive
    assert (trace["kl"].iloc[1:] >= 0).all() and np.isnan(trace["kl"].iloc[0])


def test_passes_count_every_evaluation_over_the_data():
    # Newton: one pass per accepted full step, plus the start and the final step
    df = fk.datasets.load("spector")
    res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit")
    trace = res.trace
    full_steps = (trace["step_size"].iloc[1:] == 1.0).all()
    assert full_steps and trace["passes"].tolist() == list(range(1, len(trace) + 1))
    # natural gradient: the derivatives and the expected information at every iterate
    nat = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit",
                 method="natural_gradient").trace
    assert (np.diff(nat["passes"]) == 2).all()
    # scipy's callback sees an iterate it has already evaluated, at no extra pass
    lb = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit", method="lbfgs")
    assert lb.trace["passes"].iloc[-1] <= lb.optimize_result.n_iter * 2 + 2


def test_fisher_scoring_equals_newton_steps_for_canonical_link():
    # for the logit link the expected and observed information coincide, so the iterates do
    df = fk.datasets.load("spector")
    a = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit", method="fisher_scoring")
    b = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit", method="newton")
    np.testing.assert_allclose(a.trace["loglik"].iloc[:4], b.trace["loglik"].iloc[:4], rtol=1e-12)


def test_plain_gradient_is_slow_where_natural_gradient_is_not():
    rng = np.random.default_rng(2)
    n = 2000
    df = pd.DataFrame({"x": rng.normal(size=n), "z": 100.0 * rng.normal(size=n)})
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(0.5 * df["x"] + 0.01 * df["z"])))).astype(float)
    nat = fk.fit("y ~ x + z", data=df, family="logit", method="natural_gradient")
    assert nat.converged and nat.n_iter <= 10
    with pytest.warns(fk.ConvergenceWarning):
        plain = fk.fit("y ~ x + z", data=df, family="logit", method="gradient", maxiter=1000)
    assert not plain.converged and "not_converged" in plain.flags


def test_natural_gradient_with_singular_fisher_warns_and_continues():
    rng = np.random.default_rng(4)
    n = 200
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    df["x3"] = df["x1"] + df["x2"]
    df["y"] = (rng.random(n) < 0.5).astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fk.fit("y ~ x1 + x2 + x3", data=df, family="logit", method="natural_gradient",
                     options={"damping": 0.0})
    assert any("damping raised" in str(w.message) for w in caught)
    assert np.isfinite(res.loglik)


def test_empirical_fisher_option_and_bad_option():
    df = fk.datasets.load("spector")
    res = fk.fit("GRADE ~ GPA", data=df, family="logit", method="natural_gradient",
                 options={"fisher": "empirical", "learning_rate": 0.5}, maxiter=500)
    best = fk.fit("GRADE ~ GPA", data=df, family="logit")
    assert res.converged
    assert np.max(np.abs(res.params - best.params) / best.se) < 1e-4
    with pytest.raises(ValueError, match="'fisher' option of natural_gradient must be"):
        fk.fit("GRADE ~ GPA", data=df, family="logit", method="natural_gradient",
               options={"fisher": "outer"})
