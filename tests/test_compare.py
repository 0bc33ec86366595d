"""fk.compare: every optimizer reaches the same optimum on every built-in family, and on an
ill-conditioned logistic regression only the Fisher-preconditioned ones get there fast."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import fisherkit as fk
from fisherkit.compare import DEFAULT_METHODS

FAMILIES = ["normal", "logit", "probit", "binomial", "poisson", "negbin", "gamma",
            "exponential", "weibull", "student_t", "ordinal"]
#: families whose comparison takes more than about 3 s (the quick loop leaves them out)
SLOW = {"student_t"}
# tight tolerances: a decrement g' I^-1 g of 1e-13 leaves about 3e-7 standard errors
TOL = {"newton": 1e-13, "fisher_scoring": 1e-13, "natural_gradient": 1e-13, "gradient": 1e-12}
MAXITER = {"gradient": 2000, "bfgs": 1000, "lbfgs": 1000}


def simulated(family: str, n: int = 300, seed: int = 1):
    """A moderate data set drawn from the family, with the keywords its fit needs."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    eta = 0.3 + 0.5 * df["x1"] - 0.4 * df["x2"]
    kwargs = {}
    if family == "normal":
        df["y"] = eta + 1.5 * rng.normal(size=n)
    elif family == "logit":
        df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif family == "probit":
        df["y"] = (rng.random(n) < stats.norm.cdf(eta)).astype(float)
    elif family == "binomial":
        df["m"] = rng.integers(1, 10, size=n)
        df["y"] = rng.binomial(df["m"], 1 / (1 + np.exp(-eta)))
        kwargs["trials"] = "m"
    elif family == "poisson":
        df["y"] = rng.poisson(np.exp(eta))
    elif family == "negbin":
        mu, alpha = np.exp(eta), 0.7
        df["y"] = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
    elif family == "gamma":
        df["y"] = rng.gamma(2.0, np.exp(eta) / 2.0)
        kwargs["link"] = "log"
    elif family == "exponential":
        df["y"] = rng.exponential(np.exp(eta))
    elif family == "weibull":
        df["y"] = np.exp(eta) * rng.weibull(1.5, size=n)
    elif family == "student_t":
        df["y"] = eta + 0.8 * rng.standard_t(5, size=n)
    elif family == "ordinal":
        latent = 0.5 * df["x1"] - 0.4 * df["x2"] + rng.logistic(size=n)
        df["y"] = np.digitize(latent, [-1.0, 0.0, 1.2])
    formula = "y ~ x1 + x2 - 1" if family == "ordinal" else "y ~ x1 + x2"
    return formula, df, kwargs


@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW else f
                                    for f in FAMILIES])
def test_every_method_reaches_the_same_optimum(family):
    formula, df, kwargs = simulated(family)
    table = fk.compare(formula, df, family, maxiter=MAXITER, tol=TOL, **kwargs)
    assert list(table.index) == list(DEFAULT_METHODS)
    results = table.attrs["results"]
    best = results[table.attrs["best"]]
    # the table's numbers, recomputed from the fits it keeps
    for method, res in results.items():
        row = table.loc[method]
        assert row["converged"] == res.converged and row["n_iter"] == res.n_iter
        assert row["loglik_gap"] == best.loglik - res.loglik >= 0
        diff = np.max(np.abs(res.params - best.params) / best.se)
        assert row["max_param_diff_se"] == pytest.approx(diff, rel=1e-12, abs=1e-300)
        if not res.converged:
            assert "not_converged" in res.flags
    # the second-order methods and L-BFGS always converge here; within 1e-6 standard errors
    assert table.loc[["newton", "fisher_scoring", "natural_gradient", "lbfgs"],
                     "converged"].all()
    converged = table[table["converged"]]
    assert (converged["max_param_diff_se"] < 1e-6).all(), converged["max_param_diff_se"]
    assert (converged["loglik_gap"] < 1e-9).all()


def test_fisher_scoring_on_censored_data_is_reported_not_raised():
    rng = np.random.default_rng(5)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n)})
    t = np.exp(0.2 + 0.5 * df["x"]) * rng.weibull(1.5, size=n)
    c = rng.exponential(3.0, size=n)
    df["y"], df["d"] = np.minimum(t, c), (t <= c).astype(float)
    with pytest.warns(fk.FisherkitWarning, match="fisher_scoring method cannot be used"):
        table = fk.compare("y ~ x", df, "weibull", event="d",
                           methods=["newton", "fisher_scoring", "bfgs"])
    assert not table.loc["fisher_scoring", "converged"]
    assert np.isnan(table.loc["fisher_scoring", "loglik"])
    assert "censoring" in table.attrs["messages"]["fisher_scoring"]
    assert set(table.attrs["results"]) == {"newton", "bfgs"}
    assert table.loc["bfgs", "max_param_diff_se"] < 1e-4


