"""fisherkit.validation: the checks of a user's options, each refusal in one form."""

import pytest

import fisherkit as fk
from fisherkit.validation import check_choice


def test_one_message_form_for_a_refused_choice():
    with pytest.raises(fk.SpecificationError,
                       match=r"^The 'missing' option must be 'drop' or 'raise'; got 'omit'\.$"):
        check_choice("missing", "omit", ("drop", "raise"))
    with pytest.raises(fk.SpecificationError, match=r"must be one of 'a', 'b' or 'c'; got \['a'\]"):
        check_choice("kind", ["a"], ("a", "b", "c"))
