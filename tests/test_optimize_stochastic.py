"""Stochastic gradient and stochastic natural gradient on mini-batches; user metrics."""

import warnings

import numpy as np
import pandas as pd
import pytest

import fisherkit as fk
from fisherkit.models.expected import expected_information
from fisherkit.optimize.stochastic import _batches

FORMULA = "y ~ x1 + x2"


@pytest.fixture(scope="module")
def logit_data():
    rng = np.random.default_rng(11)
    n = 20_000
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": 3.0 * rng.normal(size=n)})
    eta = -0.3 + 0.8 * df["x1"] - 0.2 * df["x2"]
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return df


def fit_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.ConvergenceWarning)
        return fk.fit(*args, **kwargs)


def test_epochs_visit_every_row_once():
    batches = _batches(103, 10, np.random.default_rng(0))
    for _ in range(3):
        epoch = np.concatenate([next(batches) for _ in range(11)])
        assert sorted(epoch.tolist()) == list(range(103))


@pytest.mark.parametrize("method, learning_rate", [("natural_gradient", 1.0),
                                                   ("gradient", 2e-4)])
def test_stochastic_methods_settle_at_the_maximum(logit_data, method, learning_rate):
    best = fk.fit(FORMULA, data=logit_data, family="logit")
    res = fit_quietly(FORMULA, data=logit_data, family="logit", method=method, maxiter=400,
                      options={"batch_size": 1000, "learning_rate": learning_rate,
                               "decay": 20, "record_every": 20})
    # a 1/t rate averages the batches: after E = 20 epochs the iterate's error is about
    # se / sqrt(E) = 0.22 se, and the log-likelihood gap about p / (2 E) = 0.075
    assert np.max(np.abs(res.params - best.params) / best.se) < 0.6
    assert 0 <= best.loglik - res.loglik < 0.3
    trace = res.trace
    assert trace["iteration"].tolist() == list(range(0, 401, 20))
    # the trace's log-likelihood is the full data's, recomputed independently here
    np.testing.assert_allclose(trace["loglik"].iloc[-1], res.model.loglik(res.theta),
                               rtol=1e-12)


def test_passes_count_the_batches_work_only(logit_data):
    n, b = len(logit_data), 500
    sgd = fit_quietly(FORMULA, data=logit_data, family="logit", method="gradient", maxiter=80,
                      options={"batch_size": b, "learning_rate": 1e-4, "record_every": 10})
    # one derivative evaluation per batch: b / n of a pass per step
    np.testing.assert_allclose(np.diff(sgd.trace["passes"]), 10 * b / n, rtol=1e-12)
    nat = fit_quietly(FORMULA, data=logit_data, family="logit", method="natural_gradient",
                      maxiter=80, options={"batch_size": b, "record_every": 10})
    # and the batch's expected Fisher as much again
    np.testing.assert_allclose(np.diff(nat.trace["passes"]), 2 * 10 * b / n, rtol=1e-12)
    assert sgd.trace["passes"].iloc[0] == 0.0


def test_same_seed_same_path_other_seed_other_path(logit_data):
    options = {"batch_size": 700, "learning_rate": 1.0, "record_every": 5}
    a, b, c = (fit_quietly(FORMULA, data=logit_data, family="logit", method="natural_gradient",
                           maxiter=20, options={**options, "seed": s}) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.optimize_result.path, b.optimize_result.path)
    assert np.max(np.abs(a.theta - c.theta)) > 1e-6


def test_stochastic_fit_converges_on_a_loose_tolerance(logit_data):
    res = fit_quietly(FORMULA, data=logit_data, family="logit", method="natural_gradient",
                      maxiter=2000, tol=1e-2,
                      options={"batch_size": 2000, "decay": 10, "record_every": 10})
    assert res.converged and "not_converged" not in res.flags
    # the reported criterion is the full-data natural-gradient decrement, recomputed here
    info = expected_information(res.model, res.theta).matrix
    score = res.model.derivatives(res.theta, second=False)[1]
    assert score @ np.linalg.solve(info, score) <= 1e-2 * (1 + 1e-6)


def test_not_converged_warns_and_flags(logit_data):
    with pytest.warns(fk.ConvergenceWarning, match="mini-batch steps"):
        res = fk.fit(FORMULA, data=logit_data, family="logit", method="gradient", maxiter=5,
                     options={"batch_size": 100, "learning_rate": 1e-5})
    assert "not_converged" in res.flags


