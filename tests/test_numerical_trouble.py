"""Numerical trouble is reported, never hidden: a boundary or flat fit warns with a class of
ours and flags the result, what would hang is computed another way or refused at once, and
what would be a raw exception is a refusal that names the option, the rows or the values."""

import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import fisherkit as fk
from fisherkit.models.expected import summed_expected_information
from fisherkit.models.nb2_expected import log_alpha_information


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=200)


def fit_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fk.fit(*args, **kwargs)


# ---- 1. boundary and flat fits --------------------------------------------------------


def test_lbfgs_stopping_at_its_first_iterate_is_not_converged(x):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": x, "y": rng.gamma(2.0, np.exp(1 + 0.5 * x) / 2.0)})
    with pytest.warns(fk.ConvergenceWarning, match="gradient at its end is not small.*Newton "
                                                   "decrement.*scaled gradient in x"):
        res = fk.fit("y ~ x", df, "gamma", method="lbfgs")
    assert res.n_iter == 1 and not res.converged and "not_converged" in res.flags
    # the same model by Newton's method is a converged fit with nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FisherkitWarning)
        newton = fk.fit("y ~ x", df, "gamma")
    assert newton.converged and not newton.flags


def test_ordinal_perfect_separation_is_flagged(x):
    df = pd.DataFrame({"x": x, "y": np.digitize(x, [-0.5, 0.5])})
    with pytest.warns(fk.SeparationWarning, match=r"categor.*perfectly predicted.*\['x'\]"):
        res = fk.fit("y ~ x", df, "ordinal")
    assert "separation" in res.flags
    assert abs(res.params["x"]) > 100


def test_ordinal_with_a_strong_but_finite_effect_is_not_flagged(x):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": x, "y": np.digitize(3 * x + rng.logistic(size=len(x)), [-1, 1])})
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.SeparationWarning)
        res = fk.fit("y ~ x", df, "ordinal")
    assert "separation" not in res.flags


# NB2's alpha runs to 0 beside the coefficient: its fit also stops short and at a saddle,
# which the warnings tested elsewhere say
@pytest.mark.filterwarnings("ignore::fisherkit.ConvergenceWarning",
                            "ignore::fisherkit.SaddlePointWarning",
                            "ignore::fisherkit.SingularInformationWarning")
@pytest.mark.parametrize("family", ["poisson", "negbin"])
def test_a_level_without_events_is_a_boundary(family):
    rng = np.random.default_rng(3)
    g = np.repeat(["a", "b", "c"], [80, 80, 40])
    df = pd.DataFrame({"g": g, "y": rng.poisson(np.where(g == "c", 0.0, 3.0))})
    with pytest.warns(fk.BoundaryWarning, match=r"boundary.*\['C\(g\)\[T\.c\]'\] head to minus "
                                                "infinity"):
        res = fk.fit("y ~ C(g)", df, family)
    assert "boundary" in res.flags


@pytest.mark.filterwarnings("ignore::fisherkit.SaddlePointWarning",
                            "ignore::fisherkit.SingularInformationWarning")
@pytest.mark.parametrize("family", ["poisson", "negbin"])
def test_all_zero_counts_are_a_boundary(family, x):
    df = pd.DataFrame({"x": x, "y": np.zeros(len(x))})
    with pytest.warns(fk.BoundaryWarning, match=r"every count is zero.*\['Intercept'\]"):
        res = fk.fit("y ~ x", df, family)
    assert "boundary" in res.flags


def test_counts_with_events_everywhere_are_not_a_boundary(x):
    df = pd.DataFrame({"x": x, "y": np.random.default_rng(4).poisson(np.exp(0.5 + 0.3 * x))})
    res = fk.fit("y ~ x", df, "poisson")
    assert "boundary" not in res.flags


@pytest.mark.parametrize("family", ["exponential", "weibull"])
def test_every_row_censored_is_a_boundary(family, x):
    t = np.random.default_rng(5).exponential(np.exp(0.5 * x))
    df = pd.DataFrame({"x": x, "t": t, "event": np.zeros(len(x))})
    with pytest.warns(fk.BoundaryWarning, match="Every row .* is censored .* heads to infinity"):
        res = fk.fit("t ~ x", df, family, event="event")
    assert "boundary" in res.flags
    some_events = fk.fit("t ~ x", df.assign(event=(np.arange(len(x)) % 2).astype(float)),
                         family, event="event")
    assert "boundary" not in some_events.flags


