"""``batches list``, ``batches status`` and ``batches cancel``: the batch jobs the store knows."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .app import BaseUrlOpt, CacheDirOpt, app, expected_errors, make_console

batches_app = typer.Typer(help="List, check or cancel provider batch jobs.", no_args_is_help=True)
app.add_typer(batches_app, name="batches")

IdArg = Annotated[str, typer.Argument(help="Batch job id (from `batches list`).")]


def _store(cache_dir: Path | None) -> Any:
    from ..cache import JudgeCache

    return JudgeCache(cache_dir)


def _record(store: Any, batch_id: str) -> dict[str, Any]:
    from ..errors import ConfigError
    from ..providers.batch import batch_records

    for rec in batch_records(store):
        if rec["id"] == batch_id:
            return rec
    raise ConfigError(f"no batch job {batch_id!r} in {store.path}; `domainyours-eval batches "
                      "list` shows the ones there")


def _provider(rec: dict[str, Any], base_url: str | None) -> Any:
    from ..providers import get_provider

    options: dict[str, Any] = {"role": "judge"}
    if rec["backend"] == "openai" and base_url:
        options["base_url"] = base_url
    return get_provider(f"{rec['backend']}/{rec['model']}", **options)


async def _ask(provider: Any, call: str, batch_id: str) -> Any:
    try:
        return await getattr(provider, call)(batch_id)
    finally:
        await provider.aclose()


@batches_app.command("list")
@expected_errors
def batches_list_cmd(cache_dir: CacheDirOpt = None) -> None:
    """Every batch job in the store, newest first, with its last known status."""
    from ..providers.batch import batch_records

    records = batch_records(_store(cache_dir))
    console = make_console()
    if not records:
        console.print("no batch jobs", markup=False, highlight=False)
        return
    table = Table()
    for col in ("id", "provider", "submitted (UTC)", "status", "lines"):
        table.add_column(col, justify="right" if col == "lines" else "left")
    for r in records:
        when = dt.datetime.fromtimestamp(r["created"], dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
        table.add_row(r["id"], f"{r['backend']}/{r['model']}", when, r["status"], str(r["lines"]))
    console.print(table)


@batches_app.command("status")
@expected_errors
def batches_status_cmd(batch_id: IdArg, cache_dir: CacheDirOpt = None,
                       base_url: BaseUrlOpt = None) -> None:
    """Ask the provider where a job stands (and record it)."""
    store = _store(cache_dir)
    rec = _record(store, batch_id)
    job = asyncio.run(_ask(_provider(rec, base_url), "batch_status", batch_id))
    store.execute("UPDATE batches SET status = ? WHERE id = ?", (job.status, batch_id))
    counts = ", ".join(f"{k} {v}" for k, v in job.counts.items())
    make_console().print(f"{batch_id}: {job.provider_status or job.status}"
                         f"{' (' + counts + ')' if counts else ''}", markup=False, highlight=False)


@batches_app.command("cancel")
@expected_errors
def batches_cancel_cmd(batch_id: IdArg, cache_dir: CacheDirOpt = None,
                       base_url: BaseUrlOpt = None) -> None:
    """Ask the provider to stop a job; a later run submits its unanswered rows afresh."""
    store = _store(cache_dir)
    rec = _record(store, batch_id)
    asyncio.run(_ask(_provider(rec, base_url), "batch_cancel", batch_id))
    store.execute("UPDATE batches SET status = 'cancelled' WHERE id = ?", (batch_id,))
    make_console().print(f"{batch_id}: cancel requested (lines already done stay billed)",
                         markup=False, highlight=False)
