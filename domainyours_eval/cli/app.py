"""The ``domainyours-eval`` app: flags, option types and the helpers every command shares.

Commands stay thin: they parse flags into ``EvalConfig`` and call the public API. Expected errors
(bad files, unknown judges, incompatible results) print one message on stderr and exit 2, with no
traceback; unexpected ones keep theirs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from ..errors import DomainyoursError

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
        from ..__about__ import __version__

        print(f"domainyours-eval {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Evaluate domain-name-suggestion models: safety and quality with CIs, paired comparisons."""
    import warnings

    from ..cache import CacheWarning
    from ..errors import SpecDeprecationWarning

    default = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, (CacheWarning, SpecDeprecationWarning)):
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                Text.assemble(("warning:", "bold yellow"), " ", str(message)))
        else:
            default(message, category, *args, **kwargs)

    warnings.showwarning = show


def make_console() -> Console:
    """The console commands print to."""
    return Console()


def expected_errors(fn: F) -> F:
    """Print a ``DomainyoursError`` as one line on stderr and exit 2, without a traceback."""
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


JudgesOpt = Annotated[list[str] | None, typer.Option(
    "--judge", help="Judge spec: reference, openai/<model>, anthropic/<model> or hf/<path>; "
                    r"give it several times for a panel \[default: reference].")]
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
JudgeRepeatsOpt = Annotated[int | None, typer.Option(
    help="Judge each row this many times (2-7) with one sampling API judge, so comparisons "
         r"resample the judge's noise as well as the rows \[default: 1].")]
JudgeTemperatureOpt = Annotated[float | None, typer.Option(
    help=r"Sampling temperature of an API judge \[default: 0; 1 with --judge-repeats].")]
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


UseBatchOpt = Annotated[bool, typer.Option(
    "--batch", help="Send uncached calls as provider batch jobs (openai/, anthropic/): half the "
                    "price, results within 24 h; run the same command again to resume.")]
BatchPollOpt = Annotated[float | None, typer.Option(
    help=r"Seconds between checks on running batch jobs \[default: 30].")]
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


def model_options(spec: str, *, adapter: str | None, max_new_tokens: int | None,
                  device: str | None, dtype: str | None, base_url: str | None,
                  logprobs: bool, timeout: float | None = None,
                  retries: int | None = None, batch: Any = None) -> dict[str, Any]:
    """Constructor options for the model a spec names.

    An option that does not apply to that kind of model is an error, not silently ignored.
    """
    from ..errors import ConfigError

    local = {"--adapter": adapter, "--device": device, "--dtype": dtype}
    remote = {"--base-url": base_url, "--logprobs": logprobs or None, "--timeout": timeout,
              "--retries": retries, "--batch": batch}
    if is_local(spec):
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
        if batch is not None:
            opts["batch"] = batch
    if wrong:
        raise ConfigError(f"{', '.join(wrong)} do(es) not apply to {spec!r}")
    return opts


def is_local(spec: str) -> bool:
    """Whether a model spec names a local (``hf/``) model."""
    from ..models import split_model_spec

    return (split_model_spec(spec, warn=False) or ("",))[0] == "hf"


def show_and_save(report: Any, json_out: Path | None) -> None:
    """Print a report, and write it as JSON to ``json_out`` when given."""
    console = make_console()
    console.print(report)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(report.model_dump_json(indent=2), encoding="utf-8")
        console.print(f"wrote {json_out}", markup=False, highlight=False)


def load_config(config: Path | None, **flags: Any) -> Any:
    """``EvalConfig`` from the ``--config`` TOML (if any) with the flags given on top."""
    from ..config import EvalConfig

    overrides = {k: v for k, v in flags.items() if v is not None}
    if config is not None:
        return EvalConfig.from_toml(config, **overrides)
    return EvalConfig.build(**overrides)


def out_folder(path: Path, flag: str = "--out") -> Path:
    """An output folder, checked before any work: it may exist, but not as a file."""
    from ..errors import ConfigError

    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise ConfigError(f"{flag} {str(path)!r}: {str(p)!r} is a file; give a folder (it "
                              "is created if missing)")
    return path


def out_file(path: Path | None, flag: str = "--out") -> Path | None:
    """An output file, checked before any work: not a folder, under no file."""
    from ..errors import ConfigError

    if path is None:
        return None
    if path.is_dir():
        raise ConfigError(f"{flag} {str(path)!r} is a folder; give a file name")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"{flag} {str(path)!r}: {str(parent)!r} is a file, not a folder")
    return path


def policy_of(config: Path | None) -> Any:
    """The decision policy of a ``--config`` TOML (``[eval.policy]``), else the default."""
    from ..policy import DecisionPolicy

    return load_config(config).policy if config is not None else DecisionPolicy()
