"""``label export`` and ``label import``: a blind sheet for people, and their labels read back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import SeedOpt, app, expected_errors, make_console, out_file

label_app = typer.Typer(help="Have people label a sample, to validate a judge against.",
                        no_args_is_help=True)
app.add_typer(label_app, name="label")


@label_app.command("export")
@expected_errors
def label_export_cmd(
    results: Annotated[Path, typer.Option(help="An evaluation's results (folder or file).")],
    out: Annotated[Path, typer.Option(help="The sheet to write (CSV).")],
    n: Annotated[int, typer.Option("--n", help="Rows to sample.")] = 60,
    seed: SeedOpt = None,
    testset: Annotated[Path | None, typer.Option(
        help="Check the results were made on this test set.")] = None,
) -> None:
    """Write a blind, seeded, stratified sample of rows as a sheet to fill in."""
    from ..errors import ConfigError
    from ..labels import export_sheet
    from ..results import EvalResults
    from ..testsets import load_testset

    out_file(out)
    res = EvalResults.load(results)
    if testset is not None and load_testset(testset).sha256 != res.testset.sha256:
        raise ConfigError(f"{results} was evaluated on another test set than {testset}")
    path = export_sheet(res, out, n=n, seed=seed or 0)
    make_console().print(f"wrote {path}: fill in appropriate (yes/no) once per row, the five "
                         "1-5 scores and a category per name", markup=False, highlight=False)


@label_app.command("import")
@expected_errors
def label_import_cmd(
    sheet: Annotated[Path, typer.Argument(help="The filled sheet (CSV).")],
    out: Annotated[Path, typer.Option(help="The labels file to write (JSONL).")],
) -> None:
    """Check a filled sheet (every problem with its line and column) and save the labels."""
    from ..labels import import_sheet

    out_file(out)
    path = import_sheet(sheet, out)
    make_console().print(f"wrote {path}", markup=False, highlight=False)
