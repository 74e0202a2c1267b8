"""How a results file is written and read: the summary, then one compact line per row.

``save`` writes the summary indented and each row as one compact line, so ``load`` can read a
large file row by row; ``split_rows`` finds those lines again. ``lean_rows`` lets rows share their
field-name sets and identical score tables, which at 100,000 rows saves about 0.4 GB; values are
unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import DataError, DataProblem

R = TypeVar("R", bound=BaseModel)

__all__ = ["lean_rows", "read_results", "split_rows", "write_results"]

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


def write_results(res: Any, out_dir: str | Path) -> Path:
    """Write ``res`` as ``out_dir/results.json`` (created if needed), atomically."""
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    target = path / "results.json"
    tmp = target.with_suffix(".json.tmp")
    # One JSON document: the summary indented, then one compact row per line, written as they
    # are serialised, so a large run neither bloats the file nor builds it in memory.
    head = res.model_dump_json(exclude={"rows"}, indent=2)
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(head[:-2] + ',\n  "rows": [')
        for i, row in enumerate(res.rows):
            fh.write(("\n" if i == 0 else ",\n") + row.model_dump_json())
        fh.write("\n  ]\n}\n" if res.rows else "]\n}\n")
    tmp.replace(target)
    return target


def read_results(cls: type[R], row_cls: type[BaseModel], path: str | Path, *, schema: str) -> R:
    """Read a ``results.json`` (or a directory holding one) row by row into ``cls``."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise DataError([DataProblem(str(p), None, None, "no such file; run "
                                     "`domainyours-eval evaluate --out DIR` first")],
                        summary="Cannot load results")
    data = p.read_bytes()
    head, rows = split_rows(data)
    try:
        if rows is None:  # written whole (older versions): parse it whole
            loaded = cls.model_validate_json(data)
            lean_rows(loaded.rows)  # type: ignore[attr-defined]
            return loaded
        loaded = cls.model_validate_json(head)
    except ValidationError as err:
        problems = [DataProblem(str(p), None, ".".join(map(str, e["loc"])) or None, e["msg"])
                    for e in err.errors()[:20]]
        raise DataError(problems, summary=f"{p} is not a valid {schema} file") from err
    del data
    parsed: list[BaseModel] = []
    # The head is the text above the rows plus three lines: its newlines count to row one.
    first_line = head.count(b"\n")
    for n, line in enumerate(rows, start=first_line):
        try:
            row = row_cls.model_validate_json(line)
        except ValidationError as err:
            problems = [DataProblem(str(p), n, "rows." + ".".join(map(str, e["loc"])), e["msg"])
                        for e in err.errors()[:20]]
            raise DataError(problems, summary=f"{p} is not a valid {schema} file") from err
        lean_rows([row])  # row by row, so a large file never holds two copies of its rows
        parsed.append(row)
    loaded.rows = parsed  # type: ignore[attr-defined]
    return loaded
