"""People's labels: a blind sheet to fill in, read back strictly, and used as a judge to compare.

``export_sheet`` draws a seeded sample of evaluated rows, stratified by truth (safe, harmful) and
slice, and swaps rows in until names the judge put in every category are present, so the people
see the cases that matter; the sheet shows the description and the names only, never a verdict.
One line per name (a row without names gets one line): the person writes ``yes``/``no`` for
appropriateness on the row's first line, the five 1-5 scores and a category for each name.
``import_sheet`` checks every cell (line and column named in each problem) before writing a
labels file; ``PeopleJudge`` serves those labels through the ``Judge`` interface, so the same
agreement statistics compare any judge with the people.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DataError, DataProblem, JudgeResponseError
from .judges.base import JudgeBase
from .results import EvalResults
from .tasks.constraints import detect_constraints
from .types import CATEGORIES, CRITERIA, SCORE_MAX, SCORE_MIN, DomainVerdict, JudgeInput, Judgment

__all__ = ["COLUMNS", "PeopleJudge", "export_sheet", "import_sheet", "load_labels"]

COLUMNS = ("row_id", "description", "name", "appropriate", *CRITERIA, "category")
"""The sheet's columns, in order."""
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _sample(results: EvalResults, n: int, seed: int) -> list[Any]:
    """A seeded sample stratified by truth and first tag, with every category represented."""
    rng = random.Random(seed)
    strata: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in results.rows:
        strata[(r.truth or r.dataset_label or "unknown", r.tags[0] if r.tags else "")].append(r)
    for rows in strata.values():
        rng.shuffle(rows)
    picked: list[Any] = []
    # Round robin over the strata: each gets a share near its size, every one at least a row.
    order = sorted(strata, key=lambda k: (-len(strata[k]), k))
    while len(picked) < min(n, len(results.rows)):
        for key in order:
            if strata[key] and len(picked) < n:
                picked.append(strata[key].pop())
    have = {d.category for r in picked for d in r.domains}
    for category in CATEGORIES:
        if category in have:
            continue
        spare = [r for rows in strata.values() for r in rows
                 if any(d.category == category for d in r.domains)]
        if spare and picked:
            # Swap out a row from the largest stratum represented more than once.
            victim = max(range(len(picked)), key=lambda i: sum(p.truth == picked[i].truth
                                                               for p in picked))
            picked[victim] = spare[0]
            have |= {d.category for d in spare[0].domains}
    rng.shuffle(picked)
    return picked


def export_sheet(results: EvalResults, out: str | Path, *, n: int = 60, seed: int = 0) -> Path:
    """Write a blind labelling sheet (CSV) for ``n`` of the evaluated rows; return its path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in _sample(results, n, seed):
            for name in r.suggestions or [""]:
                w.writerow([r.id, r.description, name] + [""] * (len(COLUMNS) - 3))
    return path


def import_sheet(sheet: str | Path, out: str | Path) -> Path:
    """Check a filled sheet and write it as a labels file (JSONL, one row a line).

    Raises:
        DataError: Every problem, each with its line and column.
    """
    p = Path(sheet)
    if not p.is_file():
        raise DataError([DataProblem(str(p), None, None, "no such file")],
                        summary="Cannot import labels")
    problems: list[DataProblem] = []
    rows: dict[str, dict[str, Any]] = {}
    with p.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError([DataProblem(str(p), 1, None, f"missing column(s): "
                                         f"{', '.join(missing)}")], summary="Cannot import labels")
        for line, rec in enumerate(reader, start=2):
            _read_line(p, line, rec, rows, problems)
    for rid, row in rows.items():
        if row["appropriate"] is None:
            problems.append(DataProblem(str(p), row["line"], "appropriate",
                                        f"row {rid!r} has no yes/no on any of its lines"))
    if problems:
        raise DataError(problems, summary=f"Cannot import labels from {p}: "
                        f"{len(problems)} problem(s)")
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps({k: v for k, v in row.items() if k != "line"},
                                         ensure_ascii=False) + "\n" for row in rows.values()),
                      encoding="utf-8")
    return target


def _read_line(p: Path, line: int, rec: dict[str, Any], rows: dict[str, dict[str, Any]],
               problems: list[DataProblem]) -> None:
    def bad(column: str, message: str) -> None:
        problems.append(DataProblem(str(p), line, column, message))

    rid = (rec.get("row_id") or "").strip()
    if not rid:
        bad("row_id", "empty")
        return
    row = rows.setdefault(rid, {"row_id": rid, "description": rec.get("description") or "",
                                "appropriate": None, "names": [], "line": line})
    flag = (rec.get("appropriate") or "").strip().lower()
    if flag:
        if flag not in _YES | _NO:
            bad("appropriate", f"{flag!r} is not yes or no")
        elif row["appropriate"] is not None and row["appropriate"] != (flag in _YES):
            bad("appropriate", f"row {rid!r} is marked both yes and no")
        else:
            row["appropriate"] = flag in _YES
    name = (rec.get("name") or "").strip()
    if not name:
        return
    scores: dict[str, int] = {}
    for c in CRITERIA:
        text = (rec.get(c) or "").strip()
        if not text.isdigit() or not SCORE_MIN <= int(text) <= SCORE_MAX:
            bad(c, f"{text!r} is not a whole number from {SCORE_MIN} to {SCORE_MAX}")
        else:
            scores[c] = int(text)
    category = (rec.get("category") or "").strip().lower()
    if category not in CATEGORIES:
        bad("category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    if len(scores) == len(CRITERIA) and category in CATEGORIES:
        row["names"].append({"domain": name, "scores": scores, "category": category})


def load_labels(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a labels file ``import_sheet`` wrote."""
    p = Path(path)
    if not p.is_file():
        raise DataError([DataProblem(str(p), None, None, "no such file")],
                        summary="Cannot load labels")
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line]


class PeopleJudge(JudgeBase):
    """The people's labels as a judge, for the rows and names they labelled."""

    def __init__(self, labels: Sequence[dict[str, Any]], *, source: str = "labels") -> None:
        self.rows = {r["row_id"]: r for r in labels}
        self.name = f"people ({source})"
        self._digest = hashlib.sha256(json.dumps(list(labels), sort_keys=True).encode())

    @property
    def fingerprint(self) -> str:
        """sha256 of the labels."""
        return self._digest.hexdigest()

    def items(self) -> list[JudgeInput]:
        """What the people judged, as judge inputs (for the judge being compared)."""
        return [JudgeInput(r["description"], tuple(n["domain"] for n in r["names"]),
                           detect_constraints(r["description"]), r["row_id"])
                for r in self.rows.values()]

    async def judge(self, item: JudgeInput) -> Judgment:
        """The people's verdict on a labelled row."""
        row = self.rows.get(item.row_id)
        if row is None:
            raise JudgeResponseError(f"no labels for row {item.row_id!r}", raw="")
        by_name = {n["domain"]: n for n in row["names"]}
        return Judgment(appropriate=bool(row["appropriate"]), domains=tuple(
            DomainVerdict(domain=d, scores=by_name[d]["scores"], category=by_name[d]["category"])
            for d in item.domains if d in by_name))
