"""Provider batch jobs: many calls submitted at once, at half the price, collected by id.

Calls a run still has to pay for queue up here; once no new ones arrive for a moment they go to
the provider as batch jobs, split to its request and size limits. Each job's id and the
``custom_id`` (the request's cache key) -> request mapping are stored in the SQLite store right
after submission, before the first poll, so a process killed while waiting resumes by polling the
same jobs: paid work is never submitted twice. Results are matched by ``custom_id``, never by
order. Lines that fail (or whose job failed, expired or was cancelled) go once more as a
follow-up job when there are many, else back to the caller, which calls directly with its usual
retries. The compromise: while jobs run nothing else is judged, and a second process batching
the same rows at the same moment may submit them too (the store records jobs only once made).
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ..errors import JudgeError, JudgeFatalError
from .base import ChatRequest, Completion, Provider

if TYPE_CHECKING:
    from ..cache import JudgeCache

__all__ = ["BATCH_DISCOUNT", "BatchJob", "BatchLineError", "BatchProvider", "BatchQueue",
           "BatchSettings", "Status", "batch_records", "line_json", "split_batches"]

BATCH_DISCOUNT = 0.5
"""Batch calls cost this share of the direct price (both providers' list terms)."""
Status = Literal["running", "ended", "failed", "expired", "cancelled"]
FINISHED = ("ended", "failed", "expired", "cancelled")
WITH_RESULTS = ("ended", "expired", "cancelled")
"""Finished states whose lines done before the end can still be read."""
Retry = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


class BatchLineError(JudgeError):
    """One line of a batch job failed, expired or was cancelled: the caller calls it directly."""


@dataclass(frozen=True)
class BatchJob:
    """A batch job as last seen."""

    id: str
    status: Status
    """``running`` until the provider is done with it; then ``ended`` (results to read),
    ``failed``, ``expired`` or ``cancelled``."""
    counts: dict[str, int] = field(default_factory=dict)
    """The provider's request counts (done, failed, ...), as it names them."""
    provider_status: str = ""
    """The provider's own word for the status (``validating``, ``finalizing``...)."""


@dataclass(frozen=True)
class BatchSettings:
    """How a run uses batch jobs."""

    poll: float = 30.0
    """Seconds between status checks."""
    on_update: Callable[[list[BatchJob], float], None] | None = None
    """Called after each round of checks with every job and the seconds since the first."""
    follow_up_over: int = 20
    """Failed lines beyond this many go as a follow-up job; fewer are called directly."""
    quiet: float = 0.05
    """Seconds with no new call that end the queue and submit it."""


@runtime_checkable
class BatchProvider(Protocol):
    """A provider that can also take calls as batch jobs."""

    backend: str
    model: str
    max_batch_requests: int
    """Most requests one job may hold."""
    max_batch_bytes: int
    """Largest job, in bytes of encoded requests."""

    def batch_line(self, custom_id: str, request: ChatRequest) -> str:
        """One request as the JSON the job carries (its size counts against the limit)."""
        ...

    async def batch_submit(self, lines: Sequence[str]) -> str:
        """Create a job from lines ``batch_line`` made; returns its id."""
        ...

    async def batch_status(self, batch_id: str) -> BatchJob:
        """Where a job stands."""
        ...

    async def batch_results(self, batch_id: str) -> dict[str, Completion | JudgeError]:
        """Each line's answer, or the error it met, by ``custom_id``."""
        ...

    async def batch_cancel(self, batch_id: str) -> None:
        """Ask the provider to stop a job (lines already done stay billed)."""
        ...


def split_batches(lines: Sequence[tuple[str, str]], *, max_requests: int, max_bytes: int
                  ) -> list[list[tuple[str, str]]]:
    """``(custom_id, line)`` pairs cut into jobs within both limits, in order."""
    jobs: list[list[tuple[str, str]]] = []
    size = 0
    for cid, line in lines:
        n = len(line.encode()) + 1
        if not jobs or len(jobs[-1]) >= max_requests or size + n > max_bytes:
            jobs.append([])
            size = 0
        jobs[-1].append((cid, line))
        size += n
    return jobs


def batch_records(store: JudgeCache) -> list[dict[str, Any]]:
    """Every job the store knows, newest first: id, backend, model, created, status, lines."""
    rows = store.execute("SELECT id, backend, model, created, status, n FROM batches "
                         "ORDER BY created DESC")
    return [{"id": i, "backend": b, "model": m, "created": c, "status": s, "lines": n}
            for i, b, m, c, s, n in rows]


@dataclass
class _Waiting:
    request: ChatRequest
    stored: str
    future: asyncio.Future[Completion]


class BatchQueue:
    """Collects one run's uncached calls and answers them through batch jobs."""

    def __init__(self, provider: Provider, store: JudgeCache, settings: BatchSettings, *,
                 retry: Retry, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        if not isinstance(provider, BatchProvider):
            from ..errors import ConfigError

            raise ConfigError(f"{provider.backend}/{provider.model} cannot take batch jobs; "
                              "batch mode needs the openai or anthropic provider")
        self.provider: BatchProvider = provider
        self.store = store
        self.settings = settings
        self._retry = retry
        self._sleep = sleep or asyncio.sleep
        self._waiting: dict[str, _Waiting] = {}
        self._flushing = False
        self.submitted = 0
        """Lines this queue sent in new jobs (not counting jobs resumed from the store)."""
        self.resumed = 0
        """Lines answered from jobs an earlier, interrupted run had submitted."""
        self.jobs: dict[str, BatchJob] = {}

    async def ask(self, custom_id: str, stored: str, request: ChatRequest) -> Completion:
        """The answer to ``request`` from a batch job; raises the line's error if it failed."""
        loop = asyncio.get_running_loop()
        waiting = self._waiting.get(custom_id)
        if waiting is None:
            waiting = self._waiting[custom_id] = _Waiting(request, stored, loop.create_future())
        if not self._flushing:
            self._flushing = True
            loop.create_task(self._flush())
        return await asyncio.shield(waiting.future)

    async def _flush(self) -> None:
        try:
            # Wait until the run stops adding calls, then send them all.
            seen = -1
            while seen != len(self._waiting):
                seen = len(self._waiting)
                await asyncio.sleep(self.settings.quiet)
            batch, self._waiting = self._waiting, {}
            try:
                await self._answer(batch)
            except BaseException as err:  # noqa: BLE001 - every waiting call gets it
                given: BaseException = err
                if isinstance(err, JudgeError) and not isinstance(err, JudgeFatalError):
                    # Submitting or polling failed past its retries: the whole run stops here;
                    # jobs already made are in the store, so a rerun resumes them.
                    given = JudgeFatalError(f"batch jobs could not be submitted or checked: {err}; "
                                            "jobs already submitted are recorded, and running the "
                                            "same command again resumes them")
                for w in batch.values():
                    if not w.future.done():
                        w.future.set_exception(given)
                if not isinstance(err, Exception):
                    raise
        finally:
            self._flushing = False
            if self._waiting:
                self._flushing = True
                asyncio.get_running_loop().create_task(self._flush())

    async def _answer(self, batch: dict[str, _Waiting]) -> None:
        todo = dict(batch)
        for round_ in range(2):
            earlier = self._earlier_jobs(list(todo)) if round_ == 0 else {}
            self.resumed += len(earlier)
            fresh = [cid for cid in todo if cid not in earlier]
            ids = sorted(set(earlier.values())) + await self._submit(
                [(cid, todo[cid]) for cid in fresh])
            results = await self._collect(ids)
            failed: dict[str, JudgeError] = {}
            for cid, w in todo.items():
                got = results.get(cid)
                if isinstance(got, Completion):
                    w.future.set_result(got)
                else:
                    failed[cid] = got or BatchLineError(
                        f"{self.provider.backend}/{self.provider.model}: no result for this "
                        "line in its batch job")
            todo = {cid: todo[cid] for cid in failed}
            if len(todo) <= self.settings.follow_up_over:
                break
        for cid, w in todo.items():
            if not w.future.done():
                w.future.set_exception(failed[cid])

    def _earlier_jobs(self, custom_ids: list[str]) -> dict[str, str]:
        """Jobs an interrupted run submitted for these calls, still worth polling."""
        found: dict[str, str] = {}
        for start in range(0, len(custom_ids), 500):
            part = custom_ids[start:start + 500]
            marks = ",".join("?" * len(part))
            rows = self.store.execute(
                f"SELECT i.custom_id, b.id FROM batch_items i JOIN batches b ON b.id = i.batch_id "
                f"WHERE i.custom_id IN ({marks}) AND b.backend = ? AND b.model = ? "
                "AND b.status IN ('running', 'ended') ORDER BY b.created",
                (*part, self.provider.backend, self.provider.model))
            found.update(dict(rows))
        return found

    async def _submit(self, items: list[tuple[str, _Waiting]]) -> list[str]:
        if not items:
            return []
        lines = [(cid, self.provider.batch_line(cid, w.request)) for cid, w in items]
        stored = {cid: w.stored for cid, w in items}
        ids = []
        for job in split_batches(lines, max_requests=self.provider.max_batch_requests,
                                 max_bytes=self.provider.max_batch_bytes):
            texts = [line for _, line in job]
            batch_id = await self._retry(functools.partial(self.provider.batch_submit, texts))
            # Recorded before the first poll: a killed run finds this job again.
            self.store.execute_many(
                "INSERT OR IGNORE INTO batch_items (custom_id, batch_id, request) VALUES (?, ?, ?)",
                [(cid, batch_id, stored[cid]) for cid, _ in job])
            self.store.execute(
                "INSERT OR REPLACE INTO batches (id, backend, model, created, status, n) "
                "VALUES (?, ?, ?, ?, 'running', ?)",
                (batch_id, self.provider.backend, self.provider.model, time.time(), len(job)))
            self.submitted += len(job)
            ids.append(batch_id)
        return ids

    async def _collect(self, ids: list[str]) -> dict[str, Completion | JudgeError]:
        start = time.monotonic()
        running = list(ids)
        while True:
            for batch_id in running:
                job = await self._retry(functools.partial(self.provider.batch_status, batch_id))
                self.jobs[batch_id] = job
                self.store.execute("UPDATE batches SET status = ? WHERE id = ?",
                                   (job.status, batch_id))
            running = [i for i in running if self.jobs[i].status not in FINISHED]
            if self.settings.on_update is not None:
                self.settings.on_update([self.jobs[i] for i in ids], time.monotonic() - start)
            if not running:
                break
            await self._sleep(self.settings.poll)
        results: dict[str, Completion | JudgeError] = {}
        for batch_id in ids:
            if self.jobs[batch_id].status in WITH_RESULTS:
                got_all = await self._retry(functools.partial(self.provider.batch_results, batch_id))
                for cid, got in got_all.items():
                    # A line answered in one job beats the same line failed in another.
                    if cid not in results or isinstance(got, Completion):
                        results[cid] = got
        return results


def line_json(value: dict[str, Any]) -> str:
    """Compact JSON for one batch line."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
