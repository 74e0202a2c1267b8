"""Commands that run models and judges: ``evaluate`` and ``generate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .app import (
    AdapterOpt,
    BaseUrlOpt,
    BatchOpt,
    BatchPollOpt,
    CacheDirOpt,
    ConfigOpt,
    DeadlineOpt,
    DeviceOpt,
    DtypeOpt,
    JudgeMaxTokensOpt,
    JudgeRepeatsOpt,
    JudgesOpt,
    JudgeTemperatureOpt,
    LogprobsOpt,
    MaxCostOpt,
    MaxErrorRateOpt,
    MaxNewOpt,
    MethodOpt,
    NoCacheOpt,
    OverwriteOpt,
    ResamplesOpt,
    RetriesOpt,
    SeedOpt,
    TimeoutOpt,
    UseBatchOpt,
    app,
    expected_errors,
    is_local,
    load_config,
    make_console,
    model_options,
    out_file,
    out_folder,
)
from .display import Display


def _batched_generation(opts: dict[str, Any], poll: float | None, show: Display) -> int:
    """Set the model's options for batch jobs; return the rows per generate call (all of them).

    One job takes every row still to do; its answers are written when it ends.
    """
    from ..providers.batch import BatchSettings

    opts["batch"] = BatchSettings(poll=poll or 30.0, on_update=show.batch_jobs)
    return 1_000_000


@app.command("evaluate")
@expected_errors
def evaluate_cmd(
    testset: Annotated[Path, typer.Option(help="Test set (.csv, .jsonl or .json).")],
    out: Annotated[Path, typer.Option(help="Folder for results.json.")],
    predictions: Annotated[Path | None, typer.Option(
        help="Predictions JSONL: id/description + output/suggestions.")] = None,
    model: Annotated[str | None, typer.Option(
        help="Generate first with this model (hf/<path>, openai/<model>, anthropic/<model>); "
             "predictions go to OUT/predictions.jsonl and are reused on rerun.")] = None,
    adapter: AdapterOpt = None,
    batch_size: BatchOpt = 16,
    max_new_tokens: MaxNewOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    base_url: BaseUrlOpt = None,
    logprobs: LogprobsOpt = False,
    overwrite: OverwriteOpt = False,
    judge: JudgesOpt = None,
    safety_truth: Annotated[str | None, typer.Option(
        help=r"dataset, judge or auto (dataset when every row is labelled) "
             r"\[default: auto].")] = None,
    seed: SeedOpt = None,
    resamples: ResamplesOpt = None,
    ci_method: MethodOpt = None,
    name: Annotated[str | None, typer.Option(help="Checkpoint name in reports.")] = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    max_cost: MaxCostOpt = None,
    concurrency: Annotated[int | None, typer.Option(
        help=r"Judge calls in flight \[default: 16].")] = None,
    guard: Annotated[str | None, typer.Option(
        help="Input guardrail judge spec: rows it flags are answered with [].")] = None,
    judge_max_tokens: JudgeMaxTokensOpt = None,
    judge_repeats: JudgeRepeatsOpt = None,
    judge_temperature: JudgeTemperatureOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    deadline: DeadlineOpt = None,
    max_judge_error_rate: MaxErrorRateOpt = None,
    batch: UseBatchOpt = False,
    batch_poll: BatchPollOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Judge one checkpoint's predictions and write OUT/results.json."""
    from ..errors import ConfigError

    out_folder(out)
    console = make_console()
    judges = None if not judge else judge[0] if len(judge) == 1 else judge
    cfg = load_config(config, judge=judges, safety_truth=safety_truth, seed=seed,
                      n_resamples=resamples, ci_method=ci_method, cache_dir=cache_dir,
                      use_cache=False if no_cache else None, max_cost=max_cost,
                      concurrency=concurrency, guard=guard, judge_max_tokens=judge_max_tokens,
                      judge_repeats=judge_repeats, judge_temperature=judge_temperature,
                      timeout=timeout, retries=retries, deadline=deadline,
                      max_judge_error_rate=max_judge_error_rate, batch=batch or None,
                      batch_poll=batch_poll)
    if (predictions is None) == (model is None):
        raise ConfigError("give exactly one of --predictions FILE or --model SPEC")
    from ..runner import evaluate

    if model is not None:
        opts = model_options(model, adapter=adapter, max_new_tokens=max_new_tokens,
                             device=device, dtype=dtype, base_url=base_url, logprobs=logprobs,
                             timeout=None if is_local(model) else timeout,
                             retries=None if is_local(model) else retries)
        written = out / "predictions.jsonl"
        hint = (f"every finished batch is saved in {written} and finished judge calls are "
                "cached; run the same command again to resume")
        with Display(console, hint) as show:
            if batch and not is_local(model):
                # The model's answers go as one batch job too, before the judge's.
                batch_size = _batched_generation(opts, batch_poll, show)
            # One path for every model input: the guard screens first, the model never sees
            # what it blocks.
            res = evaluate(model, testset, config=cfg, model_name=name or model,
                           predictions_out=written, progress=show.judging(name or model),
                           on_batch=show.batch_jobs,
                           generate_options={"batch_size": batch_size, "overwrite": overwrite,
                                             "progress": show.generated,
                                             "on_stage": show.stage, **opts})
    else:
        assert predictions is not None
        label = name or Path(predictions).stem
        hint = ("submitted batch jobs are recorded and finished judge calls are cached; run the "
                "same command again to resume" if cfg.batch else
                "finished judge calls are cached; run the same command again to resume")
        with Display(console, hint) as show:
            res = evaluate(predictions, testset, config=cfg, model_name=name,
                           progress=show.judging(label), on_batch=show.batch_jobs)
    path = res.save(out)
    console.print(res)
    console.print(f"wrote {path}", markup=False, highlight=False)


@app.command("generate")
@expected_errors
def generate_cmd(
    model: Annotated[str, typer.Option(
        help="Model spec: hf/<folder, hub id or .gguf>, openai/<model> or anthropic/<model> (the "
             "former hf:, openai:, anthropic: still work).")],
    testset: Annotated[Path, typer.Option(help="Test set (.csv, .jsonl or .json).")],
    out: Annotated[Path, typer.Option(help="Predictions JSONL (rows already there are kept).")],
    adapter: AdapterOpt = None,
    batch_size: BatchOpt = 16,
    max_new_tokens: MaxNewOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    base_url: BaseUrlOpt = None,
    logprobs: LogprobsOpt = False,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    overwrite: OverwriteOpt = False,
    batch: UseBatchOpt = False,
    batch_poll: BatchPollOpt = None,
) -> None:
    """Generate a model's answers to every test row into a resumable predictions file."""
    out_file(out)
    console = make_console()
    opts = model_options(model, adapter=adapter, max_new_tokens=max_new_tokens, device=device,
                         dtype=dtype, base_url=base_url, logprobs=logprobs, timeout=timeout,
                         retries=retries, batch=True if batch else None)
    from ..models import generate

    with Display(console, f"every finished batch is saved in {out}; run the same command "
                           "again to resume (rows already there are kept)") as show:
        if batch:
            batch_size = _batched_generation(opts, batch_poll, show)
        path = generate(model, testset, out, batch_size=batch_size, overwrite=overwrite,
                        progress=show.generated, on_stage=show.stage, **opts)
    console.print(f"wrote {path}", markup=False, highlight=False)
