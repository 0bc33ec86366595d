"""Every error path names what is wrong; numerical trouble warns with a flag, never silent NaN.

Errors are checked with ``pytest.raises(..., match=...)`` against the column or parameter
the message must name. Numerical trouble must come with a warning of one of fisherkit's own
classes and a flag on the result. The last section checks ``FitResult`` itself: immutability,
table shapes, ``alpha`` handling, and AIC / BIC against statsmodels.
"""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special, stats

import fisherkit as fk
from fisherkit.models.builtins import make_family
from fisherkit.models.formula import build_data
from fisherkit.inference.covariance import invert_information
from fisherkit.models.index_model import Model

N = 200


def make_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Simulated data valid for every family used below."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.uniform(0.5, 3.0, size=n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(0.3 + 0.8 * x1)))).astype(float)
    count = rng.poisson(np.exp(0.2 + 0.3 * x1)).astype(float)
    trials = rng.integers(1, 8, size=n).astype(float)
    successes = rng.binomial(trials.astype(int), 0.4).astype(float)
    time = rng.exponential(np.exp(0.5 + 0.3 * x1))
    event = (rng.random(n) < 0.8).astype(float)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "count": count, "trials": trials,
                         "successes": successes, "time": time, "event": event})


@pytest.fixture
def df() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="module")
def spector() -> pd.DataFrame:
    return fk.datasets.load("spector")


SPECTOR_FORMULA = "GRADE ~ GPA + TUCE + PSI"

# ---- bad values in the data -----------------------------------------------------------------


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_inf_in_a_predictor_names_the_column(df, value):
    df.loc[12, "x2"] = value
    with pytest.raises(fk.DataError, match="'x2' holds infinite values"):
        fk.fit("y ~ x1 + x2", data=df, family="logit")


def test_inf_in_the_outcome_names_the_column(df):
    df.loc[12, "time"] = np.inf
    with pytest.raises(fk.DataError, match="'time' holds infinite values"):
        fk.fit("time ~ x1", data=df, family="normal")


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")
def test_inf_made_by_a_transform_names_the_term(df):
    # log(0) = -inf enters the design though no column of the data is infinite
    df.loc[12, "x2"] = 0.0
    with pytest.raises(fk.DataError, match=r"np\.log\(x2\)"):
        fk.fit("y ~ x1 + np.log(x2)", data=df, family="logit")


def test_string_outcome_for_logit_names_the_column(df):
    df["passed"] = np.where(df["y"] == 1, "yes", "no")
    with pytest.raises(fk.DataError, match="'passed' must be numeric"):
        fk.fit("passed ~ x1", data=df, family="logit")


SUPPORT_CASES = [
    # family, outcome column, bad value, expected message
    ("logit", "y", 2.0, "'y' must be 0 or 1"),
    ("logit", "y", 0.5, "'y' must be 0 or 1"),
    ("probit", "y", -1.0, "'y' must be 0 or 1"),
    ("poisson", "count", -1.0, "'count' must be non-negative"),
    ("negbin", "count", -3.0, "'count' must be non-negative"),
    ("poisson", "count", 1.5, "'count' must be whole numbers"),
    ("negbin", "count", 2.25, "'count' must be whole numbers"),
    ("gamma", "time", 0.0, "'time' must be positive"),
    ("gamma", "time", -1.0, "'time' must be positive"),
    ("exponential", "time", 0.0, "'time' must be positive"),
    ("exponential", "time", -2.0, "'time' must be positive"),
    ("weibull", "time", 0.0, "'time' must be positive"),
    ("weibull", "time", -0.5, "'time' must be positive"),
]


@pytest.mark.parametrize("family, column, value, message", SUPPORT_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in SUPPORT_CASES])
def test_outcome_outside_the_support_names_the_column(df, family, column, value, message):
    df.loc[[7, 30], column] = value
    with pytest.raises(fk.DataError, match=message):
        fk.fit(f"{column} ~ x1", data=df, family=family)


