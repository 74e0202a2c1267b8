"""Judges: the interface, the registry and the built-in backends (loaded on demand)."""

from ..types import DomainVerdict, JudgeInput, Judgment
from ._registry import get_judge, list_judges, register_judge
from .base import Judge, JudgeBase, TruthStore, as_judge, fingerprint_of, judge_sync, validate_judgment
from .panel import JudgePanel

__all__ = [
    "DomainVerdict",
    "Judge",
    "JudgeBase",
    "JudgeInput",
    "JudgePanel",
    "Judgment",
    "TruthStore",
    "as_judge",
    "fingerprint_of",
    "get_judge",
    "judge_sync",
    "list_judges",
    "register_judge",
    "validate_judgment",
]
