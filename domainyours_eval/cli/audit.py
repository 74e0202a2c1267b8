"""``judge-audit``: order and length bias of an LLM judge, and a same-family warning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import (
    CacheDirOpt,
    JudgeMaxTokensOpt,
    NoCacheOpt,
    RetriesOpt,
    SeedOpt,
    TimeoutOpt,
    app,
    expected_errors,
    load_config,
    make_console,
    out_file,
    show_and_save,
)


@app.command("judge-audit")
@expected_errors
def judge_audit_cmd(
    judge: Annotated[str, typer.Option(help="LLM judge spec (backend/model).")],
    testset: Annotated[Path, typer.Option(help="Test set (.csv, .jsonl or .json).")],
    predictions: Annotated[Path | None, typer.Option(
        help="Audit on these answers (default: the test set's reference names).")] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples.")] = 2000,
    seed: SeedOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    judge_max_tokens: JudgeMaxTokensOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the findings as JSON.")] = None,
    results: Annotated[Path | None, typer.Option(
        help="Keep the findings in this run's results.json (same test set and judge).")] = None,
) -> None:
    """Judge every row again with its names reversed, relate scores to name length, warn on kin."""
    from ..audit import judge_audit

    out_file(json_out, "--json")
    cfg = load_config(None, seed=seed, cache_dir=cache_dir, use_cache=False if no_cache else None,
                      judge_max_tokens=judge_max_tokens, timeout=timeout, retries=retries)
    report = judge_audit(judge, testset, predictions=predictions, config=cfg,
                         n_resamples=resamples)
    show_and_save(report, json_out)
    if results is not None:
        from ..audit import attach_audit

        path = attach_audit(results, report, testset)
        make_console().print(f"kept the findings in {path}", markup=False, highlight=False)
