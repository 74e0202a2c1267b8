"""Commands that read what runs wrote: compare, report, validate, agreement, lm-eval glue, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from .app import (
    AlphaOpt,
    CacheDirOpt,
    ConfigOpt,
    CostRatioOpt,
    FirstMethodOpt,
    FirstResamplesOpt,
    FirstSeedOpt,
    IncumbentOpt,
    JudgeMaxTokensOpt,
    JudgeOpt,
    NoCacheOpt,
    ResamplesOpt,
    RetriesOpt,
    SeedOpt,
    TimeoutOpt,
    app,
    expected_errors,
    load_config,
    make_console,
    out_file,
    out_folder,
    policy_of,
    show_and_save,
)
from .display import Display


@app.command("compare")
@expected_errors
def compare_cmd(
    results: Annotated[list[Path], typer.Argument(help="Two or more result folders or files.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the comparison "
                                                     "as JSON here.")] = None,
    incumbent: IncumbentOpt = None,
    cost_ratio: CostRatioOpt = None,
    alpha: AlphaOpt = None,
    seed: FirstSeedOpt = None,
    resamples: FirstResamplesOpt = None,
    ci_method: FirstMethodOpt = None,
    allow_different_judges: Annotated[bool, typer.Option(
        help="Compare results judged by different judges (said in the report).")] = False,
    pairwise: Annotated[bool, typer.Option(
        "--pairwise", help="Also judge each candidate's names against the incumbent's side "
                           "by side, in both orders (needs --judge).")] = False,
    judge: Annotated[str | None, typer.Option(
        help="The judge for --pairwise (reference: its row scores decide).")] = None,
    cache_dir: CacheDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Paired comparison of checkpoints evaluated on the same test set, with a verdict."""
    from ..comparison import compare
    from ..errors import ConfigError

    out_file(json_out, "--json")
    if pairwise and judge is None:
        raise ConfigError("--pairwise needs --judge (the judge that compares the names)")
    if judge is not None and not pairwise:
        raise ConfigError("--judge applies to --pairwise only: compare reuses the results' own "
                          "judging")
    cfg = load_config(config, cache_dir=cache_dir)
    cmp = compare(*results, seed=seed, n_resamples=resamples, method=ci_method,
                  policy=policy_of(config), incumbent=incumbent, cost_ratio=cost_ratio,
                  alpha=alpha, allow_different_judges=allow_different_judges,
                  pairwise_judge=judge,
                  pairwise_options=None if judge is None else cfg.judge_options(judge))
    console = make_console()
    console.print(cmp)
    if json_out is not None:
        cmp.to_json(json_out)
        console.print(f"wrote {json_out}", markup=False, highlight=False)


def _is_comparison(path: Path) -> bool:
    """Whether ``path`` is a comparison JSON (``compare --json``) rather than results."""
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        return b'"domainyours-comparison/' in fh.read(200)


@app.command("report")
@expected_errors
def report_cmd(
    results: Annotated[list[Path], typer.Argument(
        help="One or more result folders or files, incumbent first; or one comparison JSON "
             "(compare --json), whose results files are read back.")],
    out: Annotated[Path | None, typer.Option(help="Write the report here (default: print).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, md or terminal.")] = "html",
    pairs: Annotated[str, typer.Option(
        help="Descriptive pairs besides the incumbent's: all, adjacent or baseline.")] = "all",
    max_rows: Annotated[int, typer.Option(help="Rows per edge-case list.")] = 50,
    incumbent: IncumbentOpt = None,
    cost_ratio: CostRatioOpt = None,
    alpha: AlphaOpt = None,
    resamples: FirstResamplesOpt = None,
    seed: FirstSeedOpt = None,
    allow_different_judges: Annotated[bool, typer.Option(
        help="Compare results judged by different judges (said in the report).")] = False,
    config: ConfigOpt = None,
) -> None:
    """Report of one checkpoint, or comparison of several: one HTML page, Markdown or terminal."""
    from ..comparison import compare
    from ..errors import ConfigError
    from ..reports.build import build_single_report
    from ..results import EvalResults

    if fmt not in ("html", "md", "terminal"):
        raise ConfigError(f"--format must be html, md or terminal, got {fmt!r}")
    out_file(out)
    if pairs not in ("all", "adjacent", "baseline"):
        raise ConfigError(f"--pairs must be all, adjacent or baseline, got {pairs!r}")
    if len(results) == 1 and _is_comparison(results[0]):
        from ..comparison import Comparison

        report = Comparison.load(results[0]).report(max_rows=max_rows)
    elif len(results) == 1:
        report = build_single_report(EvalResults.load(results[0]), max_rows=max_rows)
    else:
        cmp = compare(*results, seed=seed, n_resamples=resamples, policy=policy_of(config),
                      incumbent=incumbent, cost_ratio=cost_ratio, alpha=alpha,
                      allow_different_judges=allow_different_judges,
                      pairs=pairs)  # type: ignore[arg-type]
        report = cmp.report(max_rows=max_rows)
    console = make_console()
    if fmt == "terminal":
        console.print(report)
        return
    text = report.to_html() if fmt == "html" else report.to_markdown()
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}", markup=False, highlight=False)


