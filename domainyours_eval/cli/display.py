"""What long work shows while it runs: stages, a live bar on a terminal, one line each otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["Display"]


class Display:
    """What long work shows: its stages, a live bar on a terminal, one line each otherwise.

    Generation lines give counts, elapsed time and, once a batch is done, an estimate of what
    is left; judging shows a bar on a terminal. An interrupt says how to resume.
    """

    def __init__(self, console: Console, resume_hint: str) -> None:
        import time

        self.console, self.resume_hint = console, resume_hint
        self.clock = time.monotonic
        self.start = self.clock()
        # The estimate counts rows made since generation began (after loading), not kept ones.
        self.kept: int | None = None
        self.since = self.start
        self.batches = 0
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        self.batch_seen: dict[str, Any] = {}

    def __enter__(self) -> Display:
        if self.console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("left"),
                                TimeRemainingColumn(), console=self.console, transient=True)
            self.bar.__enter__()
        return self

    def __exit__(self, kind: Any, err: Any, tb: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, err, tb)
        if kind is KeyboardInterrupt:
            import warnings

            # Ctrl-C can land mid-way through building an event loop or a coroutine; what they
            # leave half-made is collected at exit with a traceback that is not the user's news.
            sys.unraisablehook = lambda _unraisable: None
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            self.console.print(f"interrupted: {self.resume_hint}", markup=False, highlight=False,
                               soft_wrap=True)
            raise typer.Exit(130)

    def _line(self, text: str) -> None:
        printer = self.bar.console if self.bar is not None else self.console
        printer.print(f"[{self.clock() - self.start:6.1f} s] {text}", markup=False,
                      highlight=False, soft_wrap=True)

    def stage(self, text: str) -> None:
        """One stage of generation: rows kept and to do, loading, the shared prefix."""
        self._line(text)
        if not self.batches:
            self.since = self.clock()
        if self.bar is not None and text.startswith("loading"):
            self._task("generate", escape(text))

    def _task(self, key: str, description: str) -> Any:
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(description, total=None)
        else:
            self.bar.update(self.tasks[key], description=description)
        return self.tasks[key]

    def generated(self, done: int, total: int) -> None:
        """Rows generated so far (the first call gives the rows kept from an earlier run)."""
        if self.bar is not None:
            self.bar.update(self._task("generate", "generating"), completed=done, total=total)
            return
        if self.kept is None:
            self.kept = done
            return
        self.batches += 1
        rate = (done - self.kept) / max(self.clock() - self.since, 1e-9)
        left = f", about {(total - done) / rate:.0f} s left" if rate > 0 and done < total else ""
        self._line(f"generated {done}/{total} rows{left}")

    def batch_jobs(self, jobs: list[Any], seconds: float) -> None:
        """One line per batch job whenever its status or counts change."""
        for job in jobs:
            seen = (job.provider_status, tuple(sorted(job.counts.items())))
            if self.batch_seen.get(job.id) == seen:
                continue
            self.batch_seen[job.id] = seen
            counts = ", ".join(f"{k} {v}" for k, v in job.counts.items())
            self._line(f"batch job {job.id}: {job.provider_status or job.status}"
                       f"{' (' + counts + ')' if counts else ''}, waited {seconds:.0f} s")

    def judging(self, name: str) -> Callable[[int, int], None]:
        """A progress callback for judging ``name``'s rows."""
        def update(done: int, total: int) -> None:
            if self.bar is not None:
                self.bar.update(self._task(f"judge:{name}", f"judging {escape(name)}"),
                                completed=done, total=total)

        return update
