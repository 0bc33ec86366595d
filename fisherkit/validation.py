"""Checks of the options a user passes, each refusal in one form.

A refused option is a :class:`fisherkit.exceptions.SpecificationError` that names the option,
says what would be accepted and repeats what was given: "The 'missing' option must be
'drop' or 'raise'; got 'omit'."
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

from .exceptions import SpecificationError

__all__ = ["check_alpha", "check_choice", "spoken_list", "MISSING"]

#: what ``missing=`` accepts everywhere: drop the rows with a missing value, or refuse them
MISSING = ("drop", "raise")


def spoken_list(choices: Sequence, conjunction: str = "or") -> str:
    """``'a', 'b' or 'c'``: the choices as a sentence reads them.

    Examples
    --------
    >>> spoken_list(["drop", "raise"])
    "'drop' or 'raise'"
    """
    shown = [repr(c) for c in choices]
    if len(shown) < 2:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} {conjunction} {shown[-1]}"


def check_choice(name: str, value, choices: Sequence) -> None:
    """Refuse ``value`` for the option ``name`` unless it is one of ``choices``.

    Examples
    --------
    >>> check_choice("missing", "drop", ("drop", "raise"))
    >>> check_choice("missing", "omit", ("drop", "raise"))
    Traceback (most recent call last):
    ...
    fisherkit.exceptions.SpecificationError: The 'missing' option must be 'drop' or 'raise'; got 'omit'.
    """
    try:
        accepted = isinstance(value, str) and value in choices
    except TypeError:
        accepted = False
    if not accepted:
        what = spoken_list(choices) if len(choices) <= 2 else f"one of {spoken_list(choices)}"
        raise SpecificationError(f"The {name!r} option must be {what}; got {value!r}.")


def check_alpha(alpha) -> None:
    """Refuse a level ``alpha`` that is not a real number strictly between 0 and 1.

    Text and booleans are refused by type before any comparison, which would otherwise
    raise a bare TypeError (``"0.05" < 1``) or accept ``True`` as a number.

    Examples
    --------
    >>> check_alpha(0.05)
    >>> check_alpha("0.05")
    Traceback (most recent call last):
    ...
    fisherkit.exceptions.SpecificationError: The 'alpha' must lie in (0, 1); got '0.05'.
    """
    if not (isinstance(alpha, Real) and not isinstance(alpha, bool) and math.isfinite(alpha)
            and 0.0 < alpha < 1.0):
        raise SpecificationError(f"The 'alpha' must lie in (0, 1); got {alpha!r}.")
