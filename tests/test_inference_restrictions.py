"""fisherkit.inference.restrictions: the parser of linear restrictions and its refusals, each
naming what is wrong."""

import numpy as np
import pytest

import fisherkit as fk
from fisherkit.inference.restrictions import restriction_matrix

FULL = "GRADE ~ GPA + TUCE + PSI"


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.fixture(scope="module")
def logit(spector):
    return fk.fit(FULL, data=spector, family="logit")


@pytest.mark.parametrize("text, message", [
    ("GPA = HEIGHT", r"'HEIGHT' is not a parameter"),
    ("GPA * TUCE = 0", "not linear"),
    ("GPA / 0 = 1", "non-zero number"),
    ("GPA = TUCE = PSI", "more than one '='"),
    ("GPA = 1, 2*GPA = 2", "linearly dependent"),
    ("3 = 3", "involves no parameter"),
    ("(GPA + 1 = 0", r"missing '\)'"),
    ("GPA +", "ends early"),
])
def test_bad_restrictions_are_named(logit, text, message):
    with pytest.raises(fk.SpecificationError, match=message):
        logit.wald_test(text)


def test_bad_restriction_containers(logit):
    with pytest.raises(fk.SpecificationError, match=r"Unknown parameter\(s\) \['height'\]"):
        logit.wald_test({"height": 0})
    with pytest.raises(fk.SpecificationError, match=r"R must have 4 columns \(Intercept, GPA"):
        logit.wald_test((np.eye(2), [0, 0]))
    with pytest.raises(fk.SpecificationError, match="Give restrictions"):
        logit.wald_test(3.0)


def test_parser_reads_formula_names_longest_first():
    names = ["Intercept", "x1", "x10", "C(g)[T.b]", "np.log(z)"]
    R, r, labels = restriction_matrix("x10 - x1 = 0.5; 2 * C(g)[T.b] + np.log(z) / 4 = -1e-1",
                                      names)
    np.testing.assert_array_equal(R, [[0, -1, 1, 0, 0], [0, 0, 0, 2, 0.25]])
    np.testing.assert_array_equal(r, [0.5, -0.1])
    assert labels == ["x10 - x1 = 0.5", "2 * C(g)[T.b] + np.log(z) / 4 = -1e-1"]
    R, r, _ = restriction_matrix("-(x1 - 2*(x10 + 1)) = 3", names)
    np.testing.assert_array_equal(R, [[0, -1, 2, 0, 0]])
    np.testing.assert_array_equal(r, [1.0])