@pytest.mark.parametrize("options, message", [
    ({"batch_size": 0}, "'batch_size' option of natural_gradient must be a positive integer"),
    ({"batch_size": 2.5}, "'batch_size' option of natural_gradient must be a positive integer"),
    ({"batch_size": 10**9}, "exceeds the number of observations"),
    ({"batch_size": 100, "record_every": 0},
     "'record_every' option of natural_gradient must be a positive integer"),
    ({"batch_size": 100, "decay": -1.0},
     "'decay' option of natural_gradient must be a positive number"),
    ({"batch_size": 100, "fisher": "observed"},
     "'fisher' option of natural_gradient with batch_size must be 'expected' or 'empirical'"),
    ({"batch_size": 100, "learning_rate": np.inf},
     "'learning_rate' option of natural_gradient must be a positive finite number; got inf"),
])
def test_bad_stochastic_options(logit_data, options, message):
    with pytest.raises(fk.SpecificationError, match=message):
        fk.fit(FORMULA, data=logit_data, family="logit", method="natural_gradient",
               options=options)


def test_sgd_needs_a_learning_rate(logit_data):
    with pytest.raises(fk.SpecificationError, match="'learning_rate' option of gradient with "
                       "batch_size must be a positive finite number; got None"):
        fk.fit(FORMULA, data=logit_data, family="logit", method="gradient",
               options={"batch_size": 100})


def test_empirical_batch_fisher(logit_data):
    best = fk.fit(FORMULA, data=logit_data, family="logit")
    res = fit_quietly(FORMULA, data=logit_data, family="logit", method="natural_gradient",
                      maxiter=300, options={"batch_size": 2000, "fisher": "empirical",
                                            "decay": 20, "record_every": 50})
    # 30 epochs: about se / sqrt(30) = 0.18 se
    assert np.max(np.abs(res.params - best.params) / best.se) < 0.6


def test_a_user_metric_equal_to_the_expected_fisher_gives_the_same_path():
    df = fk.datasets.load("spector")
    ref = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit", method="natural_gradient")
    metric = lambda theta: expected_information(ref.model, theta).matrix  # noqa: E731
    own = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit",
                 method="natural_gradient", options={"fisher": metric})
    np.testing.assert_allclose(own.optimize_result.path, ref.optimize_result.path,
                               rtol=1e-12, atol=1e-14)
    # the identity metric is plain gradient ascent at the same fixed rate
    eye = fit_quietly("GRADE ~ GPA", data=df, family="logit", method="natural_gradient",
                      maxiter=3, options={"fisher": lambda th: np.eye(2), "damping": 0.0,
                                          "learning_rate": 0.01})
    plain = fit_quietly("GRADE ~ GPA", data=df, family="logit", method="gradient", maxiter=3,
                        options={"learning_rate": 0.01})
    np.testing.assert_allclose(eye.optimize_result.path, plain.optimize_result.path,
                               rtol=1e-12)


@pytest.mark.parametrize("metric, message", [
    (lambda th: np.eye(3), "must return a 2 x 2 matrix"),
    (lambda th: np.array([[1.0, 0.5], [0.0, 1.0]]), "not symmetric"),
    (lambda th: np.full((2, 2), np.nan), "non-finite entries"),
])
def test_bad_user_metric(metric, message):
    with pytest.raises(fk.SpecificationError, match=message):
        fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
               method="natural_gradient", options={"fisher": metric})


def test_mini_batches_need_an_in_memory_index_model():
    lik = fk.Likelihood(lambda p, d: -0.5 * (d["y"] - p["mu"]) ** 2,
                        {"y": np.arange(10.0)}, params={"mu": 0.0})
    with pytest.raises(fk.SpecificationError, match="take an index model.*got a Likelihood"):
        fk.fit_likelihood(lik, method="gradient",
                          options={"batch_size": 2, "learning_rate": 0.1})


class Rows:
    """A model that is not an index model: it forwards to one, mini-batches included."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def subset(self, rows):
        return Rows(self.model.subset(rows))


def test_mini_batches_take_any_model_with_subset(logit_data):
    res = fit_quietly(FORMULA, data=logit_data, family="logit", method="natural_gradient",
                      maxiter=20, options={"batch_size": 1000, "record_every": 5, "seed": 1})
    model = res.model
    own = fk.optimize.NaturalGradient(batch_size=1000, record_every=5, seed=1).run(
        Rows(model), model.start_values(), maxiter=20, tol=1e-10)
    np.testing.assert_array_equal(own.path, res.optimize_result.path)


def test_a_mini_batch_source_checks_its_batch_against_the_data():
    from fisherkit.optimize.stochastic import MiniBatches

    model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    source = MiniBatches(5)
    source.start(model)
    assert source.record_every == 7 and source.passes() == 0.0  # ceil(32 / 5) steps an epoch
    with pytest.raises(fk.SpecificationError, match=r"'batch_size' \(33\) exceeds the number "
                       r"of observations \(32\)"):
        MiniBatches(33).start(model)
