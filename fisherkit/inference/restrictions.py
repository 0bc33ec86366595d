"""Linear restrictions ``R params = r`` on named parameters, for Wald tests.

Restrictions are linear in the natural-scale parameters and are written as strings
(``"GPA = TUCE"``, ``"GPA = 0, TUCE = 0"``, ``"2*GPA + TUCE = 1"``; an expression without
``=`` is set to 0), as a mapping ``{name: value}``, or as a pair ``(R, r)``. Names such as
``C(g)[T.b]`` or ``np.log(z)`` are read longest first, so that one name containing another
is never split.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import SpecificationError

__all__ = ["restriction_matrix"]

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.]")


class _Linear:
    """``coef @ params + const``: the value of a parsed sub-expression."""

    def __init__(self, coef: np.ndarray, const: float):
        self.coef, self.const = coef, const

    @property
    def constant(self) -> bool:
        return not np.any(self.coef)


class _Parser:
    """Recursive descent over ``+ - * / ( )``, numbers and parameter names."""

    def __init__(self, text: str, names: Sequence[str]):
        self.text, self.names, self.at = text, list(names), 0
        # longest first, so that "x1" never shadows "x10" and "C(g)[T.b]" is one token
        self.by_length = sorted(self.names, key=len, reverse=True)

    def error(self, what: str):
        return SpecificationError(f"Cannot read the restriction {self.text.strip()!r}: {what} "
                                  f"at position {self.at}. The parameters are {self.names}.")

    def skip(self):
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.at] if self.at < len(self.text) else ""

    def parse(self) -> _Linear:
        value = self.expression()
        if self.peek():
            raise self.error(f"unexpected {self.text[self.at:]!r}")
        return value

    def expression(self) -> _Linear:
        value = self.term()
        while self.peek() in ("+", "-"):
            sign = 1.0 if self.text[self.at] == "+" else -1.0
            self.at += 1
            other = self.term()
            value = _Linear(value.coef + sign * other.coef, value.const + sign * other.const)
        return value

    def term(self) -> _Linear:
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.text[self.at]
            self.at += 1
            other = self.factor()
            if op == "*":
                if not (value.constant or other.constant):
                    raise self.error("a product of two parameters is not linear")
                scale, value = (value.const, other) if value.constant else (other.const, value)
            else:
                if not other.constant or other.const == 0.0:
                    raise self.error("division only by a non-zero number")
                scale = 1.0 / other.const
            value = _Linear(scale * value.coef, scale * value.const)
        return value

    def factor(self) -> _Linear:
        char = self.peek()
        if char in ("+", "-"):
            self.at += 1
            value = self.factor()
            return value if char == "+" else _Linear(-value.coef, -value.const)
        if char == "(":
            # a parameter name may itself start with "(" only in odd formulas; names first
            name = self.name()
            if name is not None:
                return name
            self.at += 1
            value = self.expression()
            if self.peek() != ")":
                raise self.error("a missing ')'")
            self.at += 1
            return value
        name = self.name()
        if name is not None:
            return name
        match = _NUMBER.match(self.text, self.at)
        if match:
            self.at = match.end()
            return _Linear(np.zeros(len(self.names)), float(match.group(0)))
        if not char:
            raise self.error("an expression ends early")
        word = re.match(r"\S+", self.text[self.at:]).group(0)
        raise self.error(f"{word!r} is not a parameter or a number")

    def name(self) -> _Linear | None:
        for candidate in self.by_length:
            end = self.at + len(candidate)
            if self.text.startswith(candidate, self.at):
                continues = (end < len(self.text) and _IDENTIFIER.match(self.text[end])
                             and _IDENTIFIER.match(candidate[-1]))
                if continues:
                    continue
                self.at = end
                coef = np.zeros(len(self.names))
                coef[self.names.index(candidate)] = 1.0
                return _Linear(coef, 0.0)
        return None


def _split(text: str) -> list[str]:
    """Restrictions separated by commas or semicolons outside brackets."""
    pieces, depth, current = [], 0, []
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if char in ",;" and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [p for p in pieces if p.strip()]


def restriction_matrix(restriction, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list]:
    """``R``, ``r`` and a label per row for restrictions on the parameters ``names``.

    Parameters
    ----------
    restriction : str, sequence of str, mapping or (R, r)
        See the module docstring.
    names : sequence of str
        The parameter names, in the order of ``R``'s columns.

    Examples
    --------
    >>> R, r, labels = restriction_matrix("GPA = TUCE, 2*PSI = 1", ["GPA", "TUCE", "PSI"])
    >>> R.tolist(), r.tolist()
    ([[1.0, -1.0, 0.0], [0.0, 0.0, 2.0]], [0.0, 1.0])
    """
    names = list(names)
    if isinstance(restriction, str):
        restriction = _split(restriction)
    if isinstance(restriction, Mapping):
        unknown = [k for k in restriction if k not in names]
        if unknown:
            raise SpecificationError(f"Unknown parameter(s) {unknown}; the parameters are {names}.")
        R = np.array([[float(n == k) for n in names] for k in restriction]).reshape(-1, len(names))
        r = np.array([float(v) for v in restriction.values()])
        labels = [f"{k} = {v:g}" for k, v in restriction.items()]
    elif (isinstance(restriction, Sequence) and restriction
          and all(isinstance(p, str) for p in restriction)):
        rows, r, labels = [], [], []
        for text in (p for part in restriction for p in _split(part)):
            sides = text.split("=")
            if len(sides) > 2:
                raise SpecificationError(f"The restriction {text.strip()!r} has more than one '='.")
            left = _Parser(sides[0], names).parse()
            right = (_Parser(sides[1], names).parse() if len(sides) == 2
                     else _Linear(np.zeros(len(names)), 0.0))
            rows.append(left.coef - right.coef)
            r.append(right.const - left.const)
            labels.append(" ".join(text.split()) + ("" if len(sides) == 2 else " = 0"))
        R, r = np.array(rows), np.array(r)
    elif isinstance(restriction, tuple) and len(restriction) == 2:
        R, r = restriction
        if isinstance(R, pd.DataFrame):
            unknown = [c for c in R.columns if c not in names]
            if unknown:
                raise SpecificationError(f"Unknown parameter(s) {unknown}; the parameters are "
                                         f"{names}.")
            R = R.reindex(columns=names, fill_value=0.0)
        R = np.atleast_2d(np.asarray(R, dtype=float))
        r = np.atleast_1d(np.asarray(r, dtype=float))
        if R.shape[1] != len(names) or r.shape != (R.shape[0],):
            raise SpecificationError(f"R must have {len(names)} columns ({', '.join(names)}) and "
                                     f"r one value per row of R; got shapes {R.shape} and {r.shape}.")
        labels = [f"restriction {i + 1}" for i in range(R.shape[0])]
    else:
        raise SpecificationError("Give restrictions as a string ('GPA = TUCE'), a list of "
                                 "strings, a mapping {name: value} or a pair (R, r); got "
                                 f"{restriction!r}.")
    if R.shape[0] == 0:
        raise SpecificationError("No restrictions were given.")
    if not (np.all(np.isfinite(R)) and np.all(np.isfinite(r))):
        raise SpecificationError("The restrictions hold values that are not finite.")
    for i, row in enumerate(R):
        if not np.any(row):
            raise SpecificationError(f"The restriction {labels[i]!r} involves no parameter.")
    if np.linalg.matrix_rank(R) < R.shape[0]:
        raise SpecificationError(f"The restrictions {labels} are linearly dependent; drop the "
                                 "redundant ones.")
    return R, r, labels