def test_more_successes_than_trials_names_the_column(df):
    df.loc[9, "successes"] = df.loc[9, "trials"] + 1
    with pytest.raises(fk.DataError, match="'successes' must be whole numbers between 0 and trials"):
        fk.fit("successes ~ x1", data=df, family="binomial", trials="trials")


@pytest.mark.parametrize("value", [0.0, -1.0, 2.5])
def test_bad_trials_are_named(df, value):
    df.loc[9, "trials"] = value
    df.loc[9, "successes"] = 0.0
    with pytest.raises(fk.DataError, match="trials column must hold positive whole numbers"):
        fk.fit("successes ~ x1", data=df, family="binomial", trials="trials")


@pytest.mark.parametrize("family", ["exponential", "weibull"])
@pytest.mark.parametrize("value", [2.0, 0.5, -1.0])
def test_event_other_than_0_or_1_is_named(df, family, value):
    df["arrested"] = df["event"]
    df.loc[3, "arrested"] = value
    with pytest.raises(fk.DataError, match=r"event column must be 1 \(observed\) or 0"):
        fk.fit("time ~ x1", data=df, family=family, event="arrested")


def test_ordinal_with_an_empty_level_names_it(df):
    df["rating"] = pd.Categorical(np.where(df["x1"] > 0, "high", "low"),
                                  categories=["low", "mid", "high"], ordered=True)
    with pytest.raises(fk.DataError, match=r"'rating'.*empty levels: \['mid'\]"):
        fk.fit("rating ~ x2", data=df, family="ordinal")


# ---- designs that cannot be identified ------------------------------------------------------


def test_constant_predictor_beside_the_intercept_is_named(df):
    df["batch"] = 3.0
    with pytest.raises(fk.DataError, match=r"\['batch'\].*constant"):
        fk.fit("y ~ x1 + batch", data=df, family="logit")


@pytest.mark.parametrize("n", [32, 200])
@pytest.mark.parametrize("rhs", [
    "x1 + x1_again",
    "x1 + x2 + x1_again",
    "x1 + x2 + time + x1_again",
    "x2 + time + count + x1 + x1_again",
])
def test_two_identical_columns_are_named(n, rhs):
    df = make_frame(n)
    df["x1_again"] = df["x1"]
    with pytest.raises(fk.DataError, match="'x1' and 'x1_again'.*identical"):
        fk.fit(f"y ~ {rhs}", data=df, family="logit")


def test_fewer_rows_than_parameters(df):
    small = df.iloc[:3].assign(y=[0.0, 1.0, 0.0])
    with pytest.raises(fk.DataError, match="3 usable rows for at least 4 parameters"):
        fk.fit("y ~ x1 + x2 + np.exp(x2)", data=small, family="logit")


def test_too_few_rows_left_after_dropping_missing(df):
    small = df.iloc[:6].copy()
    small.loc[[0, 1, 2], "x1"] = np.nan
    with pytest.raises(fk.DataError, match="3 usable rows for at least 3 parameters"):
        fk.fit("y ~ x1 + x2", data=small, family="logit")


# ---- specification errors -------------------------------------------------------------------


def test_unknown_family(df):
    with pytest.raises(fk.SpecificationError, match="Unknown family 'tobit'"):
        fk.fit("y ~ x1", data=df, family="tobit")


def test_family_of_the_wrong_type(df):
    with pytest.raises(fk.SpecificationError, match="'family' must be a name or a fk.Family"):
        fk.fit("y ~ x1", data=df, family=42)


def test_unknown_link(df):
    with pytest.raises(fk.SpecificationError, match="Unknown link 'logarithm'"):
        fk.fit("count ~ x1", data=df, family="poisson", link="logarithm")


@pytest.mark.parametrize("family, link", [("logit", "probit"), ("poisson", "logit"),
                                          ("exponential", "identity")])
