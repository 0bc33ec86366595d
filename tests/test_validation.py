"""fisherkit.validation: the checks of a user's options, each refusal in one form."""

import pytest

import fisherkit as fk
from fisherkit.validation import MISSING, check_alpha, check_choice, spoken_list


def test_spoken_list_reads_as_a_sentence():
    assert spoken_list([]) == ""
    assert spoken_list(["drop"]) == "'drop'"
    assert spoken_list(["drop", "raise"]) == "'drop' or 'raise'"
    assert spoken_list(["a", "b", "c"], conjunction="and") == "'a', 'b' and 'c'"
    assert spoken_list((1, 2.5)) == "1 or 2.5"


def test_an_accepted_choice_passes_silently():
    for value in MISSING:
        assert check_choice("missing", value, MISSING) is None
    assert MISSING == ("drop", "raise")


@pytest.mark.parametrize("value, shown", [(None, "None"), (1, "1"), ("Drop", "'Drop'"),
                                          (("drop",), r"\('drop',\)")])
def test_only_the_strings_offered_are_accepted(value, shown):
    # not a near miss in case, not a container holding a choice, not a number
    with pytest.raises(fk.SpecificationError,
                       match=f"^The 'missing' option must be 'drop' or 'raise'; got {shown}\\.$"):
        check_choice("missing", value, MISSING)


def test_one_message_form_for_a_refused_choice():
    with pytest.raises(fk.SpecificationError,
                       match=r"^The 'missing' option must be 'drop' or 'raise'; got 'omit'\.$"):
        check_choice("missing", "omit", ("drop", "raise"))
    with pytest.raises(fk.SpecificationError, match=r"must be one of 'a', 'b' or 'c'; got \['a'\]"):
        check_choice("kind", ["a"], ("a", "b", "c"))


@pytest.mark.parametrize("alpha", ["0.05", True, None, [0.05], float("nan"), 0, 1, -0.1])
def test_check_alpha_refuses_what_is_not_a_level(alpha):
    with pytest.raises(fk.SpecificationError, match=r"'alpha' must lie in \(0, 1\)"):
        check_alpha(alpha)


@pytest.mark.parametrize("call", ["summary", "conf_int", "predict", "delta", "marginal_effects"])
def test_alpha_given_as_text_is_refused_by_name(call):
    # a string alpha used to reach "0 < alpha" and raise a bare TypeError
    res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    calls = {"summary": lambda: res.summary(alpha="0.05"),
             "conf_int": lambda: res.conf_int(alpha="0.05"),
             "predict": lambda: res.predict(alpha="0.05"),
             "delta": lambda: res.delta(lambda p: p["GPA"], alpha="0.05"),
             "marginal_effects": lambda: res.marginal_effects(alpha="0.05")}
    with pytest.raises(fk.SpecificationError, match=r"'alpha' must lie in \(0, 1\); got '0.05'"):
        calls[call]()
