"""Finding and repairing a damaged judge cache, keeping every answer that can be verified.

A damaged file is moved aside (``judge-cache.sqlite3.damaged-<time>-<id>``), never deleted, and
every call whose key is the hash of its request and whose response is a JSON object is copied
into a fresh cache; unreadable pages are skipped by bisecting on rowid. ``lost`` counts rows read
but refused, so it is a lower bound: rows on pages SQLite cannot read at all are not counted.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import CACHE_FILE, SCHEMA, connect, default_cache_dir, integrity, is_damaged, request_key

__all__ = ["CacheCheck", "check_cache", "repair_cache"]


@dataclass(frozen=True)
class CacheCheck:
    """What ``check_cache`` or ``repair_cache`` found."""

    path: Path
    ok: bool
    """True when SQLite's integrity check passes."""
    problem: str = ""
    """SQLite's first complaint when not ``ok``."""
    calls: int | None = None
    """Stored calls (after a repair: calls salvaged)."""
    lost: int = 0
    """Rows that could not be read or failed verification (repair only)."""
    moved_to: Path | None = None
    """Where the damaged file went (repair only)."""


def _scan(conn: sqlite3.Connection, table: str, columns: str) -> Iterator[tuple[Any, ...]]:
    """Every readable row of ``table``; damaged pages are skipped, bisecting by rowid."""
    try:
        yield from conn.execute(f"SELECT {columns} FROM {table}").fetchall()
        return
    except sqlite3.DatabaseError as err:
        if not is_damaged(err):
            raise
    try:
        conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    except sqlite3.DatabaseError:
        return  # no readable schema: nothing to find
    try:
        top = int(conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0)
    except sqlite3.DatabaseError:
        # A page holds no more than a few dozen of our rows, and rowids are nearly dense.
        try:
            top = int(conn.execute("PRAGMA page_count").fetchone()[0]) * 64
        except sqlite3.DatabaseError:
            top = 1 << 16
    stack = [(1, top + 1)]
    while stack:
        lo, hi = stack.pop()
        try:
            yield from conn.execute(f"SELECT {columns} FROM {table} WHERE rowid >= ? AND rowid < ?",
                                    (lo, hi)).fetchall()
        except sqlite3.DatabaseError as err:
            if not is_damaged(err):
                raise
            if hi - lo > 1:
                mid = (lo + hi) // 2
                stack += [(mid, hi), (lo, mid)]


def _salvage(source: Path, target: Path) -> tuple[int, int]:
    """Copy every readable, verifiable call and truth flag of ``source`` into ``target``.

    Returns (calls copied, rows lost). A call is kept only when its key is the hash of its
    request and its response is a JSON object, so a damaged row is never served as an answer.
    """
    calls: list[tuple[Any, ...]] = []
    truth: list[tuple[Any, ...]] = []
    lost = 0
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
        # Lets SQLite read a truncated file up to its end instead of refusing it whole.
        conn.execute("PRAGMA writable_schema=ON")
    except sqlite3.DatabaseError:
        conn = None
    if conn is not None:
        try:
            for table, columns, sink in (("calls", "key, created, request, response", calls),
                                         ("truth", "testset, judge, row_id, appropriate", truth)):
                try:
                    sink.extend(_scan(conn, table, columns))
                except sqlite3.DatabaseError:
                    continue  # the table itself is gone
        finally:
            conn.close()
    out = connect(target)
    try:
        out.executescript(SCHEMA)
        kept = []
        for key, created, request, response in calls:
            try:
                ok = (isinstance(request, str) and request_key(request) == key
                      and isinstance(json.loads(response), dict))
            except (TypeError, ValueError):
                ok = False
            if ok:
                kept.append((key, created, request, response))
            else:
                lost += 1
        out.execute("BEGIN")
        out.executemany("INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?)", kept)
        out.executemany("INSERT OR IGNORE INTO truth VALUES (?, ?, ?, ?)",
                        [t for t in truth if len(t) == 4 and t[3] in (0, 1)])
        out.execute("COMMIT")
    finally:
        out.close()
    return len(kept), lost


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}-{secrets.token_hex(2)}")
    path.replace(aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.replace(aside.with_name(aside.name + suffix))
    return aside


def repair_cache(directory: str | Path | None = None, *, problem: str | None = None) -> CacheCheck:
    """Rebuild a damaged cache from what can be read; a healthy one is left as it is.

    The damaged file is moved aside (``judge-cache.sqlite3.damaged-<time>-<id>``), never deleted.
    """
    path = Path(directory if directory is not None else default_cache_dir()) / CACHE_FILE
    if not path.exists():
        return CacheCheck(path=path, ok=True, calls=0)
    problem = problem or integrity(path, quick=False)
    if problem == "ok":
        return check_cache(path.parent)
    aside = _move_aside(path)
    fresh = path.with_name(path.name + f".rebuild-{secrets.token_hex(4)}")
    copied, lost = _salvage(aside, fresh)
    fresh.replace(path)
    return CacheCheck(path=path, ok=False, problem=problem, calls=copied, lost=lost,
                      moved_to=aside)


def check_cache(directory: str | Path | None = None) -> CacheCheck:
    """Run SQLite's full integrity check on the cache; nothing is changed."""
    path = Path(directory if directory is not None else default_cache_dir()) / CACHE_FILE
    if not path.exists():
        return CacheCheck(path=path, ok=True, calls=0)
    problem = integrity(path, quick=False)
    if problem != "ok":
        return CacheCheck(path=path, ok=False, problem=problem)
    conn = connect(path)
    try:
        n = int(conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
    except sqlite3.DatabaseError as err:
        return CacheCheck(path=path, ok=False, problem=str(err))
    finally:
        conn.close()
    return CacheCheck(path=path, ok=True, calls=n)
