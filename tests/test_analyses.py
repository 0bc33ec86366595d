"""fisherkit.analyses: the analyses of a fit as methods, each reading only the result's public
attributes, checked against closed forms through the methods."""

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from scipy import special

import fisherkit as fk
from fisherkit.analyses import Analyses

SPECTOR = "GRADE ~ GPA + TUCE + PSI"


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.fixture(scope="module")
def logit(spector):
    return fk.fit(SPECTOR, data=spector, family="logit")


class PublicOnly(Analyses):
    """A stand-in result offering a fit's public attributes only: an analysis that reads a
    private one fails on it."""

    __slots__ = ("_result",)

    def __init__(self, result):
        object.__setattr__(self, "_result", result)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"an analysis read the private attribute {name!r}")
        return getattr(self._result, name)


CALLS = {
    "information_matrix_test": lambda r: r.information_matrix_test(),
    "curvature": lambda r: r.curvature().eigenvalues,
    "plan": lambda r: r.plan(n=100),
    "delta": lambda r: r.delta(lambda p: anp.exp(p["GPA"]), name="odds_ratio"),
    "reparameterize": lambda r: r.reparameterize(
        lambda p: [p["Intercept"], p["GPA"] + p["TUCE"], p["TUCE"], p["PSI"]],
        names=["Intercept", "GPA_plus_TUCE", "TUCE", "PSI"]).summary(),
    "marginal_effects": lambda r: r.marginal_effects(),
    "jeffreys": lambda r: r.jeffreys(),
    "summary_scales": lambda r: r.summary_scales(),
    "wald_test": lambda r: r.wald_test("GPA = TUCE"),
    "profile": lambda r: r.profile("PSI", n_points=3),
    "profile_ci": lambda r: r.profile_ci("GPA"),
    "predict": lambda r: r.predict(average=True),
    "residuals": lambda r: r.residuals("deviance"),
    "random_effects": lambda r: refusal(r.random_effects),
}


def refusal(call):
    """The message of the refusal of ``call`` (a fit without random effects refuses
    random_effects())."""
    with pytest.raises(fk.SpecificationError) as info:
        call()
    return str(info.value)


def test_every_method_is_listed_here():
    methods = {name for name in vars(Analyses) if not name.startswith("_")}
    assert methods == set(CALLS)
    assert issubclass(fk.FitResult, Analyses) and Analyses.__slots__ == ()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_analysis_reads_only_public_attributes(logit, name):
    got, expected = CALLS[name](PublicOnly(logit)), CALLS[name](logit)
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected)
    elif isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(got, expected)
    else:
        assert got == expected


def test_delta_of_an_odds_ratio_is_the_chain_rule(logit):
    # exp(b) with standard error exp(b) se(b); the Wald interval is exp(b) -+ z exp(b) se(b)
    table = logit.delta(lambda p: anp.exp(p["GPA"]), name="odds_ratio")
    b, se = logit.params["GPA"], logit.se["GPA"]
    assert table.loc["odds_ratio", "estimate"] == pytest.approx(np.exp(b), rel=1e-14)
    assert table.loc["odds_ratio", "se"] == pytest.approx(np.exp(b) * se, rel=1e-12)
    z = special.ndtri(0.975)
    assert table.loc["odds_ratio", "ci_lower"] == pytest.approx(np.exp(b) * (1 - z * se), rel=1e-12)


def test_average_marginal_effects_of_a_logit_are_its_closed_form(logit, spector):
    # d p / d x_j = p (1 - p) b_j, averaged over the rows
    X = np.column_stack([np.ones(len(spector)), spector[["GPA", "TUCE", "PSI"]]])
    b = logit.params.to_numpy()
    p = special.expit(X @ b)
    effects = logit.marginal_effects()
    np.testing.assert_allclose(effects.loc[["GPA", "TUCE", "PSI"], "estimate"],
                               np.mean(p * (1 - p)) * b[1:], rtol=1e-12)


def test_jeffreys_of_an_intercept_only_poisson_is_half_the_log_of_n_times_the_mean(spector):
    # I(b) = n e^b, and e^b = the mean count at the estimate: log sqrt(n ybar) = log sqrt(11)
    res = fk.fit("GRADE ~ 1", data=spector, family="poisson")
    assert res.jeffreys() == pytest.approx(0.5 * np.log(spector["GRADE"].sum()), rel=1e-12)
