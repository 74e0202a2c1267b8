"""How a results file's rows are stored and held: one compact line each, shared small objects.

``save`` writes the summary indented and each row as one compact line, so ``load`` can read a
large file row by row; ``split_rows`` finds those lines again. ``lean_rows`` lets rows share their
field-name sets and identical score tables, which at 100,000 rows saves about 0.4 GB; values are
unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

__all__ = ["lean_rows", "split_rows"]

_ROWS_OPEN = b'\n  "rows": [\n'
_ROWS_CLOSE = b"\n  ]\n}"


def split_rows(data: bytes) -> tuple[bytes, list[bytes] | None]:
    """The summary (with ``rows: []``) and one JSON text per row of a file ``save`` wrote.

    ``(data, None)`` for a file written whole, which is then parsed whole. Newlines inside
    JSON strings are escaped, so in the rows part each raw newline ends a row.
    """
    start = data.find(_ROWS_OPEN)
    end = data.rstrip().rfind(_ROWS_CLOSE)
    if (start < 0 or end < start or data.rstrip()[end + len(_ROWS_CLOSE):]
            or not data.startswith(b"{", start + len(_ROWS_OPEN))):
        return data, None  # an indented file's rows start "    {"
    head = data[:start] + b'\n  "rows": []\n}\n'
    rows = [line.rstrip().rstrip(b",") for line in data[start + len(_ROWS_OPEN):end].split(b"\n")]
    return head, rows


_FIELDS_SET: dict[type, set[str]] = {}
_SHARED_DICTS: dict[tuple[tuple[str, int], ...], dict[str, int]] = {}


def _lean(model: BaseModel) -> None:
    """Let ``model`` share its field-name set with every instance of its class.

    Pydantic gives each instance its own set of the fields set; with every field set, as in rows
    built by the runner, one shared set says the same. At 100,000 rows of five names each that is
    about 0.4 GB.
    """
    shared = _FIELDS_SET.setdefault(type(model), set(type(model).model_fields))
    object.__setattr__(model, "__pydantic_fields_set__", shared)


def _shared(counts: dict[str, int]) -> dict[str, int]:
    """One dict object per distinct score or category table (at most a few thousand exist)."""
    key = tuple(counts.items())
    found = _SHARED_DICTS.get(key)
    if found is None:
        found = _SHARED_DICTS[key] = dict(counts) if len(_SHARED_DICTS) < 100_000 else counts
    return found


def lean_rows(rows: Sequence[Any]) -> None:
    """Shrink rows in place (shared field sets and score tables); values are unchanged."""
    for row in rows:
        _lean(row)
        row.__dict__["categories"] = _shared(row.categories)
        for d in row.domains:
            _lean(d)
            d.__dict__["scores"] = _shared(d.scores)
        for v in row.violations:
            _lean(v)
        for c in row.constraints:
            _lean(c)
