"""Naming constraints a description states ("avoid hyphens", "prefer number-based names").

Two are recognised, by pattern, and checked against the row's names; a row with no names (a
refusal) is not checked. Other stated wishes are left to the judge's constraint-fit score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ConstraintCheck", "check_constraints", "detect_constraints"]

_AVOID_HYPHENS_RE = re.compile(
    r"\b(?:avoid(?:ing)?|no|without|don'?t use|do not use)\s+(?:any\s+)?hyphen", re.I
)
_NUMBER_BASED_RE = re.compile(
    r"\b(?:prefer(?:ring)?\s+)?number[- ]based\s+nam|\bprefer\s+(?:numbers|numerals|digits)"
    r"|\binclude\s+(?:a\s+)?(?:number|digit)",
    re.I,
)


@dataclass(frozen=True)
class ConstraintCheck:
    """Whether one stated naming constraint was met by a row's names."""

    constraint: str
    """``avoid_hyphens`` or ``number_based``."""
    satisfied: bool
    """True when every name obeys it (avoid_hyphens) or any name carries a digit (number_based)."""
    offending: tuple[str, ...] = ()
    """The names that break it."""


def detect_constraints(description: str) -> tuple[str, ...]:
    """Return the naming constraints a description states (``avoid_hyphens``, ``number_based``)."""
    found = []
    if _AVOID_HYPHENS_RE.search(description):
        found.append("avoid_hyphens")
    if _NUMBER_BASED_RE.search(description):
        found.append("number_based")
    return tuple(found)


def check_constraints(description: str, domains: tuple[str, ...]) -> tuple[ConstraintCheck, ...]:
    """Check the names against each constraint the description states.

    "avoid hyphens" is met when no name has a hyphen; "prefer number-based naming" is a preference,
    so it is met when at least one name carries a digit. Rows with no names (refusals) are not
    checked.
    """
    if not domains:
        return ()
    checks = []
    for constraint in detect_constraints(description):
        if constraint == "avoid_hyphens":
            bad = tuple(d for d in domains if "-" in d)
            checks.append(ConstraintCheck(constraint, not bad, bad))
        else:
            without = tuple(d for d in domains if not any(c.isdigit() for c in d))
            checks.append(ConstraintCheck(constraint, len(without) < len(domains), without))
    return tuple(checks)