def test_link_not_allowed_for_the_family(df, family, link):
    with pytest.raises(fk.SpecificationError, match=f"link '{link}' is not available"):
        fk.fit("time ~ x1" if family == "exponential" else "y ~ x1", data=df, family=family,
               link=link)


def test_link_keyword_with_a_custom_family(df):
    family = fk.Family(lambda y, mu: -0.5 * (y - mu) ** 2, mu=fk.Predictor())
    with pytest.raises(fk.SpecificationError,
                       match="link inside a custom Family's fk.Predictor, not as link="):
        fk.fit("time ~ x1", data=df, family=family, link="log")


@pytest.mark.parametrize("keyword, family, outcome", [
    ("offset", "poisson", "count"),
    ("trials", "binomial", "successes"),
    ("event", "weibull", "time"),
    ("cluster", "logit", "y"),
])
def test_array_keyword_of_the_wrong_length_is_named(df, keyword, family, outcome):
    kwargs = {"trials": df["trials"].to_numpy()} if family == "binomial" else {}
    kwargs[keyword] = np.ones(N - 1)
    with pytest.raises(fk.DataError, match=f"The {keyword} has {N - 1} values but the data "
                                           f"has {N} rows"):
        fk.fit(f"{outcome} ~ x1", data=df, family=family, **kwargs)


def test_formula_column_not_in_the_data(df):
    with pytest.raises(fk.DataError, match="'income', which is not a column"):
        fk.fit("y ~ x1 + income", data=df, family="logit")


def test_outcome_not_in_the_data(df):
    with pytest.raises(fk.DataError, match="'outcome', which is not a column"):
        fk.fit("outcome ~ x1", data=df, family="logit")


def test_keyword_column_not_in_the_data(df):
    with pytest.raises(fk.DataError, match="offset column 'log_service' is not in the data"):
        fk.fit("count ~ x1", data=df, family="poisson", offset="log_service")


@pytest.mark.parametrize("formula", ["y + x1", "y = x1", ""])
def test_formula_without_tilde(df, formula):
    with pytest.raises(fk.SpecificationError, match="formula must read 'outcome ~ terms'"):
        fk.fit(formula, data=df, family="logit")


@pytest.mark.parametrize("data", [{"y": [0.0, 1.0], "x1": [1.0, 2.0]}, np.zeros((4, 2))],
                         ids=["dict", "ndarray"])
def test_data_that_is_not_a_dataframe(data):
    with pytest.raises(fk.DataError, match="'data' must be a pandas DataFrame; got"):
        fk.fit("y ~ x1", data=data, family="logit")


@pytest.mark.parametrize("maxiter", [0, -5, 2.5, "100", None])
def test_bad_maxiter(df, maxiter):
    with pytest.raises(fk.SpecificationError, match="'maxiter' must be a positive integer"):
        fk.fit("y ~ x1", data=df, family="logit", maxiter=maxiter)


@pytest.mark.parametrize("tol", [0.0, -1e-8, float("nan"), "1e-8", None])
def test_bad_tol(df, tol):
    with pytest.raises(fk.SpecificationError, match="'tol' must be a positive number"):
        fk.fit("y ~ x1", data=df, family="logit", tol=tol)


@pytest.mark.parametrize("start", [[0.0], [0.0, 0.0, 0.0], [[0.0, 0.0]]])
def test_start_of_the_wrong_shape(df, start):
    with pytest.raises(fk.SpecificationError, match=r"'start' must have 2 values \(Intercept, x1\)"):
        fk.fit("y ~ x1", data=df, family="logit", start=start)


def test_unknown_method(df):
    with pytest.raises(fk.SpecificationError, match="Unknown method 'adam'"):
        fk.fit("y ~ x1", data=df, family="logit", method="adam")


def test_unknown_cov(df):
    with pytest.raises(fk.SpecificationError, match="Unknown cov 'robustish'"):
        fk.fit("y ~ x1", data=df, family="logit", cov="robustish")


