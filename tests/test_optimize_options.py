"""Declared constraints of optimizer settings: what each allows, and the one message form."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fisherkit as fk
from fisherkit.optimize.options import (
    BATCH_FISHER,
    FISHER,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INTEGER,
    POSITIVE_STEPS,
    SEED,
    Constraint,
    check_settings,
    optional,
)

#: values no numeric setting takes
NOT_NUMBERS = st.one_of(st.booleans(), st.text(max_size=5), st.just([1.0]), st.just(np.bool_(True)))


@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=1e-300),
                 st.integers(min_value=1, max_value=10**6), st.just(Fraction(1, 3)),
                 st.just(np.float32(0.5)), st.just(np.int64(3))))
@settings(max_examples=40, deadline=None)
def test_positive_takes_positive_finite_numbers(value):
    assert POSITIVE(value) and NON_NEGATIVE(value) and POSITIVE_STEPS(value)


@given(st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf), NOT_NUMBERS,
                 st.none(), st.just(10**400)))
@settings(max_examples=40, deadline=None)
def test_positive_refuses_the_rest(value):
    assert not POSITIVE(value)


def test_non_negative_takes_zero_and_steps_take_infinity():
    assert NON_NEGATIVE(0) and NON_NEGATIVE(0.0) and not POSITIVE(0.0)
    assert POSITIVE_STEPS(math.inf) and not POSITIVE_STEPS(math.nan)
    assert not NON_NEGATIVE(-1e-300) and not NON_NEGATIVE(math.inf)


@given(st.one_of(st.integers(max_value=0), st.floats(), NOT_NUMBERS, st.just(np.float64(2.0))))
@settings(max_examples=40, deadline=None)
def test_positive_integer_refuses_non_integers_and_non_positives(value):
    assert not POSITIVE_INTEGER(value)


def test_positive_integer_takes_numpy_integers_and_optional_takes_none():
    assert POSITIVE_INTEGER(np.int32(5)) and POSITIVE_INTEGER(1)
    assert optional(POSITIVE_INTEGER)(None) and not POSITIVE_INTEGER(None)
    assert optional(POSITIVE_INTEGER).description == "a positive integer or None"


def test_seed_fisher_and_batch_fisher():
    for good in (0, 12, None, np.random.default_rng(1), np.random.SeedSequence(3)):
        assert SEED(good)
    for bad in (-1, 1.5, "0", True):
        assert not SEED(bad)
    assert FISHER("expected") and FISHER("empirical") and FISHER(lambda theta: theta)
    assert not FISHER("observed") and not FISHER(None) and not FISHER(np.eye(2))
    assert BATCH_FISHER("empirical") and not BATCH_FISHER(lambda theta: theta)


def test_check_settings_names_the_setting_its_owner_and_the_value():
    table = {"learning_rate": POSITIVE, "damping": NON_NEGATIVE}
    check_settings("natural_gradient", {"learning_rate": 1.0, "damping": 0.0}, table)
    with pytest.raises(fk.SpecificationError, match=r"^The 'learning_rate' option of "
                       r"natural_gradient must be a positive finite number; got -1\.$"):
        check_settings("natural_gradient", {"learning_rate": -1, "damping": 0.0}, table)
    # numpy scalars are shown as the numbers they are
    with pytest.raises(fk.SpecificationError, match=r"got nan\.$"):
        check_settings("x", {"learning_rate": 1.0, "damping": np.float64("nan")}, table)


def test_constraint_is_its_description():
    rule = Constraint("an even integer", lambda v: v % 2 == 0)
    assert rule(4) and not rule(3) and repr(rule) == "Constraint('an even integer')"
