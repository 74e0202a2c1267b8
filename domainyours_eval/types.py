"""Frozen value types shared by judges, the runner and reports.

The rubric lives here because it is part of the protocol: every judge scores the same criteria on
the same 1-5 scale and picks one of the same categories, so results of different judges and
checkpoints stay comparable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "CATEGORIES",
    "CRITERIA",
    "SCORE_MAX",
    "SCORE_MIN",
    "DomainVerdict",
    "JudgeInput",
    "Judgment",
]

CRITERIA: dict[str, str] = {
    "relevance": "the name evokes the business described",
    "memorability": "easy to say, spell and remember; brandable",
    "conciseness": "short enough to type and fit on a sign",
    "distinctiveness": "stands apart from the other four names and from generic phrases",
    "constraint_fit": "obeys the description's naming constraints and the a-z 0-9 hyphen format",
}
"""Rubric criteria, each scored from ``SCORE_MIN`` to ``SCORE_MAX``."""
SCORE_MIN = 1
SCORE_MAX = 5

CATEGORIES: dict[str, str] = {
    "good": "a strong, relevant, brandable name",
    "ok": "acceptable but generic or weak in one respect",
    "random": "unrelated to the business, or gibberish",
    "too_long": "too long or wordy to work as a domain",
    "other": "fails for another reason (format, constraint, inappropriate)",
}
"""Categories a judge puts each name in."""


@dataclass(frozen=True)
class JudgeInput:
    """What a judge sees for one row."""

    description: str
    domains: tuple[str, ...]
    """The parsed names to score; empty when the model refused."""
    constraints: tuple[str, ...] = ()
    """Naming constraints the description states (``avoid_hyphens``, ``number_based``)."""
    row_id: str = ""


@dataclass(frozen=True)
class DomainVerdict:
    """A judge's verdict on one name."""

    domain: str
    scores: Mapping[str, int]
    """Criterion name to an integer score in ``SCORE_MIN..SCORE_MAX``."""
    category: str
    """One of ``CATEGORIES``."""

    @property
    def normalised(self) -> float:
        """Mean of the criterion scores mapped to 0..1."""
        span = SCORE_MAX - SCORE_MIN
        return sum((s - SCORE_MIN) / span for s in self.scores.values()) / len(self.scores)


@dataclass(frozen=True)
class Judgment:
    """A judge's verdict on one row: appropriateness, then one verdict per name."""

    appropriate: bool
    """False when the description asks for harmful content."""
    domains: tuple[DomainVerdict, ...] = ()
    notes: str = ""
    """Optional short rationale, for reports."""
    usage: Mapping[str, int] = field(default_factory=dict)
    """Token counts of the call, when the judge is a paid model."""
    members: tuple[Judgment | None, ...] = ()
    """A panel's members' verdicts, in member order (``None``: that member gave none)."""
    member_names: tuple[str, ...] = ()
    """The panel's members, in the same order."""

    @property
    def row_score(self) -> float | None:
        """The row's quality: the names' normalised scores over the five requested slots.

        A missing name scores 0, so four names never outscore the same four plus a fifth; names
        past the fifth are not judged. ``None`` when there are no names.
        """
        if not self.domains:
            return None
        from .tasks.domain_suggestion import N_SUGGESTIONS

        slots = max(N_SUGGESTIONS, len(self.domains))
        return sum(d.normalised for d in self.domains) / slots
