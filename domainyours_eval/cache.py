"""A persistent judge cache in SQLite: paid calls survive crashes and reruns cost nothing.

One row per successful judge request, keyed by sha256 of the canonical request (backend, model,
base URL, messages, schema, sampling parameters, protocol version). Retries, timeouts and
concurrency are not part of the key, and no key, header or secret is ever stored. Values are JSON,
never pickle. Each write commits at once (WAL mode, busy timeout), so several processes can share
a cache and a killed run loses at most the calls in flight. Failed or unparseable answers are
never written. A second table pins the judge's appropriateness flags per (test set, judge), so
every checkpoint is scored against the same ground truth.

Processes sharing a cache do not pay twice for one request: a caller claims the request with a
lease before calling (renewed while the call runs, expiring ``LEASE_SECONDS`` after a killed
process stopped renewing it), and another caller of the same request waits for the answer.

A damaged file (truncated, overwritten, not a database) is found on open (``PRAGMA quick_check``)
or on the first failed read, moved aside with a warning naming both paths, and every row that can
still be read and verified (its key is the hash of its request) is copied into a new cache.
``domainyours-eval cache check`` and ``cache repair`` do the same on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import socket
import sqlite3
import sys
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ._relocated import relocated

__all__ = ["CACHE_FILE", "LEASE_SECONDS", "SCHEMA", "CacheWarning", "JudgeCache", "canonical_json",
           "connect", "default_cache_dir", "integrity", "is_damaged", "request_key"]

# Check and repair moved to ``cache_repair``, which builds on this module.
__getattr__ = relocated(__name__, "domainyours_eval.cache_repair",
                        ["CacheCheck", "check_cache", "repair_cache"])

CACHE_FILE = "judge-cache.sqlite3"
LEASE_SECONDS = 30.0
"""How long a claim on a request outlives its last renewal (a killed process's claims lapse)."""

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_items (
    custom_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    request TEXT NOT NULL,
    PRIMARY KEY (custom_id, batch_id)
);
CREATE TABLE IF NOT EXISTS calibrations (
    judge TEXT NOT NULL,
    labels TEXT NOT NULL,
    created REAL NOT NULL,
    n INTEGER NOT NULL,
    flag_kappa REAL,
    score_kappa REAL,
    PRIMARY KEY (judge, labels)
);
CREATE TABLE IF NOT EXISTS calibration_flags (
    judge TEXT NOT NULL,
    labels TEXT NOT NULL,
    harmful INTEGER NOT NULL,
    harmful_flagged INTEGER NOT NULL,
    safe INTEGER NOT NULL,
    safe_cleared INTEGER NOT NULL,
    PRIMARY KEY (judge, labels)
);
-- A stored answer ends its lease in the same statement: one commit per paid call.
CREATE TRIGGER IF NOT EXISTS answered AFTER INSERT ON calls
BEGIN
    DELETE FROM leases WHERE key = NEW.key;
END;
"""


class CacheWarning(UserWarning):
    """The cache was damaged and has been rebuilt from what could be read."""


def is_damaged(err: BaseException) -> bool:
    """Whether ``err`` means a damaged file (not a lock or an I/O error)."""
    # "database disk image is malformed", "file is not a database": SQLITE_CORRUPT / NOTADB.
    # OperationalError ("database is locked", I/O errors) is a DatabaseError too, but not damage.
    return isinstance(err, sqlite3.DatabaseError) and not isinstance(err, sqlite3.OperationalError)


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


def _dead(owner: str) -> bool:
    """True when a lease's owner is a process of this machine that no longer runs."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or os.name == "nt":
        return False  # on Windows os.kill(pid, 0) would terminate the process
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


def connect(path: Path) -> sqlite3.Connection:
    """A connection that waits up to 30 s for another process's lock."""
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def integrity(path: Path, *, quick: bool) -> str:
    """``"ok"`` or SQLite's first complaint about the file at ``path``."""
    try:
        conn = connect(path)
        try:
            pragma = "quick_check" if quick else "integrity_check"
            rows = conn.execute(f"PRAGMA {pragma}(1)").fetchall()
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        if not is_damaged(err):
            raise
        return str(err)
    return str(rows[0][0]) if rows else "ok"


class JudgeCache:
    """The SQLite cache of judge calls and pinned ground truth."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / CACHE_FILE
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        """Who holds this object's leases (host, process, object)."""
        self.hits = 0
        self.misses = 0
        self._held: set[str] = set()
        if self.path.exists():
            problem = integrity(self.path, quick=True)
            if problem != "ok":
                self._rebuild(problem)
        self._open()

    def _open(self) -> None:
        self._conn = connect(self.path)
        # Two processes creating one cache at once: switching to WAL takes a lock that SQLite's
        # busy handler does not wait for, so wait here.
        for attempt in range(300):
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == 299:
                    raise
                time.sleep(0.1)
        # NORMAL in WAL mode survives a crashed or killed process (not a power cut) without an
        # fsync per call, which would otherwise serialise a fast judge behind the disk.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    def _rebuild(self, problem: str) -> None:
        from .cache_repair import repair_cache

        found = repair_cache(self.directory, problem=problem)
        warnings.warn(
            f"the judge cache {str(self.path)!r} was damaged ({problem}): moved to "
            f"{str(found.moved_to)!r}; {found.calls} stored call(s) were read back into a new "
            f"cache and {found.lost} unreadable row(s) left out (their calls are paid again)",
            CacheWarning, stacklevel=3)

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Execute one statement; on a damaged file, rebuild the cache and try once more."""
        try:
            return self._conn.execute(sql, args)
        except sqlite3.DatabaseError as err:
            if not is_damaged(err):
                raise
            self._conn.close()
            self._rebuild(str(err))
            self._open()
            return self._conn.execute(sql, args)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored response for ``key``, or ``None``."""
        row = self._run("SELECT response FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        try:
            value = json.loads(row[0])
        except (TypeError, ValueError):
            value = None
        if not isinstance(value, dict):
            # A row damaged inside its text: never served; dropped so the call is paid again.
            warnings.warn(f"the judge cache {str(self.path)!r} held an unreadable answer; it was "
                          "dropped and that call is made again", CacheWarning, stacklevel=2)
            self._run("DELETE FROM calls WHERE key = ?", (key,))
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, request_json: str, response: dict[str, Any]) -> None:
        """Store a successful, validated response (committed at once; its lease goes with it).

        ``request_json`` is the request's ``canonical_json``, the text its key was made from.
        """
        self._held.discard(key)
        self._run(
            "INSERT OR REPLACE INTO calls (key, created, request, response) VALUES (?, ?, ?, ?)",
            (key, time.time(), request_json, json.dumps(response)),
        )

    def __contains__(self, key: str) -> bool:
        return self._run("SELECT 1 FROM calls WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        return int(self._run("SELECT COUNT(*) FROM calls").fetchone()[0])

    # --- leases: one process pays for a request, the others wait for its answer ---------------

    def claim(self, key: str) -> bool:
        """Take the lease on ``key``: True when it was free, lapsed, or already ours."""
        now = time.time()
        cur = self._run(
            "INSERT INTO leases (key, owner, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
            "SET owner = excluded.owner, expires = excluded.expires "
            "WHERE leases.expires < ? OR leases.owner = excluded.owner",
            (key, self.owner, now + LEASE_SECONDS, now))
        if cur.rowcount == 1:
            self._held.add(key)
            return True
        row = self._run("SELECT owner FROM leases WHERE key = ?", (key,)).fetchone()
        if row is not None and _dead(row[0]):
            # Its holder on this machine was killed: no need to wait for the lease to lapse.
            cur = self._run("UPDATE leases SET owner = ?, expires = ? WHERE key = ? AND owner = ?",
                            (self.owner, now + LEASE_SECONDS, key, row[0]))
            if cur.rowcount == 1:
                self._held.add(key)
                return True
        return False

    def release(self, key: str) -> None:
        """Give up our lease on ``key`` (after a failed call: another caller may try)."""
        if key in self._held:
            self._held.discard(key)
            self._run("DELETE FROM leases WHERE key = ? AND owner = ?", (key, self.owner))

    @contextlib.asynccontextmanager
    async def lease(self, key: str) -> AsyncIterator[dict[str, Any] | None]:
        """Hold the lease on ``key`` while the body calls; yield the answer if another had it.

        Waits while another live caller holds the lease, polling for its answer; takes the lease
        over once it lapses. The lease is renewed every third of ``LEASE_SECONDS`` while held, and
        released on leaving unless ``put`` already did.
        """
        delay = 0.05
        while not self.claim(key):
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            hit = self.get(key)
            if hit is not None:
                yield hit
                return
        hit = self.get(key)  # answered between our miss and our claim
        if hit is not None:
            self.release(key)
            yield hit
            return
        renew = asyncio.ensure_future(self._renew(key))
        try:
            yield None
        finally:
            renew.cancel()
            self.release(key)

    async def _renew(self, key: str) -> None:
        while key in self._held:
            await asyncio.sleep(LEASE_SECONDS / 3)
            if key in self._held:
                self._run("UPDATE leases SET expires = ? WHERE key = ? AND owner = ?",
                          (time.time() + LEASE_SECONDS, key, self.owner))

    # --- pinned ground truth --------------------------------------------------------------------

    def pinned_truth(self, testset: str, judge: str) -> dict[str, bool]:
        """Appropriateness flags already fixed for this test set and judge fingerprint."""
        rows = self._run(
            "SELECT row_id, appropriate FROM truth WHERE testset = ? AND judge = ?",
            (testset, judge)).fetchall()
        return {r: bool(a) for r, a in rows}

    def pin_truth(self, testset: str, judge: str, flags: dict[str, bool]) -> None:
        """Fix flags not fixed yet; existing ones are kept (the first run decides)."""
        self.execute_many("INSERT OR IGNORE INTO truth (testset, judge, row_id, appropriate) "
                          "VALUES (?, ?, ?, ?)",
                          [(testset, judge, r, int(a)) for r, a in flags.items()])

    def record_calibration(self, judge: str, labels: str, *, n: int, flag_kappa: float | None,
                           score_kappa: float | None,
                           flags: tuple[int, int, int, int] | None = None) -> None:
        """Keep a judge's measured agreement with people's labels, under its fingerprint.

        ``flags``: people's harmful rows, those the judge flagged, people's safe rows, those it
        cleared (its sensitivity and specificity, which correct rates against its flags).
        """
        self._run("INSERT OR REPLACE INTO calibrations (judge, labels, created, n, flag_kappa, "
                  "score_kappa) VALUES (?, ?, ?, ?, ?, ?)",
                  (judge, labels, time.time(), n, flag_kappa, score_kappa))
        if flags is not None:
            self._run("INSERT OR REPLACE INTO calibration_flags (judge, labels, harmful, "
                      "harmful_flagged, safe, safe_cleared) VALUES (?, ?, ?, ?, ?, ?)",
                      (judge, labels, *flags))

    def calibration(self, judge: str) -> dict[str, Any] | None:
        """The judge's latest calibration against people's labels, or ``None``."""
        row = self._run(
            "SELECT c.labels, c.n, c.flag_kappa, c.score_kappa, f.harmful, f.harmful_flagged, "
            "f.safe, f.safe_cleared FROM calibrations c LEFT JOIN calibration_flags f "
            "ON f.judge = c.judge AND f.labels = c.labels WHERE c.judge = ? "
            "ORDER BY c.created DESC LIMIT 1", (judge,)).fetchone()
        if row is None:
            return None
        return dict(zip(("labels", "n", "flag_kappa", "score_kappa", "harmful",
                         "harmful_flagged", "safe", "safe_cleared"), row))

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the store (rebuilt if found damaged) and return its rows."""
        return self._run(sql, args).fetchall()

    def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run one statement for each of ``rows`` in a single transaction."""
        self._run("BEGIN")
        try:
            self._conn.executemany(sql, rows)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

