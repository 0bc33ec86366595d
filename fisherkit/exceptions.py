"""Warnings and errors raised by fisherkit.

Every numerical problem is reported with a warning of one of the classes below and a flag
on the result, so that users can filter them (``warnings.simplefilter("error",
fk.FisherkitWarning)``) and code can test for them (``"not_converged" in res.flags``).
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "FisherkitWarning",
    "ConvergenceWarning",
    "SingularInformationWarning",
    "SeparationWarning",
    "SaddlePointWarning",
    "BoundaryWarning",
    "DataError",
    "SpecificationError",
]


class FisherkitWarning(UserWarning):
    """Base class of every warning fisherkit emits."""


class ConvergenceWarning(FisherkitWarning):
    """The optimizer stopped before its convergence criterion was met."""


class SingularInformationWarning(FisherkitWarning):
    """The information matrix is singular or not positive definite at the estimate."""


class SeparationWarning(FisherkitWarning):
    """Perfect or quasi-complete separation in a binary or ordinal outcome model."""


class SaddlePointWarning(FisherkitWarning):
    """The stationary point reached is not a maximum of the log-likelihood."""


class BoundaryWarning(FisherkitWarning):
    """An estimate heads to the edge of the parameter space (a coefficient to minus
    infinity, a shape or degrees of freedom to infinity): the likelihood has no interior
    maximum in that direction, and its standard errors are not meaningful."""


class DataError(ValueError):
    """The data cannot be used with the model (bad values, types, lengths or support)."""


class SpecificationError(ValueError):
    """The model specification is invalid (unknown family or link, bad parameter)."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first frame outside fisherkit
    (and outside the standard library's ``functools``, which runs cached properties)."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        name = os.path.abspath(frame.f_code.co_filename)
        if not (name.startswith(_PACKAGE) or name.endswith("functools.py")):
            return level
        frame, level = frame.f_back, level + 1
    return level
