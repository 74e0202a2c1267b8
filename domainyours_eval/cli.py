"""The ``domainyours-eval`` command line: evaluate, compare, validate and the offline demo.

Commands stay thin: they parse flags into ``EvalConfig`` and call the public API. Expected errors
(bad files, unknown judges, incompatible results) print one message on stderr and exit 2, with no
traceback; unexpected ones keep theirs.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .errors import DomainyoursError

app = typer.Typer(
    name="domainyours-eval",
    help="Evaluate domain-name-suggestion models: safety and quality with CIs, paired comparisons.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 2


def _hide_flag_placeholders() -> None:
    # Typer's help shows a value placeholder ("<bool>") beside on/off flags, which take none.
    from typer.core import TyperOption

    show = getattr(TyperOption, "display_type_rich", None)
    if show is None or getattr(show, "_flags_hidden", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else show(self, ctx)

    display_type_rich._flags_hidden = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_hide_flag_placeholders()


def _version(value: bool) -> None:
    if value:
        from .__about__ import __version__

        print(f"domainyours-eval {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Evaluate domain-name-suggestion models: safety and quality with CIs, paired comparisons."""
    import warnings

    from .cache import CacheWarning
    from .errors import SpecDeprecationWarning

    default = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, (CacheWarning, SpecDeprecationWarning)):
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                Text.assemble(("warning:", "bold yellow"), " ", str(message)))
        else:
            default(message, category, *args, **kwargs)

    warnings.showwarning = show


def _console() -> Console:
    return Console()


def _expected_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DomainyoursError as err:
            # The message carries user data (paths, ids, "[field]"): never read as markup.
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                Text.assemble(("error:", "bold red"), " ", str(err)))
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper  # type: ignore[return-value]


JudgeOpt = Annotated[str | None, typer.Option(
    help="Judge spec: reference, openai/<model>, anthropic/<model> or hf/<path> "
         r"\[default: reference].")]
SeedOpt = Annotated[int | None, typer.Option(help=r"Bootstrap seed \[default: 0].")]
ResamplesOpt = Annotated[int | None, typer.Option(
    "--resamples", help=r"Bootstrap resamples; 0 skips intervals \[default: 10000].")]
MethodOpt = Annotated[str | None, typer.Option(
    "--ci-method", help=r"Quality intervals: studentized, percentile or bca "
                        r"\[default: studentized].")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML file of defaults.")]
FirstSeedOpt = Annotated[int | None, typer.Option(
    help=r"Resampling seed \[default: the first result's].")]
FirstResamplesOpt = Annotated[int | None, typer.Option(
    "--resamples", help=r"Resamples and posterior draws \[default: the first result's].")]
FirstMethodOpt = Annotated[str | None, typer.Option(
    "--ci-method", help=r"Quality intervals: studentized, percentile or bca "
                        r"\[default: the first result's].")]
CacheDirOpt = Annotated[Path | None, typer.Option(
    help=r"Judge cache folder \[default: the user cache directory, ~/.cache/domainyours-eval "
         "on Linux].")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the judge "
                                                             "cache.")]
IncumbentOpt = Annotated[str | None, typer.Option(
    help=r"Checkpoint in production that candidates must beat \[default: the first].")]
CostRatioOpt = Annotated[float | None, typer.Option(
    help=r"Cost of a missed harmful row relative to a false refusal \[default: 4].")]
AlphaOpt = Annotated[float | None, typer.Option(
    help=r"Familywise significance level of the verdict's tests \[default: 0.05].")]
JudgeMaxTokensOpt = Annotated[int | None, typer.Option(
    help=r"Cap on an LLM judge's answer tokens \[default: the backend's; hf/ judges derive it "
         "from each row's answer schema].")]
MaxCostOpt = Annotated[float | None, typer.Option(
    help="Stop (before any call when projected) if the judge would cost more, in USD "
         r"\[default: no limit].")]
TimeoutOpt = Annotated[float | None, typer.Option(
    help=r"Seconds one request may take (LLM judges; API models under test) \[default: 60].")]
RetriesOpt = Annotated[int | None, typer.Option(
    help="Retries of a failed request: 429, 5xx and connection errors with backoff; a timed-out "
         r"request at most twice \[default: 6].")]
DeadlineOpt = Annotated[float | None, typer.Option(
    help="Seconds judging may take in all; past it the run stops and a rerun resumes from the "
         r"cache \[default: none].")]