@app.command("lm-eval-path")
@expected_errors
def lm_eval_path_cmd(
    testset: Annotated[Path | None, typer.Option(help="Test set (default: the shipped one).")]
    = None,
) -> None:
    """Write the lm-eval `domainyours` task and print its folder (for --include_path)."""
    from ..tasks import lm_eval_include_path

    print(lm_eval_include_path(testset))


def _show_imported(res: Any, out: Path) -> None:
    """An imported run's results, and where they were written."""
    console = make_console()
    console.print(res)
    console.print(f"wrote {out / 'results.json'}", markup=False, highlight=False)


@app.command("import-lm-eval")
@expected_errors
def import_lm_eval_cmd(
    samples: Annotated[Path, typer.Argument(help="lm-eval samples_domainyours_*.jsonl file.")],
    out: Annotated[Path, typer.Option(help="Folder for results.json.")],
    judge: JudgeOpt = None,
    name: Annotated[str | None, typer.Option(help="Checkpoint name in reports.")] = None,
    resamples: ResamplesOpt = None,
    seed: SeedOpt = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Judge an lm-eval --log_samples file under the protocol and write OUT/results.json."""
    from ..harness import import_lm_eval_samples

    out_folder(out)
    cfg = load_config(None, judge=judge, n_resamples=resamples, seed=seed, cache_dir=cache_dir)
    _show_imported(import_lm_eval_samples(samples, out, config=cfg, name=name), out)


@app.command("import-inspect")
@expected_errors
def import_inspect_cmd(
    log: Annotated[Path, typer.Argument(help="inspect log (.eval or .json) of the "
                                             "domainyours_eval/domainyours task.")],
    out: Annotated[Path, typer.Option(help="Folder for results.json.")],
    judge: JudgeOpt = None,
    name: Annotated[str | None, typer.Option(help="Checkpoint name in reports (default: the "
                                                  "log's model).")] = None,
    epoch: Annotated[int | None, typer.Option(help="The epoch to import, when the run had "
                                                   "several.")] = None,
    testset: Annotated[Path | None, typer.Option(help="Refuse the log unless it ran exactly "
                                                      "this test set.")] = None,
    resamples: ResamplesOpt = None,
    seed: SeedOpt = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Judge an inspect_ai run of the domainyours task under the protocol; write OUT/results.json."""
    from ..inspect_log import import_inspect_log

    out_folder(out)
    cfg = load_config(None, judge=judge, n_resamples=resamples, seed=seed, cache_dir=cache_dir)
    _show_imported(import_inspect_log(log, out, config=cfg, name=name, epoch=epoch,
                                      testset=testset), out)


@app.command("validate")
@expected_errors
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="Dataset to lint (.csv, .jsonl or .json), or "
                                              "with --testset a predictions file to check.")],
    testset: Annotated[Path | None, typer.Option(
        help="Check FILE as predictions for this test set: format, model, duplicates, unknown "
             "and missing rows.")] = None,
) -> None:
    """Lint a dataset, or check a predictions file; exit 0 when clean, 1 when not."""
    from rich.table import Table

    from ..data import lint_rows, load_testset

    if testset is not None:
        _validate_predictions(file, load_testset(testset))
        return
    ts = load_testset(file)
    problems = lint_rows(ts)
    console = make_console()
    refusals = sum(1 for r in ts.rows if r.harmful)
    table = Table(title=Text(f"{file}: {len(ts)} rows, {refusals} refusal rows"))
    table.add_column("slice")
    table.add_column("rows", justify="right")
    for tag, n in sorted(ts.slice_counts().items()):
        table.add_row(tag, str(n))
    console.print(table)
    for p in problems:
        # One unwrapped line per problem, whatever the terminal: "file:line [field]: message".
        console.print(str(p), markup=False, highlight=False, soft_wrap=True)
    if problems:
        console.print(f"[red]{len(problems)} problem(s)[/]")
        raise typer.Exit(1)
    console.print("[green]clean[/]")


