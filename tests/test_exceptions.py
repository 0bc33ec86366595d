"""fisherkit.exceptions: one family of warnings users can filter, errors that are ValueErrors,
and warnings that point at the user's line."""

import warnings
from pathlib import Path

import pytest

import fisherkit as fk
from fisherkit import exceptions
from fisherkit.exceptions import user_stacklevel

WARNINGS = ["ConvergenceWarning", "SingularInformationWarning", "SeparationWarning",
            "SaddlePointWarning", "BoundaryWarning"]


def test_every_warning_is_a_fisherkit_warning_and_every_error_a_value_error():
    assert set(exceptions.__all__) == {"FisherkitWarning", "DataError", "SpecificationError",
                                       *WARNINGS}
    assert issubclass(fk.FisherkitWarning, UserWarning)
    for name in WARNINGS:
        assert issubclass(getattr(fk, name), fk.FisherkitWarning)
    for error in (fk.DataError, fk.SpecificationError):
        assert issubclass(error, ValueError)
    assert not issubclass(fk.DataError, fk.SpecificationError)
    assert not issubclass(fk.SpecificationError, fk.DataError)
    # the warnings of other modules are ours too
    assert issubclass(fk.NestingWarning, fk.FisherkitWarning)


def test_one_filter_turns_every_fisherkit_warning_into_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FisherkitWarning)
        with pytest.raises(fk.ConvergenceWarning, match="did not converge"):
            fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit", maxiter=1)


def frames_in(filename: str, inner):
    """A function whose frame reports ``filename`` as its source, calling ``inner``."""
    namespace = {"inner": inner}
    exec(compile("def outer():\n    return inner()\n", filename, "exec"), namespace)
    return namespace["outer"]


def test_the_stacklevel_skips_the_frames_of_the_package_and_of_functools():
    # called from here (outside fisherkit), the first frame outside is the caller itself
    assert user_stacklevel() == 1
    inside = str(Path(exceptions.__file__).parent / "models" / "somewhere.py")
    # one frame inside the package between here and the call: the warning goes two up
    assert frames_in(inside, user_stacklevel)() == 2
    # two inside, and one of functools (which runs cached properties) between them
    nested = frames_in(inside, frames_in("/usr/lib/python3/functools.py",
                                         frames_in(inside, user_stacklevel)))
    assert nested() == 4
