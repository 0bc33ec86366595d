"""fisherkit.models.parameters: parameter declarations, the maps between the working and the
natural scale (by reparameterization, never clipping), and the refusals of bad declarations."""

import numpy as np
import pytest
from scipy import special

import fisherkit as fk
from fisherkit.models.parameters import (
    CONSTRAINTS,
    CutPoints,
    Predictor,
    Scalar,
    check_start_value,
    declare,
    element_names,
)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# ---- constraints --------------------------------------------------------------------------

def test_each_constraint_maps_the_whole_line_onto_its_set(rng):
    w = np.concatenate([rng.uniform(-30.0, 30.0, 200), [-700.0, 0.0, 700.0]])
    np.testing.assert_array_equal(CONSTRAINTS["real"].to_natural(w), w)
    np.testing.assert_allclose(CONSTRAINTS["positive"].to_natural(w), np.exp(w), rtol=1e-15)
    # the logistic function, from scipy, to a few ulp also where it is near 0 or 1
    np.testing.assert_allclose(CONSTRAINTS["unit_interval"].to_natural(w), special.expit(w),
                               rtol=1e-14)
    assert np.all(CONSTRAINTS["positive"].to_natural(w[np.abs(w) < 700]) > 0)
    inside = CONSTRAINTS["unit_interval"].to_natural(w[np.abs(w) < 30])
    assert np.all((inside > 0) & (inside < 1))


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constraints_round_trip(rng, name):
    constraint = CONSTRAINTS[name]
    # |w| <= 15 keeps 1 - v well away from rounding for the unit interval
    w = rng.uniform(-15.0, 15.0, 200)
    np.testing.assert_allclose(constraint.to_working(np.asarray(constraint.to_natural(w))), w,
                               rtol=1e-9, atol=1e-12)
    v = {"real": rng.normal(size=50), "positive": rng.exponential(size=50),
         "unit_interval": rng.uniform(0.01, 0.99, 50)}[name]
    np.testing.assert_allclose(constraint.to_natural(constraint.to_working(v)), v, rtol=1e-14)


def test_scalar_maps_and_labels_its_working_scale():
    assert Scalar("positive").to_natural(np.log(2.5)) == pytest.approx(2.5, rel=1e-15)
    assert Scalar("unit_interval").to_working(0.25) == pytest.approx(np.log(1 / 3), rel=1e-15)
    assert [Scalar(c).working_label("p") for c in ("real", "positive", "unit_interval")] == [
        "p", "log(p)", "logit(p)"]


# ---- cut points ---------------------------------------------------------------------------

def test_cut_points_from_any_working_vector_increase(rng):
    for _ in range(20):
        w = rng.uniform(-20.0, 5.0, rng.integers(1, 8))
        cuts = np.asarray(CutPoints().to_natural(w))
        assert cuts[0] == w[0] and np.all(np.diff(cuts) > 0)
        # the gaps are exp of the working values after the first, to the rounding of the
        # running sum (a few ulp of the largest cut point)
        np.testing.assert_allclose(np.diff(cuts), np.exp(w[1:]), rtol=1e-14,
                                   atol=len(w) * 4e-16 * np.abs(cuts).max())


def test_cut_points_round_trip_and_per_observation_columns(rng):
    cuts = np.array([-1.5, -0.2, 0.4, 2.0])
    w = CutPoints.to_working(cuts)
    np.testing.assert_allclose(w, [-1.5, np.log(1.3), np.log(0.6), np.log(1.6)], rtol=1e-15)
    np.testing.assert_allclose(CutPoints().to_natural(w), cuts, rtol=1e-15)
    # a list of per-observation working columns gives a list of natural columns, row by row
    columns = [rng.normal(size=5) for _ in range(3)]
    natural = CutPoints().to_natural(columns)
    assert isinstance(natural, list) and len(natural) == 3
    for i in range(5):
        row = np.asarray(CutPoints().to_natural(np.array([c[i] for c in columns])))
        np.testing.assert_allclose([c[i] for c in natural], row, rtol=1e-15)


# ---- declarations -------------------------------------------------------------------------

def test_declare_gives_shape_constraint_and_natural_start():
    shape, constraint, start = declare("s", Scalar("positive"))
    assert (shape, constraint, float(start)) == ((), "positive", 1.0)
    assert float(declare("p", Scalar("unit_interval"))[2]) == 0.5
    assert float(declare("m", Scalar(start=3.0))[2]) == 3.0
    shape, constraint, start = declare("w", fk.Array(np.ones((2, 3)), "positive"))
    assert (shape, constraint) == ((2, 3), "positive") and start.shape == (2, 3)
    shape, constraint, start = declare("b", [0.5, -1.0])
    assert (shape, constraint) == ((2,), "real")
    np.testing.assert_array_equal(start, [0.5, -1.0])
    with pytest.raises(fk.SpecificationError,
                       match="The parameter 'b' must be a number, an array of starting values, "
                             "fk.Scalar or fk.Array; got bool"):
        declare("b", True)


def test_element_names():
    assert element_names("sigma", ()) == ["sigma"]
    assert element_names("mu", (2,)) == ["mu[0]", "mu[1]"]
    assert element_names("w", (2, 2)) == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]"]


@pytest.mark.parametrize("constraint, value, shown", [
    ("positive", [1.0, -1.0], r"\[1\.0, -1\.0\]"),
    ("positive", [0.0], r"\[0\.0\]"),
    ("unit_interval", [1.0], r"\[1\.0\]"),
    ("real", [np.nan], r"\[nan\]"),
])
def test_starting_values_outside_their_constraint_are_refused(constraint, value, shown):
    words = constraint.replace("_", " ")
    with pytest.raises(fk.SpecificationError,
                       match=f"The starting value of 'x' must be finite and {words}; got {shown}"):
        check_start_value("x", constraint, np.array(value))
    check_start_value("x", constraint, np.array([0.5]))  # inside every constraint


def test_a_predictor_names_its_link():
    assert Predictor().get_link().name == "identity"
    assert Predictor("~ x", link="log").get_link().name == "log"
    with pytest.raises(fk.SpecificationError, match="Unknown link 'logistic'"):
        Predictor(link="logistic").get_link()


def test_array_constraint_error():
    with pytest.raises(fk.SpecificationError, match="Unknown constraint 'simplex'"):
        fk.Array([0.5, 0.5], "simplex")