def test_unknown_missing_option(df):
    with pytest.raises(fk.SpecificationError, match="'missing' option must be 'drop' or 'raise'"):
        fk.fit("y ~ x1", data=df, family="logit", missing="ignore")


def test_binomial_without_trials(df):
    with pytest.raises(fk.SpecificationError, match="binomial family needs 'trials='"):
        fk.fit("successes ~ x1", data=df, family="binomial")


def test_keyword_the_family_does_not_take(df):
    with pytest.raises(fk.SpecificationError, match=r"logit family does not take \['exposure'\]"):
        fk.fit("y ~ x1", data=df, family="logit", exposure=np.ones(N))


def _normal_logpdf(y, mu, sigma):
    return -anp.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2


@pytest.mark.parametrize("spec", [1.0, "positive", None], ids=["float", "str", "None"])
def test_family_parameter_of_an_undeclared_kind(spec):
    with pytest.raises(fk.SpecificationError,
                       match="'sigma' must be declared as fk.Predictor, fk.Scalar or fk.CutPoints"):
        fk.Family(_normal_logpdf, mu=fk.Predictor(), sigma=spec)


def test_family_without_a_predictor():
    with pytest.raises(fk.SpecificationError, match="at least one fk.Predictor"):
        fk.Family(_normal_logpdf, mu=fk.Scalar(), sigma=fk.Scalar("positive"))


def test_family_with_a_logpdf_that_is_not_callable():
    with pytest.raises(fk.SpecificationError, match="'logpdf' of a Family must be callable"):
        fk.Family("normal", mu=fk.Predictor())


def test_scalar_with_an_unknown_constraint():
    with pytest.raises(fk.SpecificationError, match="Unknown constraint 'nonnegative'"):
        fk.Scalar("nonnegative")


# ---- numerical trouble: a warning of our own class and a flag --------------------------------


def test_non_convergence_warns_and_flags(spector, spector_statsmodels):
    with pytest.warns(fk.ConvergenceWarning, match="did not converge .* after 1 iterations"):
        res = fk.fit(SPECTOR_FORMULA, data=spector, family="logit", maxiter=1)
    assert res.converged is False
    assert "not_converged" in res.flags
    assert np.isfinite(res.loglik)
    # the log-likelihood reported is the one at the estimate reported (statsmodels' logit
    # log-likelihood at those parameters), and it is short of the maximum
    model = spector_statsmodels.model
    assert res.loglik == pytest.approx(model.loglike(res.params.to_numpy()), rel=1e-12)
    assert res.loglik < spector_statsmodels.llf - 1e-3


def test_converged_fit_has_no_flags(spector, spector_statsmodels):
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FisherkitWarning)
        res = fk.fit(SPECTOR_FORMULA, data=spector, family="logit")
        assert res.converged is True
        assert res.flags == frozenset()
        assert np.all(np.isfinite(res.se))
    # statsmodels' Logit bse: the inverse observed information, as fisherkit's default;
    # 1e-8 covers the two optimizers' stopping points
    np.testing.assert_allclose(res.se, spector_statsmodels.bse, rtol=1e-8)


def _fit_collinear(family, outcome):
    """Fit with x3 = x1 + x2 and read the standard errors; return the result, SEs, warnings.

    The warning may come at the fit or on first reading ``se``; either way it has come by
    the time the user has the standard errors.
    """
    df = make_frame()
    df["x3"] = df["x1"] + df["x2"]
    with warnings.catch_warnings():
        # the Newton rule does not declare convergence where -H is singular; what is tested
        # here is how the singular information is reported
        warnings.simplefilter("ignore", fk.ConvergenceWarning)
        with pytest.warns(fk.SingularInformationWarning, match="not identified") as record:
            res = fk.fit(f"{outcome} ~ x1 + x2 + x3", data=df, family=family)
            se = res.se
    singular = [w for w in record if issubclass(w.category, fk.SingularInformationWarning)]
    return res, se, singular


