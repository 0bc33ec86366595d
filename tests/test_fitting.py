"""fisherkit.fitting: fit, fit_likelihood and fit_model, the settings they check and the one
core they share."""

import numpy as np
import pytest

import fisherkit as fk


def _ok(p, d):
    return -(d - p["m"]) ** 2


Y = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="adam"), "Unknown method 'adam'"),
    (dict(cov="robust"), "Unknown cov 'robust'"),
    (dict(maxiter=0), "'maxiter' must be a positive integer"),
    (dict(tol=-1.0), "'tol' must be a positive number"),
    (dict(start=[0.0, 1.0]), r"'start' must have 1 values \(m\)"),
])
def test_fit_errors(kwargs, match):
    with pytest.raises(fk.SpecificationError, match=match):
        fk.fit_likelihood(fk.Likelihood(_ok, Y, params={"m": 0.0}), **kwargs)


def test_fit_needs_a_likelihood():
    with pytest.raises(fk.SpecificationError, match="takes a fk.Likelihood"):
        fk.fit_likelihood(_ok)