@pytest.mark.filterwarnings("ignore::fisherkit.ConvergenceWarning")  # df creeps on to the end
def test_student_t_running_to_its_normal_limit_is_a_boundary(x):
    df = pd.DataFrame({"x": x, "y": 1 + x + np.random.default_rng(8).normal(size=len(x))})
    with pytest.warns(fk.BoundaryWarning, match="'df'.*heading to infinity.*normal"):
        res = fk.fit("y ~ x", df, "student_t")
    assert "boundary" in res.flags and res.params["df"] > 1e3
    heavy = df.assign(y=1 + x + np.random.default_rng(7).standard_t(3, size=len(x)))
    assert "boundary" not in fk.fit("y ~ x", heavy, "student_t").flags


def test_fewer_clusters_than_parameters_warns_and_flags(x):
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"x": x, "z": rng.normal(size=len(x)), "y": rng.poisson(2, size=len(x)),
                       "firm": rng.integers(0, 2, size=len(x)), "many": np.arange(len(x)) % 20})
    with pytest.warns(fk.SingularInformationWarning, match=r"meat of rank 1 for 3 parameters "
                                                           r"\(Intercept, x, z\)"):
        res = fk.fit("y ~ x + z", df, "poisson", cluster="firm", cov="cluster")
    assert "few_clusters" in res.flags
    # the view with enough clusters, and the other covariances, have nothing to flag
    assert "few_clusters" not in res.with_cov("cluster", cluster=df["many"].to_numpy()).flags
    assert "few_clusters" not in res.with_cov("observed").flags


# ---- 2. what would hang ------------------------------------------------------------------


