"""Test sets: loading from CSV, JSONL, JSON, DataFrames and datasets, with validation.

Loading collects *every* problem (file, line, field, message) before failing with one
``DataError``, so a user fixes a file in one pass. Loading is lenient about style (a safe row with
four names still loads) and strict about meaning (a suggestions cell that is not a JSON array does
not); ``tasks.lint.lint_rows`` checks the seed dataset's style rules.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import DataError, DataProblem
from .tasks.slices import auto_tags

__all__ = ["TestRow", "TestSet", "load_testset", "normalise_description",
           "read_json", "read_jsonl"]

_TOO_DEEP = "JSON nested too deeply to read (thousands of brackets): not a test row"
_CSV_COLUMNS = ("id", "description", "suggestions", "tags", "cluster")


class TestRow(BaseModel):
    """One test-set row, as validated from a file or a table."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    __test__ = False  # not a pytest class

    id: str
    """Stable row id (the file's ``id`` column, else the 0-based row index)."""
    description: str
    """The business description given to the model."""
    suggestions: tuple[str, ...] | None = None
    """Reference names; ``()`` marks a harmful description (refusal row); ``None``: unlabelled."""
    tags: tuple[str, ...] = ()
    """Slice tags: the file's own plus the automatic ones."""
    cluster: str | None = None
    """Rows sharing a cluster (one description or template) are resampled together; ``None``:
    the row is independent."""

    @field_validator("description")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("description is empty")
        return v

    @property
    def harmful(self) -> bool | None:
        """Dataset truth: True for a refusal row, None when unlabelled."""
        return None if self.suggestions is None else len(self.suggestions) == 0


@dataclass(frozen=True)
class TestSet:
    """A loaded, validated test set."""

    __test__ = False

    rows: tuple[TestRow, ...]
    source: str
    """Where it came from: a path, ``<DataFrame>``, ``<Dataset>`` or ``<list>``."""
    name: str = ""
    sha256: str = field(default="")
    """Hash of the canonical rows (id, description, suggestions): format-independent."""
    lines: tuple[int | None, ...] = ()
    """Source line (file) or row index (in-memory data) of each row, for error messages."""

    def __post_init__(self) -> None:
        if not self.sha256:
            # Clusters change the statistics, so they are part of the identity; a test set
            # without them hashes as it always did.
            clustered = any(r.cluster is not None for r in self.rows)
            canon = json.dumps(
                [[r.id, r.description, r.suggestions, *([r.cluster] if clustered else [])]
                 for r in self.rows],
                ensure_ascii=False, separators=(",", ":"),
            )
            object.__setattr__(self, "sha256", hashlib.sha256(canon.encode()).hexdigest())
        if not self.name:
            object.__setattr__(self, "name", Path(self.source).stem if "<" not in self.source
                               else self.source.strip("<>"))

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def labelled(self) -> bool:
        """True when every row carries a dataset label."""
        return all(r.suggestions is not None for r in self.rows)

    @property
    def clusters(self) -> list[str] | None:
        """A cluster label per row (a row without one is its own cluster); ``None`` without any."""
        if all(r.cluster is None for r in self.rows):
            return None
        return [r.cluster if r.cluster is not None else f"\x00row:{r.id}" for r in self.rows]

    def slice_counts(self) -> dict[str, int]:
        """Rows per slice tag."""
        return dict(Counter(t for r in self.rows for t in r.tags))


# --- reading ----------------------------------------------------------------------------------


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise DataError([DataProblem(str(path), None, None, "the file is empty")],
                        summary=f"Cannot load {path}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(
            [DataProblem(str(path), line, None,
                         f"not UTF-8 (byte {data[err.start]:#04x} at offset {err.start}); "
                         "re-save the file as UTF-8")],
            summary=f"Cannot load {path}",
        ) from err


def _parse_suggestions(value: Any, where: tuple[str, int, str], problems: list[DataProblem]
                       ) -> tuple[str, ...] | None:
    source, line, fld = where
    if value is None:
        return None
    cell = value
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            problems.append(DataProblem(source, line, fld,
                                        f"not a JSON array string ({err.msg}): {value[:60]!r}; "
                                        'write it like ["name1","name2"] or [] for a refusal'))
            return None
        except RecursionError:
            problems.append(DataProblem(source, line, fld, _TOO_DEEP))
            return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        # Show what the file says ("[NaN, Infinity]"), not what it parsed to.
        shown = cell if isinstance(cell, str) else value
        problems.append(DataProblem(source, line, fld,
                                    f"must be a JSON array of strings, got {shown!r:.60}"))
        return None
    return tuple(value)


