"""Every optimizer reaches the same maximum; the natural gradient survives a singular Fisher."""

import warnings

import numpy as np
import pandas as pd
import pytest

import fisherkit as fk

METHODS = ["fisher_scoring", "natural_gradient", "bfgs", "lbfgs"]


@pytest.fixture(scope="module")
def count_data():
    rng = np.random.default_rng(11)
    n = 3000
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    mu = np.exp(0.4 + 0.3 * df["x1"] - 0.2 * df["x2"])
    df["y"] = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
    return df


@pytest.mark.parametrize("method", METHODS)
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


def test_compare_table_rows_and_gaps():
    df = fk.datasets.load("spector")
    table = fk.compare("GRADE ~ GPA + TUCE + PSI", df, "logit", maxiter=200)
    assert list(table.index) == ["newton", "fisher_scoring", "natural_gradient", "gradient",
                                 "bfgs", "lbfgs"]
    best = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit")
    converged = table[table["converged"]]
    assert {"newton", "fisher_scoring", "natural_gradient", "bfgs", "lbfgs"} <= set(converged.index)
    # the converged methods agree with Newton within the stopping rules' 1e-4 se
    assert (converged["max_param_diff_se"] < 1e-4).all()
    np.testing.assert_allclose(table.loc["newton", "loglik"], best.loglik, rtol=1e-12)
    assert (table["loglik_gap"] >= 0).all()
    assert set(table.attrs["traces"]) == set(table.index)
    assert "natural_gradient" in repr(table)  # traces in attrs do not break printing
