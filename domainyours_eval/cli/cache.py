"""``cache check`` and ``cache repair``."""

from __future__ import annotations

from typing import Any

import typer

from .app import (
    CacheDirOpt,
    app,
    expected_errors,
    make_console,
)

cache_app = typer.Typer(help="Check or repair the judge cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _print_check(found: Any) -> None:
    console = make_console()
    if found.ok and not found.path.exists():
        console.print(f"{found.path}: no cache yet", markup=False, highlight=False)
        return
    if found.ok:
        console.print(f"{found.path}: ok, {found.calls} stored call(s)", markup=False,
                      highlight=False)
        return
    line = f"{found.path}: damaged ({found.problem})"
    if found.moved_to is not None:
        line += (f"; moved to {found.moved_to}; {found.calls} call(s) read back into a new "
                 f"cache, {found.lost} unreadable row(s) left out")
    console.print(line, markup=False, highlight=False, soft_wrap=True)


@cache_app.command("check")
@expected_errors
def cache_check_cmd(cache_dir: CacheDirOpt = None) -> None:
    """Run SQLite's full integrity check on the cache; exit 0 when sound, 1 when damaged."""
    from ..cache_repair import check_cache

    found = check_cache(cache_dir)
    _print_check(found)
    if not found.ok:
        make_console().print("run `domainyours-eval cache repair` to rebuild it from what can be read",
                         markup=False, highlight=False)
        raise typer.Exit(1)


@cache_app.command("repair")
@expected_errors
def cache_repair_cmd(cache_dir: CacheDirOpt = None) -> None:
    """Rebuild a damaged cache from every row that can be read (the damaged file is kept)."""
    from ..cache_repair import repair_cache

    _print_check(repair_cache(cache_dir))