def test_budgets_tolerances_and_kept_results():
    df = fk.datasets.load("spector")
    table = fk.compare("GRADE ~ GPA", df, "logit", methods=["newton", "gradient"],
                       maxiter={"gradient": 7}, tol={"newton": 1e-12})
    assert table["maxiter"].to_dict() == {"newton": 100, "gradient": 7}
    assert table.loc["gradient", "n_iter"] == 7 and not table.loc["gradient", "converged"]
    assert table.attrs["best"] == "newton"
    # derived frames share the kept results instead of deep-copying the fits
    derived = table[["loglik"]]
    assert derived.attrs["results"] is table.attrs["results"]
    assert copy.deepcopy(table.attrs["traces"]) is table.attrs["traces"]
    trace = table.attrs["traces"]["gradient"]
    assert len(trace) == 8 and list(table.attrs["traces"]) == ["newton", "gradient"]
    assert "gradient" in repr(table)
    assert list(table.columns) == ["converged", "n_iter", "maxiter", "passes", "loglik",
                                   "loglik_gap", "grad_norm", "seconds", "max_param_diff_se"]


def test_fit_warnings_are_passed_on_once_with_the_methods():
    rng = np.random.default_rng(4)
    n = 200
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    df["x3"] = df["x1"] + df["x2"]
    df["y"] = (rng.random(n) < 0.5).astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = fk.compare("y ~ x1 + x2 + x3", df, "logit", methods=["newton", "bfgs"])
    singular = [w for w in caught if issubclass(w.category, fk.SingularInformationWarning)]
    assert singular and all(str(w.message).startswith(("newton", "bfgs")) for w in singular)
    assert len({str(w.message) for w in singular}) == len(singular)
    assert np.isnan(table["max_param_diff_se"]).all()


@pytest.mark.parametrize("kwargs,match", [
    ({"methods": ["newton", "newtn"]}, r"Unknown method\(s\) \['newtn'\]"),
    ({"methods": []}, "at least one optimizer"),
    ({"methods": ["bfgs", "bfgs"]}, "repeat a name"),
    ({"methods": ["newton"], "maxiter": {"gradient": 10}}, "'maxiter' names methods"),
    ({"methods": ["newton"], "tol": {"bfgs": 1e-8}}, "'tol' names methods"),
    ({"methods": ["newton"], "options": {"gradient": {}}}, "'options' names methods"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(fk.SpecificationError, match=match):
        fk.compare("GRADE ~ GPA", fk.datasets.load("spector"), "logit", **kwargs)


def test_an_error_of_every_method_is_raised():
    with pytest.raises(fk.SpecificationError, match="Unknown family 'logitt'"):
        fk.compare("GRADE ~ GPA", fk.datasets.load("spector"), "logitt",
                   methods=["newton", "bfgs"])


def ill_conditioned(n: int = 200_000, p: int = 20, seed: int = 20):
    """Logistic regression with standard normal features, the first scaled by 100."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, 0] *= 100.0
    beta = rng.normal(scale=0.3, size=p)
    beta[0] /= 100.0
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + X @ beta)))).astype(float)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    return "y ~ " + " + ".join(df.columns[:-1]), df, np.column_stack([np.ones(n), X])


@pytest.mark.slow
def test_ill_conditioned_logit_natural_gradient_fast_plain_gradient_not():
    # about 35 s, nearly all in the 1000 gradient iterations at n = 200,000
    formula, df, Z = ill_conditioned()
    # plain gradient with the classical safe fixed step 1 / L, L = lambda_max(Z'Z) / 4
    # bounding the logistic log-likelihood's curvature (a backtracking line search from
    # the unit step reaches the same tiny steps but halves ~28 times an iteration)
    step = 4.0 / np.linalg.eigvalsh(Z.T @ Z)[-1]
    table = fk.compare(formula, df, "logit",
                       methods=["newton", "fisher_scoring", "natural_gradient", "gradient"],
                       maxiter={"newton": 10, "fisher_scoring": 10, "natural_gradient": 10,
                                "gradient": 1000},
                       options={"natural_gradient": {"learning_rate": 1.0},
                                "gradient": {"learning_rate": step}})
    fast = table.loc[["fisher_scoring", "natural_gradient"]]
    assert fast["converged"].all() and (fast["n_iter"] <= 10).all()
    plain = table.loc["gradient"]
    assert not plain["converged"] and plain["n_iter"] == 100 * 10
    assert plain["max_param_diff_se"] > 1.0
    converged = table[table["converged"]]
    assert len(converged) == 3 and (converged["max_param_diff_se"] < 1e-6).all()


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
