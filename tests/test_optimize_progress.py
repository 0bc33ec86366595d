"""The opt-in progress display: silent unless asked, one line per trace row when asked."""

import io

import numpy as np
import pytest

import fisherkit as fk
from fisherkit.optimize.progress import ProgressLine

FORMULA = "GRADE ~ GPA + TUCE + PSI"


def test_silent_by_default(capsys):
    fk.fit(FORMULA, data=fk.datasets.load("spector"), family="logit", method="natural_gradient")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_true_writes_a_line_per_iteration_to_stderr(capsys):
    res = fk.fit(FORMULA, data=fk.datasets.load("spector"), family="logit", progress=True)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == len(res.trace)
    # each line carries its row's iteration and log-likelihood
    for line, (_, row) in zip(lines, res.trace.iterrows()):
        assert line.startswith(f"newton iter {int(row['iteration']):>4}")
        logged = float(line.split("loglik ")[1].split()[0])
        assert abs(logged - row["loglik"]) <= 1e-7 * abs(row["loglik"])


def test_a_stream_and_a_users_callback_both_receive_rows():
    stream, seen = io.StringIO(), []
    res = fk.fit(FORMULA, data=fk.datasets.load("spector"), family="logit", method="lbfgs",
                 progress=stream, options={"callback": seen.append})
    assert len(seen) == len(res.trace) == len(stream.getvalue().splitlines())
    np.testing.assert_allclose([r["loglik"] for r in seen], res.trace["loglik"], rtol=1e-15)


def test_every_thins_the_lines():
    stream = io.StringIO()
    show = ProgressLine("sgd", stream=stream, every=3)
    for i in range(7):
        show({"iteration": i, "loglik": -1.0, "grad_norm": 1.0, "step_size": np.nan,
              "passes": np.nan, "elapsed": 0.0})
    lines = stream.getvalue().splitlines()
    assert [int(line.split()[2]) for line in lines] == [0, 3, 6]
    assert "step" not in lines[0] and "passes" not in lines[0]


def test_general_likelihoods_show_progress_too():
    stream = io.StringIO()
    lik = fk.Likelihood(lambda p, d: -0.5 * (d["y"] - p["mu"]) ** 2, {"y": np.arange(5.0)},
                        params={"mu": 0.0})
    res = fk.fit_likelihood(lik, progress=stream)
    assert len(stream.getvalue().splitlines()) == len(res.trace)


@pytest.mark.parametrize("progress, message", [("yes", "'progress' must be True, False"),
                                               (3, "'progress' must be True, False")])
def test_bad_progress(progress, message):
    with pytest.raises(fk.SpecificationError, match=message):
        fk.fit(FORMULA, data=fk.datasets.load("spector"), family="logit", progress=progress)


def test_bad_every():
    with pytest.raises(fk.SpecificationError, match="'every' must be a positive integer"):
        ProgressLine(every=0)


def test_an_optimizer_object_is_labelled_by_its_name():
    stream = io.StringIO()
    fk.fit(FORMULA, data=fk.datasets.load("spector"), family="logit", progress=stream,
           method=fk.optimize.NaturalGradient(learning_rate=0.5))
    assert stream.getvalue().startswith("natural_gradient iter    0")


def test_the_callback_leaves_fits_options_before_the_optimizer_sees_them():
    from fisherkit.optimize.progress import split_callback, with_progress

    seen = []
    assert split_callback({"damping": 0.0, "callback": seen.append}) == ({"damping": 0.0},
                                                                          seen.append)
    assert split_callback(None) == ({}, None)
    assert with_progress(seen.append, False, "newton") == seen.append
    with pytest.raises(fk.SpecificationError, match="'progress' must be True, False"):
        with_progress(None, "yes", "newton")