def nb2_frame(n, log_mean, alpha, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    mu = np.exp(log_mean + 0.3 * x)
    return pd.DataFrame({"x": x, "y": rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
                         .astype(float)})


def test_nb2_expected_information_equals_the_sum_over_the_counts():
    res = fk.fit("y ~ x", nb2_frame(300, 0.5, 0.5, seed=9), "negbin")
    fast = res.expected_information
    summed = summed_expected_information(res.model, res.theta)
    assert fast.method == "exact" and summed.tail_bound <= 1e-12
    scale = np.max(np.abs(summed.matrix))
    assert np.max(np.abs(fast.matrix - summed.matrix)) / scale < 1e-10  # measured 6e-12


def test_nb2_expected_information_at_large_counts_is_quick_and_right():
    # a thousand rows of means about 1e4: summed over the counts this took minutes
    res = fk.fit("y ~ x", nb2_frame(1000, np.log(1e4), 0.3, seed=10), "negbin")
    info = res.information("expected")
    assert np.all(np.isfinite(info.to_numpy()))
    # alpha's information of a few such rows against scipy's pmf summed over the whole
    # support, with the score in log(alpha) (a check that needs no derivative of ours)
    mu, alpha = np.array([8e3, 1e4, 1.3e4]), 0.3
    r = 1 / alpha
    counts = np.arange(int(stats.nbinom.isf(1e-18, r, r / (r + mu.max()))) + 1)[:, None]
    pmf = stats.nbinom.pmf(counts, r, r / (r + mu))
    score = -r * (special.digamma(counts + r) - special.digamma(r) + np.log(r / (r + mu))
                  + (mu - counts) / (r + mu))
    np.testing.assert_allclose(log_alpha_information(mu, np.full(3, alpha)),
                               np.sum(pmf * score**2, axis=0), rtol=1e-10)


def poisson_counts(y, rate):
    return y * anp.log(rate) - rate - special.gammaln(y + 1.0)


def test_a_count_summation_that_cannot_finish_is_refused_naming_max_terms():
    rng = np.random.default_rng(13)
    df = pd.DataFrame({"y": rng.poisson(500.0, size=30).astype(float)})
    family = fk.Family(poisson_counts, support="counts", rate=fk.Predictor(link="log"))
    res = fk.fit("y ~ 1", df, family)
    with pytest.raises(fk.SpecificationError, match="up to 49 left mass 1 > tail=1e-12 .*"
                                                    "max_terms.*monte_carlo"):
        res.with_cov("expected", max_terms=50).se


def test_profile_of_collinear_columns_is_refused_at_once(x):
    df = pd.DataFrame({"x": x, "x2": 2 * x, "y": np.random.default_rng(11).poisson(2.0, len(x))})
    res = fit_quietly("y ~ x + x2", df, "poisson")
    with pytest.raises(fk.SpecificationError, match=r"'x' is not identified .*x - 0\.5\*x2 is "
                                                    "not identified"):
        res.profile_ci("x")
    with pytest.raises(fk.SpecificationError, match="not identified"):
        res.profile("x2")


def test_profile_of_an_unidentified_likelihood_parameter_is_refused(x):
    def sum_only(p, data):
        return -0.5 * (data["y"] - p["a"] - p["b"]) ** 2

    likelihood = fk.Likelihood(sum_only, {"y": x}, params={"a": fk.Scalar(), "b": fk.Scalar()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fk.fit_likelihood(likelihood)
    with pytest.raises(fk.SpecificationError, match="'a' is not identified .*a - b"):
        res.profile_ci()


# ---- 3. likelihood-ratio tests across families -------------------------------------------


def test_lr_test_between_families_warns_that_it_assumes_nesting():
    spector = fk.datasets.load("spector")
    logit = fk.fit("GRADE ~ GPA", spector, "logit")
    probit = fk.fit("GRADE ~ GPA + TUCE", spector, "probit")
    with pytest.warns(fk.NestingWarning, match="'logit' model and the full one of the 'probit'"
                                               ".*AIC or BIC"):
        fk.lr_test(logit, probit)
    ships = fk.datasets.load("ships")
    offset = np.log(ships["service"])
    poisson = fk.fit("accident ~ yr_con + op_75_79", ships, "poisson", offset=offset)
    negbin = fk.fit("accident ~ yr_con + op_75_79", ships, "negbin", offset=offset)
    with pytest.warns(fk.NestingWarning, match=r"\['alpha'\].*boundary.*conservative"):
        out = fk.lr_test(poisson, negbin)
    assert out["df"] == 1 and out["statistic"] > 0
    # fits of one family whose parameters nest have nothing to warn about
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.NestingWarning)
        fk.lr_test(logit, fk.fit("GRADE ~ GPA + TUCE", spector, "logit"))


# ---- 4. raw exceptions turned into refusals ----------------------------------------------


def _log_of_outcome_minus_mean(y, mu):
    # not finite wherever y <= mu: at the start (mu = 0) for the rows with y <= 0
    return anp.log(y - mu) - (y - mu)


def test_a_non_finite_start_from_the_data_names_the_rows():
    df = pd.DataFrame({"x": np.arange(6.0), "y": [1.0, 2, -1, 3, 0.0, 2]},
                      index=list("abcdef"))
    family = fk.Family(_log_of_outcome_minus_mean, mu=fk.Predictor())
    with pytest.raises(fk.DataError, match=r"not finite at the default starting values "
                                           r"\(Intercept=0, x=0\).*2 row\(s\), the first "
                                           r"labelled 'c', 'e'.*start="):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fk.fit("y ~ x", df, family)


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_a_non_finite_start_given_is_refused_naming_it(method):
    df = pd.DataFrame({"x": np.arange(6.0), "y": [1.0, 2, 1, 3, 1, 2]})
    with pytest.raises(fk.SpecificationError, match=r"given starting values \(Intercept=0, x=0, "
                                                    r"log\(sigma\)=-10000\).*start="):
        fk.fit("y ~ x", df, "normal", start=[0.0, 0.0, -1e4], method=method)


@pytest.mark.parametrize("options, match", [
    ({"n": 0}, "'n' of plan must be a positive whole number"),
    ({"n": 2.5}, "'n' of plan must be a positive whole number"),
    ({"se": -1}, "'se' of plan must be a positive number .*got -1"),
    ({"se": {"GPA": 0.0}}, r"'se' of plan .*\{'GPA': 0.0\}"),
    ({"se": {"gpa": 0.1}}, r"unknown parameter\(s\) \['gpa'\]"),
])
def test_plan_refuses_bad_options(options, match):
    res = fk.fit("GRADE ~ GPA", fk.datasets.load("spector"), "logit")
    with pytest.raises(fk.SpecificationError, match=match):
        res.plan(**options)


def test_summary_and_information_refuse_bad_options():
    res = fk.fit("GRADE ~ GPA", fk.datasets.load("spector"), "logit")
    with pytest.raises(fk.SpecificationError, match="'alpha' must lie in"):
        res.summary(alpha=0)
    with pytest.raises(fk.SpecificationError, match="'scale' must be 'natural' or 'working'"):
        res.information(scale="foo")


def exponential(p, data):
    return anp.log(p["rate"]) - p["rate"] * data["t"]


def test_a_user_likelihood_refuses_marginal_effects_and_takes_the_im_test():
    t = np.random.default_rng(12).exponential(size=60)
    res = fk.fit_likelihood(fk.Likelihood(exponential, {"t": t},
                                          params={"rate": fk.Scalar("positive")}))
    with pytest.raises(fk.SpecificationError, match="no mean response.*res.delta"):
        res.marginal_effects()
    test = res.information_matrix_test()
    assert test["df"] == 1 and 0.0 <= test["p_value"] <= 1.0


def test_cut_points_in_a_user_family_are_refused_at_construction():
    def flat(y, mu, cuts):
        return 0.0 * y

    with pytest.raises(fk.SpecificationError, match="'cuts' is declared fk.CutPoints.*"
                                                    "family='ordinal'"):
        fk.Family(flat, mu=fk.Predictor(), cuts=fk.CutPoints())
