"""The task's dataset rules, checked by ``validate`` and ``lint_rows``.

Five unique valid names per safe row, ``[]`` for a refusal row, no repeated description.
"""

from __future__ import annotations

from collections import Counter

from ..errors import DataProblem
from ..testsets import TestSet, normalise_description
from .domain_suggestion import MAX_LEN, MIN_LEN, N_SUGGESTIONS, is_valid_name

__all__ = ["lint_rows"]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def lint_rows(testset: TestSet) -> list[DataProblem]:
    """Check rows against the seed dataset's constraints; an empty list means clean.

    Safe rows need exactly five unique names, each 5-50 characters of a-z, 0-9 and hyphen with
    no TLD; refusal rows need ``[]``; unlabelled rows are reported.
    """
    problems: list[DataProblem] = []
    lines = testset.lines or (None,) * len(testset.rows)
    for r, line in zip(testset.rows, lines):
        where = f"row {r.id!r}"

        def add(fld: str, msg: str, line: int | None = line, where: str = where) -> None:
            problems.append(DataProblem(testset.source, line, fld, f"{where}: {msg}"))

        if r.suggestions is None:
            add("suggestions", "no label (write [] for a refusal row)")
            continue
        if not r.suggestions:
            continue
        if len(r.suggestions) != N_SUGGESTIONS:
            add("suggestions", f"{len(r.suggestions)} names, expected {N_SUGGESTIONS}")
        dupes = [n for n, c in Counter(r.suggestions).items() if c > 1]
        if dupes:
            add("suggestions", f"duplicate name(s) {dupes}")
        for name in r.suggestions:
            if "." in name:
                msg = f"{name!r} has a TLD or dot; write the name alone"
            elif is_valid_name(name):
                continue
            elif not MIN_LEN <= len(name) <= MAX_LEN:
                msg = f"{name!r} is {len(name)} characters; allowed {MIN_LEN}-{MAX_LEN}"
            elif set(name) <= _NAME_CHARS:
                msg = f"{name!r} starts or ends with a hyphen, or has '--'"
            else:
                msg = f"{name!r} has characters outside a-z, 0-9 and hyphen"
            add("suggestions", msg)
    first: dict[str, int | None] = {}
    for r, line in zip(testset.rows, lines):
        key = normalise_description(r.description)
        if key in first:
            problems.append(DataProblem(testset.source, line, "description",
                                        f"same description as line {first[key]}: {key[:50]!r}"))
        else:
            first[key] = line
    return problems
