"""The model protocol (fisherkit/models/protocol.py): every kind of model offers it, and the
behaviour that differs between models or families lives in them, not in their callers."""

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import fisherkit as fk
from fisherkit.building import build_model
from fisherkit.models.builtins import make_family
from fisherkit.models.divergence import kl_divergence
from fisherkit.models.protocol import LikelihoodModel

dd = pytest.importorskip("dask.dataframe")


def logit_loglik(p, data):
    eta = p["Intercept"] + p["GPA"] * data["GPA"] + p["PSI"] * data["PSI"]
    return data["GRADE"] * eta - anp.logaddexp(0.0, eta)


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.fixture(scope="module")
def logit_pair(spector):
    """The same logit as an index model and as a user's Likelihood."""
    index = fk.fit("GRADE ~ GPA + PSI", spector, "logit")
    lik = fk.Likelihood(logit_loglik, spector[["GRADE", "GPA", "PSI"]],
                        params={"Intercept": 0.0, "GPA": 0.0, "PSI": 0.0})
    return index, fk.fit_likelihood(lik)


def test_every_kind_of_model_offers_the_protocol(spector, logit_pair):
    index, general = logit_pair
    dask_model = build_model("GRADE ~ GPA + PSI", dd.from_pandas(spector, npartitions=2), "logit")
    for model in (index.model, general.model, dask_model):
        assert isinstance(model, LikelihoodModel)
    assert not isinstance(spector, LikelihoodModel)
    assert (index.model.label, general.model.label, dask_model.label) == ("logit", "logit_loglik",
                                                                         "logit")


def test_natural_and_working_values_round_trip():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200)})
    df["y"] = pd.Categorical(rng.integers(0, 4, 200), ordered=True)
    ordinal = fk.fit("y ~ x", df, "ordinal").model
    theta = np.array([0.3, -1.0, np.log(0.5), np.log(2.0)])
    np.testing.assert_allclose(ordinal.to_working(ordinal.to_natural(theta)), theta, rtol=1e-14)
    # cut points: the first, then each previous one plus its exp(gap), increasing
    np.testing.assert_allclose(np.asarray(ordinal.to_natural(theta))[1:], [-1.0, -0.5, 1.5],
                               rtol=1e-14)
    assert [ordinal.own_coordinate(i) for i in range(4)] == [True, False, False, False]
    assert [ordinal.can_be_zero(i) for i in range(4)] == [True, False, False, False]

    lik = fk.Likelihood(lambda p, d: -(d - p["m"][0]) ** 2 * p["s"] + p["u"], np.zeros(3),
                        params={"m": fk.Array([0.0, 1.0]), "s": fk.Scalar("positive"),
                                "u": fk.Scalar("unit_interval")})
    natural = np.array([2.0, -1.0, 3.0, 0.25])
    working = lik.to_working(natural)
    np.testing.assert_allclose(working, [2.0, -1.0, np.log(3.0), np.log(0.25 / 0.75)], rtol=1e-14)
    np.testing.assert_allclose(lik.to_natural(working), natural, rtol=1e-14)
    assert [lik.can_be_zero(i) for i in range(4)] == [True, True, False, False]
    assert all(lik.own_coordinate(i) for i in range(4))


def test_separation_is_the_binary_familys_own_check():
    x = np.linspace(-1.0, 1.0, 40)
    df = pd.DataFrame({"x": x, "y": (x > 0).astype(float), "count": np.arange(40.0) % 3})
    with pytest.warns(fk.SeparationWarning, match="observations are fitted with probability"), \
            pytest.warns(fk.ConvergenceWarning, match="did not converge"):
        res = fk.fit("y ~ x", df, "logit", maxiter=30)
    assert "separation" in res.flags
    # every row is fitted within 1e-8 of its outcome at the end of a perfect separation
    mu = stats.logistic.cdf(res.params["Intercept"] + res.params["x"] * x)
    independent = int(np.sum(np.where(df["y"] == 1, mu > 1 - 1e-8, mu < 1e-8)))
    assert res.model.count_separated(res.theta) == independent > 0
    poisson = fk.fit("count ~ x", df, "poisson")
    assert poisson.model.post_fit_checks(poisson.theta) == []
    assert fk.Family.count_separated(make_family("poisson"), df["y"].to_numpy(), x, {}) == 0


def test_information_matrix_test_is_the_same_for_a_users_likelihood(logit_pair):
    index, general = logit_pair
    np.testing.assert_allclose(general.params.to_numpy(), index.params.to_numpy(), rtol=1e-7)
    a, b = index.information_matrix_test(), general.information_matrix_test()
    # the indicators are the same functions of the same estimate: only the optimizers'
    # last digits differ
    assert a["df"] == b["df"] == 5
    np.testing.assert_allclose(b["statistic"], a["statistic"], rtol=1e-6)
    # the per-observation second derivatives by forward over forward mode, against the
    # logit's closed form -mu (1 - mu) x_a x_b
    model, theta = general.model, general.theta
    X = np.column_stack([np.ones(model.n_obs), model.data.values["GPA"], model.data.values["PSI"]])
    mu = stats.logistic.cdf(X @ theta)
    H = model.observation_hessian(theta, [(0, 0), (1, 2)])
    np.testing.assert_allclose(H[:, 0], -mu * (1 - mu), rtol=1e-12)
    np.testing.assert_allclose(H[:, 1], -mu * (1 - mu) * X[:, 1] * X[:, 2], rtol=1e-12)


def test_a_likelihood_refuses_what_it_cannot_give(logit_pair, spector):
    general = logit_pair[1]
    with pytest.raises(fk.SpecificationError, match="not available for the likelihood 'logit_loglik'"):
        general.marginal_effects()
    with pytest.raises(fk.SpecificationError, match="by Monte Carlo only"):
        general.model.expected_information(general.theta, method="closed")
    with pytest.raises(fk.SpecificationError, match="sample="):
        general.model.expected_information(general.theta)
    with pytest.raises(fk.SpecificationError, match="takes a restricted fit of fk.fit"):
        fk.score_test(general, "GRADE ~ GPA + PSI + TUCE", data=spector)
    with pytest.raises(fk.SpecificationError, match="index model fitted in memory"):
        general.model.subset(np.arange(5))
    assert np.isnan(general.model.step_divergence(np.zeros((3, 3)))).all()


def test_a_likelihood_counts_its_passes(logit_pair):
    trace = logit_pair[1].trace
    assert trace["passes"].iloc[0] >= 1
    assert (np.diff(trace["passes"]) >= 1).all()


def test_step_divergence_of_an_index_model_is_the_kl_of_each_step(logit_pair):
    index = logit_pair[0]
    path = index.optimize_result.path
    kl = index.model.step_divergence(path)
    assert np.isnan(kl[0])
    expected = [kl_divergence(index.model, path[i - 1], path[i]) for i in range(1, len(path))]
    np.testing.assert_allclose(kl[1:], expected, rtol=1e-12)
    # closed form for the Bernoulli: sum p_a log(p_a / p_b) + (1 - p_a) log((1 - p_a) / (1 - p_b))
    X = np.column_stack([np.ones(index.n_obs), index.model.data.designs["mu"][:, 1:]])
    p_a, p_b = stats.logistic.cdf(X @ path[0]), stats.logistic.cdf(X @ path[1])
    closed = np.sum(p_a * np.log(p_a / p_b) + (1 - p_a) * np.log((1 - p_a) / (1 - p_b)))
    np.testing.assert_allclose(kl[1], closed, rtol=1e-10)