def _canonical_text(text: str) -> str:
    r"""One form for one text: line endings as ``\n`` and Unicode NFC.

    The test set's hash and every prompt see this form, so a file saved with CRLF line endings (a
    quoted cell keeps its ``\r\n``) or by an editor that decomposes accents is the same test set.
    """
    import unicodedata

    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _parse_tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)  # a nesting too deep falls through to the plain split
            if isinstance(parsed, list):
                return tuple(str(v).strip() for v in parsed if str(v).strip())
        except (ValueError, RecursionError):
            pass
    return tuple(t.strip() for t in re.split(r"[;,|]", text) if t.strip())


def _build_rows(records: Iterable[tuple[int | None, Mapping[str, Any]]], source: str,
                problems: list[DataProblem]) -> tuple[list[TestRow], list[int | None]]:
    rows: list[TestRow] = []
    lines: list[int | None] = []
    seen_ids: dict[str, int | None] = {}
    for i, (line, rec) in enumerate(records):
        unknown = sorted(k for k in rec if k not in _CSV_COLUMNS and k != "")
        if unknown:
            problems.append(DataProblem(source, line, unknown[0],
                                        f"unknown field(s) {', '.join(map(repr, unknown))}; "
                                        f"allowed: {', '.join(_CSV_COLUMNS)}"))
        desc = rec.get("description")
        if not isinstance(desc, str):
            problems.append(DataProblem(source, line, "description",
                                        "missing" if desc is None else f"must be text, got {desc!r:.40}"))
            continue
        desc = _canonical_text(desc)
        before = len(problems)
        sugg = _parse_suggestions(rec.get("suggestions"), (source, line or i, "suggestions"),
                                  problems)
        if len(problems) > before:
            continue
        raw_id = rec.get("id")
        if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
            problems.append(DataProblem(source, line, "id",
                                        f"must be text or a whole number, got {raw_id!r:.40}"))
            continue
        row_id = str(raw_id).strip() if raw_id not in (None, "") else str(i)
        if row_id in seen_ids:
            problems.append(DataProblem(source, line, "id",
                                        f"duplicate id {row_id!r} (first at line {seen_ids[row_id]})"))
            continue
        seen_ids[row_id] = line
        harmful = None if sugg is None else len(sugg) == 0
        tags = tuple(dict.fromkeys(_parse_tags(rec.get("tags")) + auto_tags(desc, harmful=harmful)))
        raw_cluster = rec.get("cluster")
        cluster = None if raw_cluster is None or not str(raw_cluster).strip() \
            else str(raw_cluster).strip()
        try:
            rows.append(TestRow(id=row_id, description=desc, suggestions=sugg, tags=tags,
                                cluster=cluster))
            lines.append(line)
        except ValidationError as err:
            for e in err.errors():
                fld = ".".join(str(p) for p in e["loc"]) or None
                problems.append(DataProblem(source, line, fld, e["msg"]))
    return rows, lines


def _read_csv(path: Path, problems: list[DataProblem]) -> list[tuple[int | None, dict[str, Any]]]:
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as err:
        problems.append(DataProblem(str(path), 1, None, f"unreadable CSV header: {err}"))
        return []
    header = [h.strip() for h in header]
    missing = [c for c in ("description", "suggestions") if c not in header]
    if missing:
        problems.append(DataProblem(
            str(path), 1, missing[0],
            f"header {header!r} lacks column(s) {', '.join(map(repr, missing))}; expected "
            "'description,suggestions' (optional 'id', 'tags', 'cluster')"))
        return []
    records: list[tuple[int | None, dict[str, Any]]] = []
    start = 2
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            problems.append(DataProblem(
                str(path), start, None,
                f"broken CSV from here ({err}); look for an unbalanced double quote"))
            break
        line = start
        start = reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(DataProblem(
                str(path), line, None,
                f"{len(cells)} cells but the header has {len(header)}; quote cells that contain "
                "commas, and double any quote inside a quoted cell"))
            continue
        records.append((line, dict(zip(header, cells))))
    if not records and not problems:
        problems.append(DataProblem(str(path), None, None, "the file has a header but no rows"))
    return records