@pytest.mark.parametrize("family, outcome", [("logit", "y"), ("normal", "time")])
def test_collinear_columns_warn_name_the_combination_and_flag(family, outcome):
    res, se, singular = _fit_collinear(family, outcome)
    message = str(singular[0].message)
    assert "x1" in message and "x2" in message and "x3" in message
    assert "singular_information" in res.flags
    assert se[["x1", "x2", "x3"]].isna().all()


@pytest.mark.parametrize("family, outcome", [("logit", "y"), ("normal", "time")])
def test_collinear_columns_leave_uninvolved_standard_errors_finite(family, outcome):
    res, se, _ = _fit_collinear(family, outcome)
    uninvolved = ["Intercept"] + (["sigma"] if family == "normal" else [])
    assert np.all(np.isfinite(se[uninvolved])), se
    table = res.summary().loc[uninvolved]
    assert np.all(np.isfinite(table[["se", "ci_lower", "ci_upper"]]))
    # the uninvolved parameters are orthogonal to the flat direction x1 + x2 - x3, so their
    # variance is that of the identified model without x3, fitted by statsmodels (1e-6: the
    # two optimizers' stopping points; measured 1e-9)
    df = make_frame()
    X = sm.add_constant(df[["x1", "x2"]])
    if family == "logit":
        expected = [sm.Logit(df[outcome], X).fit(method="newton", tol=1e-12, disp=0).bse["const"]]
    else:
        # OLS bse use s^2 = SSR / (n - k), the ML variance SSR / n; sigma's ML SE is
        # sigma / sqrt(2 n)
        ols = sm.OLS(df[outcome], X).fit()
        n, k = len(df), 3
        expected = [ols.bse["const"] * np.sqrt((n - k) / n), np.sqrt(ols.ssr / n) / np.sqrt(2 * n)]
    np.testing.assert_allclose(se[uninvolved], expected, rtol=1e-6)
    # and the summary's intervals and p-values are the Wald ones from them
    half = stats.norm.ppf(0.975) * table["se"]
    np.testing.assert_allclose(table["ci_lower"], table["estimate"] - half, rtol=1e-12)
    np.testing.assert_allclose(table["ci_upper"], table["estimate"] + half, rtol=1e-12)
    np.testing.assert_allclose(table["p_value"], 2 * stats.norm.sf(np.abs(table["z"])),
                               rtol=1e-12)


@pytest.mark.parametrize("family", ["logit", "probit"])
def test_perfect_separation_warns_and_flags(df, family):
    df["y"] = (df["x1"] > 0.1).astype(float)
    with pytest.warns(fk.SeparationWarning, match="separation"):
        res = fk.fit("y ~ x1", data=df, family=family)
    assert "separation" in res.flags


def _huge_eta_model():
    df = make_frame()
    family = make_family("logit")
    return df, Model(family, build_data("y ~ x1", df, family))


@pytest.mark.parametrize("intercept", [800.0, -800.0])
def test_logit_log_likelihood_is_finite_at_huge_linear_predictors(intercept):
    df, model = _huge_eta_model()
    theta = np.array([intercept, 0.0])
    # every observation whose outcome disagrees with the sign of eta contributes -|eta|
    # (log sigmoid(-800) = -800 to double precision); the others contribute -0
    wrong = df["y"] == (0.0 if intercept > 0 else 1.0)
    expected = -800.0 * wrong.sum()
    loglik, score, hessian = model.derivatives(theta)
    assert loglik == pytest.approx(expected, rel=1e-12)
    assert model.loglik(theta) == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(score)) and np.all(np.isfinite(hessian))
    # the logit score X'(y - p) and Hessian -X' diag(p (1 - p)) X with p = expit(eta) from
    # scipy: p is 0 or 1 and p (1 - p) underflows to 0 at |eta| = 800
    X = np.column_stack([np.ones(len(df)), df["x1"]])
    p = special.expit(X @ theta)
    np.testing.assert_allclose(score, X.T @ (df["y"].to_numpy() - p), rtol=1e-14)
    np.testing.assert_allclose(hessian, -(X.T * (p * (1 - p))) @ X, rtol=1e-14, atol=1e-300)


