"""Random-effects terms of a formula: ``(1 | g)`` and ``(1 + x | g)``, in lme4's syntax.

The right-hand side is split at its top-level ``+`` signs (outside parentheses, brackets
and quotes); a piece that is one parenthesized group with a ``|`` at its own level is a
random-effects term, everything else is the fixed part, which formulaic reads as before.
The left of the bar is a formula of its own (``1 + x``, ``x`` with its implied intercept,
``0 + x`` without), materialized by formulaic on the fitted rows; the right is the name of
the grouping column.

One term with one grouping factor is available; uncorrelated (``||``), nested (``a/b``)
and several terms are refused as not available yet.

The ``formulae`` package (PyPI) parses the same syntax, but it would bring a second
formula engine beside formulaic for the fixed part, with its own coding of terms; the
random part needs only the bar split, done here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...exceptions import SpecificationError

__all__ = ["RandomTerm", "split_random_terms", "has_random_terms"]

_OPEN, _CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class RandomTerm:
    """One random-effects term ``(expression | group)``.

    Attributes
    ----------
    expression : str
        The formula of the random effects' design (``"1 + x"``).
    group : str
        The grouping column.
    """

    expression: str
    group: str


def _top_level_split(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` outside brackets and quotes."""
    pieces, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif char == separator and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return pieces


def _enclosed(piece: str) -> str | None:
    """The inside of ``piece`` when it is one parenthesized group, else None."""
    piece = piece.strip()
    if not (piece.startswith("(") and piece.endswith(")")):
        return None
    depth = 0
    for i, char in enumerate(piece):
        depth += char in _OPEN
        depth -= char in _CLOSE
        if depth == 0 and i < len(piece) - 1:
            return None  # "(a) * (b)": the first group closes before the end
    return piece[1:-1]


def has_random_terms(formula) -> bool:
    """Whether a formula's right-hand side holds a ``|`` inside parentheses.

    Examples
    --------
    >>> has_random_terms("y ~ x + (1 | g)"), has_random_terms("y ~ x")
    (True, False)
    """
    if not isinstance(formula, str) or "~" not in formula:
        return False
    rhs = formula.split("~", 1)[1]
    return any(len(_top_level_split(inner, "|")) > 1
               for inner in map(_enclosed, _top_level_split(rhs, "+")) if inner is not None)


def split_random_terms(formula: str) -> tuple[str, list[RandomTerm]]:
    """The fixed-effects formula and the random-effects terms of ``formula``.

    Parameters
    ----------
    formula : str
        ``"outcome ~ fixed terms + (expression | group)"``.

    Returns
    -------
    fixed : str
        ``"outcome ~ fixed terms"`` (``"outcome ~ 1"`` when only random terms are given).
    terms : list of RandomTerm

    Raises
    ------
    SpecificationError
        For a random term that is not added with ``+``, a grouping that is not a column
        name, and the forms not available yet (``||``, ``a/b``, ``a:b``, several terms).

    Examples
    --------
    >>> split_random_terms("y ~ x + (1 + x | subject)")
    ('y ~ x', [RandomTerm(expression='1 + x', group='subject')])
    """
    lhs, rhs = formula.split("~", 1)
    fixed, terms = [], []
    for piece in _top_level_split(rhs, "+"):
        inner = _enclosed(piece)
        sides = None if inner is None else _top_level_split(inner, "|")
        if sides is None or len(sides) == 1:
            fixed.append(piece.strip())
            continue
        terms.append(_term(sides, piece.strip(), formula))
    for piece in fixed:
        if "|" in piece:
            raise SpecificationError(
                f"The formula {formula!r} has a '|' outside a random-effects term added with "
                f"'+' ({piece!r}); write random effects as '+ (terms | group)'.")
    if len(terms) > 1:
        raise SpecificationError(
            f"The formula {formula!r} has {len(terms)} random-effects terms; one term with "
            "one grouping factor is available so far (several terms, crossed or nested "
            "factors are not available yet).")
    kept = [p for p in fixed if p]
    return f"{lhs.strip()} ~ {' + '.join(kept) if kept else '1'}", terms


def _term(sides: list[str], piece: str, formula: str) -> RandomTerm:
    if len(sides) > 2 or sides[1].strip() == "":
        # "(1 || g)" splits into three sides, the middle one empty
        raise SpecificationError(
            f"The random-effects term {piece!r} of {formula!r} uses '||' (uncorrelated "
            "effects), which is not available yet; write '(1 + x | g)'.")
    expression, group = sides[0].strip(), sides[1].strip()
    if not expression:
        raise SpecificationError(f"The random-effects term {piece!r} of {formula!r} has "
                                 "nothing left of its '|'; write '(1 | group)'.")
    if "/" in group or ":" in group:
        raise SpecificationError(
            f"The random-effects term {piece!r} of {formula!r} has a nested or interacted "
            "grouping; nested and crossed factors are not available yet (one grouping "
            "column is).")
    if not group.isidentifier() and not (group.startswith("`") and group.endswith("`")):
        raise SpecificationError(f"The grouping of {piece!r} in {formula!r} must be a column "
                                 f"name; got {group!r}.")
    return RandomTerm(expression, group.strip("`"))