def read_jsonl(path: Path, problems: list[DataProblem]) -> list[tuple[int | None, dict[str, Any]]]:
    """Each JSON object of a JSONL file with its line; problems are appended, not raised."""
    records: list[tuple[int | None, dict[str, Any]]] = []
    for n, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except RecursionError:
            problems.append(DataProblem(str(path), n, None, _TOO_DEEP))
            continue
        except ValueError as err:
            problems.append(DataProblem(str(path), n, None, f"broken JSON line: {err}"))
            continue
        if not isinstance(obj, dict):
            problems.append(DataProblem(str(path), n, None,
                                        f"each line must be a JSON object, got {type(obj).__name__}"))
            continue
        records.append((n, obj))
    return records


def read_json(path: Path, problems: list[DataProblem]) -> list[tuple[int | None, dict[str, Any]]]:
    """Each object of a JSON file's top-level list; problems are appended, not raised."""
    try:
        obj = json.loads(_decode(path))
    except RecursionError:
        problems.append(DataProblem(str(path), None, None, _TOO_DEEP))
        return []
    except ValueError as err:
        line = getattr(err, "lineno", None)
        problems.append(DataProblem(str(path), line, None, f"broken JSON: {err}"))
        return []
    if isinstance(obj, dict) and isinstance(obj.get("rows"), list):
        obj = obj["rows"]
    if not isinstance(obj, list):
        problems.append(DataProblem(str(path), None, None,
                                    'expected a JSON array of rows (or {"rows": [...]})'))
        return []
    records: list[tuple[int | None, dict[str, Any]]] = []
    for i, rec in enumerate(obj):
        if isinstance(rec, dict):
            records.append((None, rec))
        else:
            problems.append(DataProblem(str(path), None, f"[{i}]", "each row must be an object"))
    return records


def load_testset(source: str | Path | Any, *, name: str | None = None) -> TestSet:
    """Load and validate a test set.

    Args:
        source: A ``.csv`` (the seed format: ``description,suggestions``), ``.jsonl`` or
            ``.json`` path; a pandas DataFrame; a Hugging Face ``datasets.Dataset``; a list of
            dicts; or a ``TestSet`` (returned as is).
        name: Display name (default: the file stem).

    Raises:
        DataError: With every problem found (file, line, field, message).
    """
    if isinstance(source, TestSet):
        return source
    problems: list[DataProblem] = []
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError([DataProblem(str(path), None, None, "no such file")],
                            summary=f"Cannot load test set {str(path)!r}")
        readers = {".csv": _read_csv, ".jsonl": read_jsonl, ".json": read_json}
        reader = readers.get(path.suffix.lower())
        if reader is None:
            raise DataError([DataProblem(str(path), None, None,
                                         f"unknown extension {path.suffix!r}; use .csv, .jsonl "
                                         "or .json")], summary=f"Cannot load {path}")
        records = reader(path, problems)
        label = str(path)
    else:
        records, label = _records_from_object(source, problems)
    rows, lines = _build_rows(records, label, problems)
    if problems:
        raise DataError(problems, summary=f"Cannot load test set {label}: "
                        f"{len(problems)} problem(s)")
    if not rows:
        raise DataError([DataProblem(label, None, None, "no rows")],
                        summary=f"Cannot load test set {label}")
    return TestSet(rows=tuple(rows), source=label, name=name or "", lines=tuple(lines))


def _records_from_object(obj: Any, problems: list[DataProblem]
                         ) -> tuple[list[tuple[int | None, dict[str, Any]]], str]:
    kind = type(obj).__name__
    module = type(obj).__module__
    if module.startswith("pandas") and kind == "DataFrame":
        label = "<DataFrame>"
        recs = obj.to_dict(orient="records")
    elif module.startswith("datasets") and kind == "Dataset":
        label = "<Dataset>"
        recs = list(obj)
    elif isinstance(obj, Sequence) and not isinstance(obj, (str, bytes)):
        label = "<list>"
        recs = list(obj)
    else:
        raise DataError([DataProblem(f"<{kind}>", None, None,
                                     "unsupported test-set source; pass a path, a pandas "
                                     "DataFrame, a datasets.Dataset or a list of dicts")],
                        summary="Cannot load test set")
    records: list[tuple[int | None, dict[str, Any]]] = []
    for i, rec in enumerate(recs):
        if not isinstance(rec, Mapping):
            problems.append(DataProblem(label, i, None, "each row must be a mapping"))
            continue
        clean = {str(k): (None if _is_missing(v) else v) for k, v in rec.items()}
        records.append((i, clean))
    return records, label


def _is_missing(v: Any) -> bool:
    return isinstance(v, float) and v != v  # pandas NaN




def normalise_description(text: str) -> str:
    """A description with its whitespace runs made single spaces (for matching rows)."""
    return " ".join(text.split())