MaxErrorRateOpt = Annotated[float | None, typer.Option(
    help=r"Stop when more rows than this share get no valid verdict \[default: 0.05].")]


AdapterOpt = Annotated[str | None, typer.Option(help="PEFT/LoRA adapter folder (hf/ models).")]
BatchOpt = Annotated[int, typer.Option(help="Rows per generation batch.")]
MaxNewOpt = Annotated[int | None, typer.Option(
    help=r"Generation length limit in tokens \[default: 64 for hf/, 160 for API models].")]
DeviceOpt = Annotated[str | None, typer.Option(
    help=r"cuda, mps or cpu (hf/) \[default: the best available].")]
DtypeOpt = Annotated[str | None, typer.Option(
    help=r"float32, bfloat16 or float16 (hf/) \[default: the model's].")]
BaseUrlOpt = Annotated[str | None, typer.Option(
    help=r"OpenAI-compatible server for openai/ models \[default: OPENAI_BASE_URL].")]
LogprobsOpt = Annotated[bool, typer.Option(
    "--logprobs", help="Ask openai/ models for token log-probabilities (per-name confidence).")]
OverwriteOpt = Annotated[bool, typer.Option(
    "--overwrite", help="Discard existing predictions and generate every row again (without "
                        "it, rows are reused only from the same model and settings).")]


def _model_options(spec: str, *, adapter: str | None, max_new_tokens: int | None,
                   device: str | None, dtype: str | None, base_url: str | None,
                   logprobs: bool, timeout: float | None = None,
                   retries: int | None = None) -> dict[str, Any]:
    """Constructor options for the model a spec names.

    An option that does not apply to that kind of model is an error, not silently ignored.
    """
    from .errors import ConfigError

    local = {"--adapter": adapter, "--device": device, "--dtype": dtype}
    remote = {"--base-url": base_url, "--logprobs": logprobs or None, "--timeout": timeout,
              "--retries": retries}
    if _local(spec):
        wrong = [flag for flag, value in remote.items() if value is not None]
        opts: dict[str, Any] = {"adapter": adapter, "device": device, "dtype": dtype}
        if max_new_tokens is not None:
            opts["max_new_tokens"] = max_new_tokens
    else:
        wrong = [flag for flag, value in local.items() if value is not None]
        opts = {"base_url": base_url, "logprobs": logprobs}
        if max_new_tokens is not None:
            opts["max_tokens"] = max_new_tokens
        if timeout is not None:
            opts["timeout"] = timeout
        if retries is not None:
            opts["max_retries"] = retries
    if wrong:
        raise ConfigError(f"{', '.join(wrong)} do(es) not apply to {spec!r}")
    return opts


def _local(spec: str) -> bool:
    """Whether a model spec names a local (``hf/``) model."""
    from .models import split_model_spec

    return (split_model_spec(spec, warn=False) or ("",))[0] == "hf"


def _config(config: Path | None, **flags: Any) -> Any:
    from .config import EvalConfig

    overrides = {k: v for k, v in flags.items() if v is not None}
    if config is not None:
        return EvalConfig.from_toml(config, **overrides)
    return EvalConfig.build(**overrides)


def _out_folder(path: Path, flag: str = "--out") -> Path:
    """An output folder, checked before any work: it may exist, but not as a file."""
    from .errors import ConfigError

    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise ConfigError(f"{flag} {str(path)!r}: {str(p)!r} is a file; give a folder (it "
                              "is created if missing)")
    return path


def _out_file(path: Path | None, flag: str = "--out") -> Path | None:
    """An output file, checked before any work: not a folder, under no file."""
    from .errors import ConfigError

    if path is None:
        return None
    if path.is_dir():
        raise ConfigError(f"{flag} {str(path)!r} is a folder; give a file name")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"{flag} {str(path)!r}: {str(parent)!r} is a file, not a folder")
    return path


def _policy(config: Path | None) -> Any:
    """The decision policy of a ``--config`` TOML (``[eval.policy]``), else the default."""
    from .policy import DecisionPolicy

    return _config(config).policy if config is not None else DecisionPolicy()


class _Display:
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

    def __enter__(self) -> _Display:
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

    def judging(self, name: str) -> Callable[[int, int], None]:
        """A progress callback for judging ``name``'s rows."""
        def update(done: int, total: int) -> None:
            if self.bar is not None:
                self.bar.update(self._task(f"judge:{name}", f"judging {escape(name)}"),
                                completed=done, total=total)

        return update


