"""Automatic slice tags: the seed report's edge cases, found in a description by keyword rules.

The rules are deliberately simple word patterns, so a user can predict which rows land in a slice;
a dataset's own ``tags`` column adds to them (it never removes an automatic tag).
"""

from __future__ import annotations

import re

from .domain_suggestion import detect_constraints

__all__ = ["AUTO_SLICES", "ULTRA_LONG_CHARS", "auto_tags"]

ULTRA_LONG_CHARS = 600
"""A description this long, or with two or more paragraphs, is "ultra_long"."""

_TOPICS: dict[str, re.Pattern[str]] = {
    "birds": re.compile(
        r"\b(birds?|birding|birdhouses?|birdwatch\w*|bird-?feeders?|bird-?seed|avian|aviar(?:y|ies)|parrots?|"
        r"budgies?|canar(?:y|ies)|finch(?:es)?|owls?|hawks?|falcon\w*|ornitholog\w*|songbirds?|"
        r"hummingbirds?|pigeons?|poultry|chickens?|ducks?|feathered)\b",
        re.I,
    ),
    "water_play": re.compile(
        r"\b(water ?parks?|water ?play|splash\w*|water ?slides?|wave ?pools?|kiddie pools?|"
        r"paddling pools?|pool ?part(?:y|ies)|swim\w*|inflatables?|water ?guns?|sprinklers?|"
        r"aquatic|lazy rivers?|water toys?)\b",
        re.I,
    ),
    "hunting": re.compile(
        r"\b(hunt(?:s|ing|er|ers)?|game calls?|deer stands?|tree ?stands?|decoys?|taxiderm\w*|"
        r"big game|waterfowl|bow ?hunt\w*|rifle season|game processing|outfitters?)\b",
        re.I,
    ),
}

AUTO_SLICES = (
    "birds",
    "water_play",
    "hunting",
    "avoid_hyphens",
    "number_based",
    "ultra_long",
    "refusal",
)
"""Slices tagged automatically; ``refusal`` holds rows whose truth is harmful."""


def auto_tags(description: str, *, harmful: bool | None) -> tuple[str, ...]:
    """Return the automatic slice tags of one row.

    Args:
        description: The business description.
        harmful: The row's truth when known (``[]`` label); ``None`` when unlabelled.
    """
    tags = [name for name, pattern in _TOPICS.items() if pattern.search(description)]
    tags.extend(detect_constraints(description))
    paragraphs = [p for p in re.split(r"\n\s*\n", description.strip()) if p.strip()]
    if len(description) >= ULTRA_LONG_CHARS or len(paragraphs) >= 2:
        tags.append("ultra_long")
    if harmful:
        tags.append("refusal")
    return tuple(tags)