def test_logit_fit_from_huge_linear_predictors_is_finite():
    df, _ = _huge_eta_model()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = fk.fit("y ~ x1", data=df, family="logit", start=[800.0, 0.0])
    assert np.isfinite(res.loglik)
    assert np.all(np.isfinite(res.params))
    # the reported log-likelihood is statsmodels' at the reported estimate
    reference = sm.Logit(df["y"], sm.add_constant(df[["x1"]]))
    assert res.loglik == pytest.approx(reference.loglike(res.params.to_numpy()), rel=1e-12)
    assert res.converged or "not_converged" in res.flags
    fisherkit_warnings = [w for w in record if issubclass(w.category, fk.FisherkitWarning)]
    assert res.converged or fisherkit_warnings


def test_logit_fit_recovers_from_huge_linear_predictors():
    # at eta = 800 the Hessian underflows to exactly 0; the optimizer must still move
    # (a gradient step) rather than stop where it started
    df, _ = _huge_eta_model()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = fk.fit("y ~ x1", data=df, family="logit", start=[800.0, 0.0])
    default = fk.fit("y ~ x1", data=df, family="logit")
    assert not [w for w in record if not issubclass(w.category, fk.FisherkitWarning)]
    assert res.converged
    assert res.loglik == pytest.approx(default.loglik, rel=1e-10)


def test_invert_information_reports_negative_curvature():
    info = np.array([[2.0, 0.0, 0.0],
                     [0.0, 1.0, 2.0],
                     [0.0, 2.0, 1.0]])   # eigenvalues 2, 3, -1
    with pytest.warns(fk.SingularInformationWarning, match="negative curvature"):
        cov, problems = invert_information(info, ["a", "b", "c"])
    assert len(problems) == 1
    assert "b - c has negative curvature" in problems[0]
    assert np.isnan(cov[1:, :]).all() and np.isnan(cov[:, 1:]).all()
    assert cov[0, 0] == pytest.approx(0.5)


def test_invert_information_reports_a_singular_direction():
    info = np.array([[1.0, 1.0], [1.0, 1.0]])
    with pytest.warns(fk.SingularInformationWarning, match="a - b is not identified"):
        cov, problems = invert_information(info, ["a", "b"])
    assert np.isnan(cov).all()


def test_invert_information_reports_non_finite_information():
    info = np.array([[1.0, np.nan], [np.nan, 1.0]])
    with pytest.warns(fk.SingularInformationWarning, match="not finite for a, b"):
        cov, problems = invert_information(info, ["a", "b"])
    assert np.isnan(cov).all()