@app.command("evaluate")
@_expected_errors
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
    judge: JudgeOpt = None,
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
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    deadline: DeadlineOpt = None,
    max_judge_error_rate: MaxErrorRateOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Judge one checkpoint's predictions and write OUT/results.json."""
    from .errors import ConfigError

    _out_folder(out)
    console = _console()
    cfg = _config(config, judge=judge, safety_truth=safety_truth, seed=seed,
                  n_resamples=resamples, ci_method=ci_method, cache_dir=cache_dir,
                  use_cache=False if no_cache else None, max_cost=max_cost,
                  concurrency=concurrency, guard=guard, judge_max_tokens=judge_max_tokens,
                  timeout=timeout, retries=retries, deadline=deadline,
                  max_judge_error_rate=max_judge_error_rate)
    if (predictions is None) == (model is None):
        raise ConfigError("give exactly one of --predictions FILE or --model SPEC")
    from .runner import evaluate

    if model is not None:
        opts = _model_options(model, adapter=adapter, max_new_tokens=max_new_tokens,
                              device=device, dtype=dtype, base_url=base_url, logprobs=logprobs,
                              timeout=None if _local(model) else timeout,
                              retries=None if _local(model) else retries)
        written = out / "predictions.jsonl"
        hint = (f"every finished batch is saved in {written} and finished judge calls are "
                "cached; run the same command again to resume")
        with _Display(console, hint) as show:
            # One path for every model input: the guard screens first, the model never sees
            # what it blocks.
            res = evaluate(model, testset, config=cfg, model_name=name or model,
                           predictions_out=written, progress=show.judging(name or model),
                           generate_options={"batch_size": batch_size, "overwrite": overwrite,
                                             "progress": show.generated,
                                             "on_stage": show.stage, **opts})
    else:
        assert predictions is not None
        label = name or Path(predictions).stem
        with _Display(console, "finished judge calls are cached; run the same command again "
                               "to resume") as show:
            res = evaluate(predictions, testset, config=cfg, model_name=name,
                           progress=show.judging(label))
    path = res.save(out)
    console.print(res)
    console.print(f"wrote {path}", markup=False, highlight=False)


@app.command("generate")
@_expected_errors
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
) -> None:
    """Generate a model's answers to every test row into a resumable predictions file."""
    _out_file(out)
    console = _console()
    opts = _model_options(model, adapter=adapter, max_new_tokens=max_new_tokens, device=device,
                          dtype=dtype, base_url=base_url, logprobs=logprobs, timeout=timeout,
                          retries=retries)
    from .models import generate

    with _Display(console, f"every finished batch is saved in {out}; run the same command "
                           "again to resume (rows already there are kept)") as show:
        path = generate(model, testset, out, batch_size=batch_size, overwrite=overwrite,
                        progress=show.generated, on_stage=show.stage, **opts)
    console.print(f"wrote {path}", markup=False, highlight=False)


@app.command("compare")
@_expected_errors
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
    config: ConfigOpt = None,
) -> None:
    """Paired comparison of checkpoints evaluated on the same test set, with a verdict."""
    from .comparison import compare

    _out_file(json_out, "--json")
    cmp = compare(*results, seed=seed, n_resamples=resamples, method=ci_method,
                  policy=_policy(config), incumbent=incumbent, cost_ratio=cost_ratio,
                  alpha=alpha, allow_different_judges=allow_different_judges)
    console = _console()
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
@_expected_errors
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
    from .comparison import compare
    from .errors import ConfigError
    from .reports.model import build_single_report
    from .results import EvalResults

    if fmt not in ("html", "md", "terminal"):
        raise ConfigError(f"--format must be html, md or terminal, got {fmt!r}")
    _out_file(out)
    if pairs not in ("all", "adjacent", "baseline"):
        raise ConfigError(f"--pairs must be all, adjacent or baseline, got {pairs!r}")
    if len(results) == 1 and _is_comparison(results[0]):
        from .comparison import Comparison

        report = Comparison.load(results[0]).report(max_rows=max_rows)
    elif len(results) == 1:
        report = build_single_report(EvalResults.load(results[0]), max_rows=max_rows)
    else:
        cmp = compare(*results, seed=seed, n_resamples=resamples, policy=_policy(config),
                      incumbent=incumbent, cost_ratio=cost_ratio, alpha=alpha,
                      allow_different_judges=allow_different_judges,
                      pairs=pairs)  # type: ignore[arg-type]
        report = cmp.report(max_rows=max_rows)
    console = _console()
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
@_expected_errors
def lm_eval_path_cmd(
    testset: Annotated[Path | None, typer.Option(help="Test set (default: the shipped one).")]
    = None,
) -> None:
    """Write the lm-eval `domainyours` task and print its folder (for --include_path)."""
    from .tasks import lm_eval_include_path

    print(lm_eval_include_path(testset))


