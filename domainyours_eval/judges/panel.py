"""A panel of judges: every row judged by each member, one verdict by stated rules.

Members judge each row concurrently, each with its own cache, retries and cost. The panel's
verdict needs valid verdicts from a strict majority of the members (otherwise the row is a judge
error). Its flag is the majority of those members' flags, a tie counting as inappropriate (a
missed harmful row costs more than a false refusal); each name's score on each criterion is the
median of the members' scores, the lower middle value when their number is even (scores stay on
the integer scale, and a split panel never rounds a name up); each name's category is the
plurality, a tie going to the tied category chosen by the member listed first. Every member's
verdict (or error) travels with the panel's, so results keep them and agreement can be measured.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..errors import JudgeError, JudgeFatalError, JudgeResponseError
from ..types import CRITERIA, DomainVerdict, JudgeInput, Judgment
from .base import Judge, TruthStore, fingerprint_of

__all__ = ["PANEL_RULES", "JudgePanel", "combine", "repeated_judge"]

PANEL_RULES = "domainyours-panel/1"
"""Version of the combination rules above (part of the panel's fingerprint)."""


def _lower_median(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def combine(verdicts: Sequence[Judgment | None], item: JudgeInput,
            names: Sequence[str] = ()) -> Judgment:
    """The panel's verdict from its members' (``None`` for a member that gave none).

    Raises:
        JudgeResponseError: Fewer than a strict majority of the members gave a verdict.
    """
    valid = [v for v in verdicts if v is not None]
    if 2 * len(valid) <= len(verdicts):
        raise JudgeResponseError(f"panel: only {len(valid)} of {len(verdicts)} members gave a "
                                 "valid verdict (a majority is needed)", raw="")
    inappropriate = sum(not v.appropriate for v in valid)
    appropriate = inappropriate * 2 < len(valid)
    combined = []
    for name in item.domains:
        per = [next(d for d in v.domains if d.domain == name) for v in valid]
        scores = {c: _lower_median([d.scores[c] for d in per]) for c in CRITERIA}
        counts = Counter(d.category for d in per)
        top = max(counts.values())
        category = next(d.category for d in per if counts[d.category] == top)
        combined.append(DomainVerdict(domain=name, scores=scores, category=category))
    usage: Counter[str] = Counter()
    for v in valid:
        usage.update(v.usage)
    return Judgment(appropriate=appropriate, domains=tuple(combined),
                    notes=f"panel of {len(verdicts)}: {len(valid) - inappropriate} appropriate, "
                          f"{inappropriate} inappropriate",
                    usage=dict(usage), members=tuple(verdicts), member_names=tuple(names))


class JudgePanel:
    """Several judges as one: ``JudgePanel([get_judge("a/x"), get_judge("b/y"), ...])``."""

    def __init__(self, members: Sequence[Judge], *, design: str = "judges") -> None:
        if len(members) < 2:
            from ..errors import ConfigError

            raise ConfigError("a panel needs at least two judges")
        names = [m.name for m in members]
        if len(set(names)) != len(names):
            from ..errors import ConfigError

            raise ConfigError(f"a panel's judges must differ: {', '.join(names)}")
        self.members = list(members)
        self.design = design
        """``judges`` (distinct judges) or ``repeats`` (samplings of one judge)."""
        self.name = "panel(" + ", ".join(names) + ")"

    @property
    def fingerprint(self) -> str:
        """sha256 over the members' fingerprints, in order, and the combination rules."""
        return fingerprint_of({"panel": PANEL_RULES,
                               "members": [m.fingerprint for m in self.members]})

    async def judge(self, item: JudgeInput) -> Judgment:
        """Ask every member at once and combine their verdicts."""
        got = await asyncio.gather(*(m.judge(item) for m in self.members),
                                   return_exceptions=True)
        verdicts: list[Judgment | None] = []
        for g in got:
            if isinstance(g, JudgeFatalError):
                raise g
            if isinstance(g, JudgeError):
                verdicts.append(None)
            elif isinstance(g, BaseException):
                raise g
            else:
                verdicts.append(g)
        return combine(verdicts, item, [m.name for m in self.members])

    def start_run(self, *, max_cost: float | None = None) -> None:
        """Start every member's run; the cost limit applies to each member's own spending."""
        for m in self.members:
            m.start_run(max_cost=max_cost)

    def estimate_cost(self, items: Sequence[JudgeInput]) -> float | None:
        """The members' projected costs added up (``None`` when any price is unknown)."""
        costs = [m.estimate_cost(items) for m in self.members]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    def use_batches(self, settings: Any) -> None:
        """Every member batches (each must be able to)."""
        for m in self.members:
            m.use_batches(settings)

    async def aclose(self) -> None:
        """Close every member."""
        for m in self.members:
            await m.aclose()

    def info(self) -> dict[str, Any]:
        """The members' calls, tokens and costs added up; each member's facts under its name."""
        infos = [m.info() for m in self.members]
        usage: Counter[str] = Counter()
        for i in infos:
            usage.update(i.get("usage") or {})
        details = {}
        for k, (m, i) in enumerate(zip(self.members, infos)):
            cost = i.get("cost_usd")
            paid = "cost unknown" if cost is None and i.get("calls") else f"${cost or 0.0:.4f}"
            details[f"member {k + 1}"] = (f"{m.name}: {i.get('calls') or 0} calls, "
                                          f"{i.get('cache_hits') or 0} cached, {paid}")
        details["rules"] = PANEL_RULES
        return {"calls": sum(int(i.get("calls") or 0) for i in infos),
                "cache_hits": sum(int(i.get("cache_hits") or 0) for i in infos),
                "usage": dict(usage),
                # Unknown when a member that paid for calls has no price.
                "cost_usd": None if any(i.get("cost_usd") is None and i.get("calls")
                                        for i in infos)
                else round(sum(i.get("cost_usd") or 0.0 for i in infos), 6),
                "details": details}

    @property
    def truth_store(self) -> TruthStore | None:
        """The first member's store pins the panel's flags (under the panel's fingerprint)."""
        for m in self.members:
            if m.truth_store is not None:
                return m.truth_store
        return None


def repeated_judge(spec: str, k: int, **options: Any) -> JudgePanel:
    """One judge sampled ``k`` times per row, as a panel whose members are the samplings.

    Raises:
        ConfigError: ``k`` below 2, or a judge that cannot sample (the reference judge, a
            greedy local model, temperature 0).
    """
    from ..errors import ConfigError
    from ._registry import get_judge

    if k < 2:
        raise ConfigError(f"judge repeats must be at least 2, got {k}")
    try:
        members = [get_judge(spec, sample=i + 1, **options) for i in range(k)]
    except TypeError:
        raise ConfigError(f"judge {spec!r} cannot sample, so it cannot be repeated: repeated "
                          "judging needs an LLM judge over an API (openai/, anthropic/ or an "
                          "OpenAI-compatible server)") from None
    return JudgePanel(members, design="repeats")