def _validate_predictions(file: Path, ts: Any) -> None:
    """Every problem of a predictions file, one per line; then what the answers are."""
    from collections import Counter

    from rich.table import Table

    from ..data import read_predictions
    from ..errors import DataError
    from ..tasks.domain_suggestion import parse_output

    console = make_console()
    try:
        outputs, _ = read_predictions(file, ts)
    except DataError as err:
        if not file.is_file():
            raise
        for p in err.problems:
            console.print(str(p), markup=False, highlight=False, soft_wrap=True)
        console.print(f"[red]{len(err.problems)} problem(s)[/]")
        raise typer.Exit(1) from None
    parsed = [parse_output(o) for o in outputs]
    decisions = Counter(p.decision for p in parsed)
    violations = Counter(code for p in parsed for code in p.violation_codes)
    console.print(f"{file}: {len(parsed)} predictions, one for every row of {ts.name}",
                  markup=False, highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("answers")
    table.add_column("rows", justify="right")
    for name in ("allow", "refuse", "invalid"):
        table.add_row(name, str(decisions[name]))
    for code, n in violations.most_common():
        table.add_row(Text(f"violation: {code}"), str(n))
    console.print(table)
    console.print("[green]clean[/] (format violations and invalid answers are the model's, "
                  "scored by evaluate)")


@app.command("judge-agreement")
@expected_errors
def judge_agreement_cmd(
    judge: Annotated[list[str], typer.Option(help="Judge spec; give it twice to compare two.")],
    testset: Annotated[Path | None, typer.Option(
        help="Test set with labels (not needed with --labels).")] = None,
    labels: Annotated[Path | None, typer.Option(
        help="People's labels (`label import` writes them): measure each judge against them "
             "on the flag, the scores and the categories.")] = None,
    maintainer_labels: Annotated[bool, typer.Option(
        "--maintainer-labels", help="Measure against the shipped calibration set: 64 rows "
                                    "(300 names) the maintainers labelled by hand.")] = False,
    panel: Annotated[bool, typer.Option(
        "--panel", help="The judges given form one panel, measured as one (with --labels).")
    ] = False,
    predictions: Annotated[Path | None, typer.Option(
        help="Judge these answers instead of the test set's reference names.")] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples.")] = 2000,
    seed: SeedOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    judge_max_tokens: JudgeMaxTokensOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON.")] = None,
) -> None:
    """How far judges agree with the dataset labels, people's labels, each other (with CIs)."""
    from ..agreement import agreement_with_people, judge_agreement
    from ..errors import ConfigError

    out_file(json_out, "--json")
    cfg = load_config(None, seed=seed, cache_dir=cache_dir, use_cache=False if no_cache else None,
                      judge_max_tokens=judge_max_tokens, timeout=timeout, retries=retries)
    if maintainer_labels:
        if labels is not None:
            raise ConfigError("give --labels FILE or --maintainer-labels, not both")
        from ..tasks import data_path

        labels = data_path("maintainer_labels.jsonl")
    if panel and (labels is None or len(judge) < 2):
        raise ConfigError("--panel needs two or more --judge and people's labels (--labels or "
                          "--maintainer-labels)")
    if labels is not None:
        judges: list[Any] = [list(judge)] if panel else list(judge)
        report = agreement_with_people(labels, judges, config=cfg, n_resamples=resamples)
    elif testset is None:
        raise ConfigError("give --testset (agreement with its labels) or --labels (with people's)")
    else:
        report = judge_agreement(testset, judge, predictions=predictions, config=cfg,
                                 n_resamples=resamples)
    show_and_save(report, json_out)


@app.command("demo")
@expected_errors
def demo_cmd(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("domainyours-demo"),
    resamples: ResamplesOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Offline demo: judge the shipped v1 and v2 predictions and compare them."""
    from ..comparison import compare
    from ..tasks import data_path

    out_folder(out)
    console = make_console()
    cfg = load_config(None, seed=seed, n_resamples=resamples)
    testset = data_path("test_set.csv")
    results = []
    from ..runner import evaluate

    for name in ("v1", "v2"):
        with Display(console, "run the demo again") as show:
            res = evaluate(data_path(f"predictions_{name}.jsonl"), testset, config=cfg,
                           model_name=name, progress=show.judging(name))
        path = res.save(out / name)
        m = res.metrics
        console.print(f"{name}: quality {m.quality}, allow_f1 {m.allow_f1}, "
                      f"missed {res.confusion.missed_inappropriate}, "
                      f"false positives {res.confusion.false_positive_inappropriate} -> {path}",
                      highlight=False)
        results.append(res)
    cmp = compare(*results)
    console.print(cmp)
    cmp.to_json(out / "comparison.json")
    cmp.to_html(out / "report.html")
    console.print(f"wrote {out / 'comparison.json'} and {out / 'report.html'}", markup=False, highlight=False)