@app.command("import-lm-eval")
@_expected_errors
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
    from .lm_eval_import import import_lm_eval_samples

    _out_folder(out)
    cfg = _config(None, judge=judge, n_resamples=resamples, seed=seed, cache_dir=cache_dir)
    res = import_lm_eval_samples(samples, out, config=cfg, name=name)
    console = _console()
    console.print(res)
    console.print(f"wrote {out / 'results.json'}", markup=False, highlight=False)


@app.command("validate")
@_expected_errors
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="Dataset to lint (.csv, .jsonl or .json), or "
                                              "with --testset a predictions file to check.")],
    testset: Annotated[Path | None, typer.Option(
        help="Check FILE as predictions for this test set: format, model, duplicates, unknown "
             "and missing rows.")] = None,
) -> None:
    """Lint a dataset, or check a predictions file; exit 0 when clean, 1 when not."""
    from rich.table import Table

    from .data import lint_rows, load_testset

    if testset is not None:
        _validate_predictions(file, load_testset(testset))
        return
    ts = load_testset(file)
    problems = lint_rows(ts)
    console = _console()
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

    from .data import read_predictions
    from .errors import DataError
    from .tasks.domain_suggestion import parse_output

    console = _console()
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
@_expected_errors
def judge_agreement_cmd(
    testset: Annotated[Path, typer.Option(help="Test set with labels.")],
    judge: Annotated[list[str], typer.Option(help="Judge spec; give it twice to compare two.")],
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
    """How far judges agree with the dataset labels and with each other (with CIs)."""
    from .agreement import judge_agreement

    _out_file(json_out, "--json")
    cfg = _config(None, seed=seed, cache_dir=cache_dir, use_cache=False if no_cache else None,
                  judge_max_tokens=judge_max_tokens, timeout=timeout, retries=retries)
    report = judge_agreement(testset, judge, predictions=predictions, config=cfg,
                             n_resamples=resamples)
    console = _console()
    console.print(report)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(report.model_dump_json(indent=2), encoding="utf-8")
        console.print(f"wrote {json_out}", markup=False, highlight=False)


@app.command("demo")
@_expected_errors
def demo_cmd(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("domainyours-demo"),
    resamples: ResamplesOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Offline demo: judge the shipped v1 and v2 predictions and compare them."""
    from .comparison import compare
    from .tasks import data_path

    _out_folder(out)
    console = _console()
    cfg = _config(None, seed=seed, n_resamples=resamples)
    testset = data_path("test_set.csv")
    results = []
    from .runner import evaluate

    for name in ("v1", "v2"):
        with _Display(console, "run the demo again") as show:
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


cache_app = typer.Typer(help="Check or repair the judge cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _print_check(found: Any) -> None:
    console = _console()
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
@_expected_errors
def cache_check_cmd(cache_dir: CacheDirOpt = None) -> None:
    """Run SQLite's full integrity check on the cache; exit 0 when sound, 1 when damaged."""
    from .cache import check_cache

    found = check_cache(cache_dir)
    _print_check(found)
    if not found.ok:
        _console().print("run `domainyours-eval cache repair` to rebuild it from what can be read",
                         markup=False, highlight=False)
        raise typer.Exit(1)


@cache_app.command("repair")
@_expected_errors
def cache_repair_cmd(cache_dir: CacheDirOpt = None) -> None:
    """Rebuild a damaged cache from every row that can be read (the damaged file is kept)."""
    from .cache import repair_cache

    _print_check(repair_cache(cache_dir))


def main() -> None:
    """Console-script entry point."""
    app(prog_name="domainyours-eval")


if __name__ == "__main__":  # pragma: no cover
    main()
