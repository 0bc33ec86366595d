"""fisherkit.models.parameters: parameter declarations and their constraints."""

import pytest

import fisherkit as fk


def test_array_constraint_error():
    with pytest.raises(fk.SpecificationError, match="Unknown constraint 'simplex'"):
        fk.Array([0.5, 0.5], "simplex")