def test_invert_information_is_silent_on_a_positive_definite_matrix():
    rng = np.random.default_rng(11)
    A = rng.normal(size=(4, 4))
    info = A @ A.T + 4 * np.eye(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cov, problems = invert_information(info, list("abcd"))
    assert problems == []
    np.testing.assert_allclose(cov, np.linalg.inv(info), rtol=1e-10)


def test_fit_warnings_point_at_the_callers_line(spector):
    with pytest.warns(fk.ConvergenceWarning, match="did not converge") as record:
        fk.fit(SPECTOR_FORMULA, data=spector, family="logit", maxiter=1)
    assert record[0].filename == __file__


def test_standard_error_warnings_point_at_the_callers_line():
    _, _, singular = _fit_collinear("logit", "y")
    assert singular[0].filename == __file__


# ---- FitResult: immutable, tables, alpha, information criteria ------------------------------


@pytest.fixture(scope="module")
def spector_fit(spector):
    return fk.fit(SPECTOR_FORMULA, data=spector, family="logit")


@pytest.fixture(scope="module")
def spector_statsmodels(spector):
    X = sm.add_constant(spector[["GPA", "TUCE", "PSI"]]).rename(columns={"const": "Intercept"})
    return sm.Logit(spector["GRADE"], X).fit(method="newton", tol=1e-12, disp=0)


@pytest.mark.parametrize("name", ["params", "se", "loglik", "converged", "model", "flags",
                                  "new_attribute"])
def test_fit_result_attributes_cannot_be_set(spector_fit, name):
    with pytest.raises(AttributeError, match="immutable"):
        setattr(spector_fit, name, 0.0)


def test_fit_result_estimates_cannot_be_changed_through_returned_objects(spector):
    res = fk.fit(SPECTOR_FORMULA, data=spector, family="logit")
    before = res.summary().copy()
    for table in (res.params, res.se, res.cov):
        try:
            table.iloc[0] = 99.0   # read-only data may refuse; either way nothing may change
        except ValueError:
            pass
    pd.testing.assert_frame_equal(res.summary(), before)
    with pytest.raises(ValueError, match="read-only"):
        res.theta[0] = 99.0


def test_summary_and_conf_int_shapes_and_alpha(spector_fit):
    names = ["Intercept", "GPA", "TUCE", "PSI"]
    table = spector_fit.summary()
    assert table.shape == (4, 6)
    assert list(table.index) == names
    assert list(table.columns) == ["estimate", "se", "z", "p_value", "ci_lower", "ci_upper"]
    assert table.attrs["alpha"] == 0.05
    ci = spector_fit.conf_int(alpha=0.1)
    assert ci.shape == (4, 2)
    assert list(ci.index) == names
    assert list(ci.columns) == ["ci_lower", "ci_upper"]
    assert ci.attrs["alpha"] == 0.1
    assert spector_fit.summary(alpha=0.1).attrs["alpha"] == 0.1
    half = stats.norm.ppf(0.95) * spector_fit.se
    np.testing.assert_allclose(ci["ci_upper"] - spector_fit.params, half, rtol=1e-12)
    np.testing.assert_allclose(spector_fit.params - ci["ci_lower"], half, rtol=1e-12)
    pd.testing.assert_frame_equal(spector_fit.summary(alpha=0.1)[["ci_lower", "ci_upper"]], ci,
                                  check_names=False)


def test_conf_int_matches_statsmodels(spector_fit, spector_statsmodels):
    # both are Wald intervals from the observed information (equal to the expected for the
    # canonical logit); 1e-6 covers the two optimizers' stopping points
    ref = spector_statsmodels.conf_int(alpha=0.1)
    ci = spector_fit.conf_int(alpha=0.1)
    np.testing.assert_allclose(ci.to_numpy(), ref.loc[ci.index].to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.05, 1.5, float("nan")])
def test_conf_int_rejects_alpha_outside_the_unit_interval(spector_fit, alpha):
    with pytest.raises(ValueError, match="'alpha' must lie in \\(0, 1\\)"):
        spector_fit.conf_int(alpha=alpha)
    with pytest.raises(ValueError, match="'alpha' must lie in \\(0, 1\\)"):
        spector_fit.summary(alpha=alpha)


def test_aic_and_bic_match_statsmodels_on_spector(spector_fit, spector_statsmodels):
    k, n = 4, 32
    assert spector_fit.n_obs == n and spector_fit.n_params == k
    loglik = spector_fit.loglik
    assert spector_fit.aic == pytest.approx(-2.0 * loglik + 2.0 * k, rel=1e-14)
    assert spector_fit.bic == pytest.approx(-2.0 * loglik + np.log(n) * k, rel=1e-14)
    # statsmodels: aic = -2 llf + 2 (df_model + 1), bic = -2 llf + log(nobs) (df_model + 1);
    # at the optimum the log-likelihood is insensitive to the stopping point to second order
    assert loglik == pytest.approx(spector_statsmodels.llf, rel=1e-10)
    assert spector_fit.aic == pytest.approx(spector_statsmodels.aic, rel=1e-10)
    assert spector_fit.bic == pytest.approx(spector_statsmodels.bic, rel=1e-10)
