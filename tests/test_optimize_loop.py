"""The one loop: every method runs it, in the order of evaluations each method has always had."""

import ast
import inspect
import pathlib

import autograd.numpy as anp
import numpy as np
import pytest

import fisherkit as fk
import fisherkit.optimize.optimizers as optimizers
from fisherkit.optimize import FisherScoring, Gradient, NaturalGradient, Newton
from fisherkit.optimize.directions import GradientDirection, NewtonDirection
from fisherkit.optimize.loop import FullData, iterate
from fisherkit.optimize.steps import Backtracking, FullStepFirst
from fisherkit.optimize.stopping import AbsoluteDecrement, RelativeDecrement
from fisherkit.optimize.trace import TRACE_COLUMNS

SPECTOR = "GRADE ~ GPA + TUCE + PSI"


class Recording:
    """A model that logs what an optimizer asks of it and forwards everything else."""

    def __init__(self, model, calls=None):
        self.model, self.calls = model, [] if calls is None else calls

    def __getattr__(self, name):
        return getattr(self.model, name)

    def derivatives(self, theta, second=True):
        self.calls.append("hessian" if second else "score")
        return self.model.derivatives(theta, second)

    def loglik(self, theta):
        self.calls.append("loglik")
        return self.model.loglik(theta)

    def expected_information(self, theta, **options):
        self.calls.append("expected")
        return self.model.expected_information(theta, **options)

    def opg(self, theta):
        self.calls.append("opg")
        return self.model.opg(theta)

    def subset(self, rows):
        self.calls.append(f"subset {len(rows)}")
        return Recording(self.model.subset(rows), self.calls)


@pytest.fixture(scope="module")
def model():
    return fk.fit(SPECTOR, data=fk.datasets.load("spector"), family="logit").model


def test_every_method_runs_the_one_loop(model, monkeypatch):
    runs = []

    def spy(*args, **kwargs):
        runs.append(kwargs["source"] if "source" in kwargs else None)
        return iterate(*args, **kwargs)

    monkeypatch.setattr(optimizers, "iterate", spy)
    for opt in (Newton(), FisherScoring(), NaturalGradient(), NaturalGradient(fisher="empirical"),
                NaturalGradient(fisher=lambda theta: np.eye(4)), Gradient(),
                Gradient(learning_rate=1e-3), NaturalGradient(batch_size=8),
                Gradient(batch_size=8, learning_rate=1e-3)):
        opt.run(model, model.start_values(), maxiter=3, tol=1e-10)
    assert len(runs) == 9
    assert [type(s).__name__ for s in runs[-2:]] == ["MiniBatches", "MiniBatches"]


def test_only_the_loop_iterates_up_to_maxiter():
    package = pathlib.Path(inspect.getfile(optimizers)).parent
    loops = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.For) and "maxiter" in ast.unparse(node.iter):
                loops.append(path.name)
    assert loops == ["loop.py"]


def test_newton_makes_one_pass_per_iteration(model):
    recording = Recording(model)
    res = Newton().run(recording, model.start_values(), maxiter=100, tol=1e-10)
    assert res.converged and (res.trace["step_size"].iloc[1:] == 1.0).all()
    # the start, then each full step's derivatives, kept for the next direction
    assert recording.calls == ["hessian"] * len(res.trace)


def test_fisher_scoring_tries_the_unit_step_on_the_log_likelihood_first(model):
    recording = Recording(model)
    res = FisherScoring().run(recording, model.start_values(), maxiter=100, tol=1e-10)
    steps = len(res.trace) - 2  # the start and the final step at convergence
    assert recording.calls == (["score"] + ["expected", "loglik", "score"] * steps
                               + ["expected", "score"])


def test_the_natural_gradient_on_mini_batches_evaluates_batches_and_records_full_data(model):
    recording = Recording(model)
    NaturalGradient(batch_size=16, learning_rate=0.2, record_every=2).run(
        recording, model.start_values(), maxiter=4, tol=1e-10)
    batch = ["subset 16", "score", "expected"]
    full = ["score", "expected"]  # the trace row, then the full-data decrement
    assert recording.calls == ["score"] + (batch * 2 + full) * 2


def test_the_loop_takes_its_pieces_as_arguments(model):
    res = iterate(model, model.start_values(), direction=NewtonDirection(), step=FullStepFirst(),
                  stop=RelativeDecrement(), maxiter=100, tol=1e-10, source=FullData())
    assert res.converged and res.hessian is not None
    assert list(res.trace.columns) == TRACE_COLUMNS and res.path.shape == (len(res.trace), 4)
    # the same pieces rearranged: gradient directions, Newton's stopping rule
    other = iterate(model, model.start_values(), direction=GradientDirection(),
                    step=Backtracking(), stop=RelativeDecrement(), maxiter=5, tol=1e-10)
    assert not other.converged and other.hessian is None
    assert other.message == "maximum number of iterations reached"


def test_a_step_that_cannot_increase_the_log_likelihood_ends_the_run():
    # a likelihood finite only at its start: every trial step leaves its domain
    lik = fk.Likelihood(lambda p, d: anp.where(p["m"] == 1.0, -p["m"] * d["y"] * 1e6, -np.inf),
                        {"y": np.ones(3)}, params={"m": 1.0})
    res = iterate(lik, lik.start_values(), direction=GradientDirection(), step=Backtracking(),
                  stop=AbsoluteDecrement("gradient", None), maxiter=10, tol=1e-10)
    assert res.message == "line search failed to increase the log-likelihood"
    assert res.n_iter == 1 and res.trace["step_size"].tolist()[1:] == [0.0]
    np.testing.assert_array_equal(res.theta, lik.start_values())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_start_outside_the_domain_is_refused(model):
    with pytest.raises(FloatingPointError, match="not finite at the starting values"):
        iterate(model, np.array([np.inf, 0.0, 0.0, 0.0]), direction=GradientDirection(),
                step=Backtracking(), stop=AbsoluteDecrement("gradient", None), maxiter=5,
                tol=1e-10)
