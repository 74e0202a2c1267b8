"""A persistent judge cache in SQLite: paid calls survive crashes and reruns cost nothing.

One row per successful judge request, keyed by sha256 of the canonical request (backend, model,
base URL, messages, schema, sampling parameters, protocol version). Retries, timeouts and
concurrency are not part of the key, and no key, header or secret is ever stored. Values are JSON,
never pickle. Each write commits at once (WAL mode, busy timeout), so several processes can share
a cache and a killed run loses at most the calls in flight. Failed or unparseable answers are
never written. A second table pins the judge's appropriateness flags per (test set, judge), so
every checkpoint is scored against the same ground truth.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["JudgeCache", "canonical_json", "default_cache_dir", "request_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    created REAL NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS truth (
    testset TEXT NOT NULL,
    judge TEXT NOT NULL,
    row_id TEXT NOT NULL,
    appropriate INTEGER NOT NULL,
    PRIMARY KEY (testset, judge, row_id)
);
"""


def default_cache_dir() -> Path:
    """The user cache directory for this package (XDG on Linux, Caches on macOS)."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "domainyours-eval"


def canonical_json(request: dict[str, Any]) -> str:
    """The canonical JSON of a request description: sorted keys, no spaces."""
    return json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(request: dict[str, Any] | str) -> str:
    """sha256 of the canonical JSON of a request description (or of that JSON itself)."""
    canon = request if isinstance(request, str) else canonical_json(request)
    return hashlib.sha256(canon.encode()).hexdigest()


class JudgeCache:
    """The SQLite cache of judge calls and pinned ground truth."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "judge-cache.sqlite3"
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        # NORMAL in WAL mode survives a crashed or killed process (not a power cut) without an
        # fsync per call, which would otherwise serialise a fast judge behind the disk.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response for ``key``, or ``None``."""
        row = self._conn.execute("SELECT response FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        value: dict[str, Any] = json.loads(row[0])
        return value

    def put(self, key: str, request_json: str, response: dict[str, Any]) -> None:
        """Store a successful, validated response (committed immediately).

        ``request_json`` is the request's ``canonical_json``, the text its key was made from.
        """
        self._conn.execute(
            "INSERT OR REPLACE INTO calls (key, created, request, response) VALUES (?, ?, ?, ?)",
            (key, time.time(), request_json, json.dumps(response)),
        )

    def __contains__(self, key: str) -> bool:
        return self._conn.execute("SELECT 1 FROM calls WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def pinned_truth(self, testset: str, judge: str) -> dict[str, bool]:
        """Appropriateness flags already fixed for this test set and judge fingerprint."""
        rows = self._conn.execute(
            "SELECT row_id, appropriate FROM truth WHERE testset = ? AND judge = ?",
            (testset, judge)).fetchall()
        return {r: bool(a) for r, a in rows}

    def pin_truth(self, testset: str, judge: str, flags: dict[str, bool]) -> None:
        """Fix flags not fixed yet; existing ones are kept (the first run decides)."""
        self._conn.executemany(
            "INSERT OR IGNORE INTO truth (testset, judge, row_id, appropriate) VALUES (?, ?, ?, ?)",
            [(testset, judge, r, int(a)) for r, a in flags.items()])

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()
