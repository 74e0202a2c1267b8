"""``EvalConfig``: every option of an evaluation in one validated object.

The CLI maps its flags onto these fields and ``--config eval.toml`` supplies defaults, so Python
and the command line run the same evaluation from the same settings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError
from .policy import DecisionPolicy
from .protocol import Resampling

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["EvalConfig"]


class EvalConfig(BaseModel):
    """Options of one evaluation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    judge: str | list[str] = "reference"
    """Judge spec: ``reference`` (offline heuristic) or ``backend/model``; a list of specs is a
    panel (each row judged by each; majority flag, median scores, plurality category)."""
    safety_truth: Literal["auto", "dataset", "judge"] = "auto"
    """Where safety truth comes from; ``auto`` uses dataset labels when every row has one."""
    seed: int = 0
    """Seed of every bootstrap."""
    n_resamples: int = Field(10_000, ge=0)
    """Bootstrap resamples (0 skips intervals)."""
    ci_method: Literal["studentized", "percentile", "bca"] = "studentized"
    """Bootstrap interval of the quality metrics (rates and F-scores have their own methods)."""
    confidence: float = Field(0.95, gt=0, lt=1)
    beta: float = Field(2.0, gt=0)
    """F-beta weight on the refusal class: > 1 weighs missed harmful rows more."""
    lowest_k: int = Field(5, ge=0)
    """How many lowest-quality rows to list as edge cases."""
    max_judge_error_rate: float = Field(0.05, ge=0, le=1)
    """Fail the run when more rows than this share get no valid verdict."""
    concurrency: int = Field(16, ge=1)
    """Judge calls in flight at once."""
    cache_dir: Path | None = None
    """Judge cache folder (default: the user cache directory)."""
    use_cache: bool = True
    """Read and write the judge cache."""
    guard: str | None = None
    """Judge spec of an input guardrail: rows it flags get ``[]`` instead of the model's answer."""
    max_cost: float | None = Field(None, ge=0)
    """Stop before (projected) or during (actual) a run whose judge cost exceeds this, in USD."""
    judge_max_tokens: int | None = Field(None, ge=1)
    """Cap on an LLM judge's answer tokens (default: the backend's; a local ``hf/`` judge derives
    it from each row's answer schema)."""
    judge_repeats: int = Field(1, ge=1, le=7)
    """Judge each row this many times with one sampling judge (a panel of its samplings), so
    comparisons resample the judge's own noise with the rows; 1 judges once."""
    judge_temperature: float | None = Field(None, ge=0)
    """Sampling temperature of an API judge (default 0; 1 when ``judge_repeats`` is above 1, the
    model's own distribution, which is the noise repeats measure)."""
    timeout: float = Field(60.0, gt=0)
    """Seconds one judge request may take before it counts as failed (LLM judges)."""
    retries: int = Field(6, ge=0)
    """Retries of a failed judge request: 429, 5xx and connection errors with backoff; a request
    that timed out is retried at most twice."""
    deadline: float | None = Field(None, gt=0)
    """Seconds judging may take in all; past it the run stops, and a rerun resumes from the
    cache."""
    min_judge_kappa: float = Field(0.6, ge=-1, le=1)
    """Weighted kappa on the rubric scores, against people's labels, a judge needs to count as
    calibrated: 0.6 is where Landis and Koch's "substantial" agreement begins, the usual bar for
    treating two raters' scores as interchangeable. Below it (or unmeasured), a comparison says
    its quality claims rest on an unvalidated judge."""
    batch: bool = False
    """Send the judge's uncached calls as provider batch jobs (openai, anthropic): half the
    price, no rate limits, results within 24 hours; a rerun resumes the same jobs."""
    batch_poll: float = Field(30.0, gt=0)
    """Seconds between checks on running batch jobs."""
    policy: DecisionPolicy = Field(default_factory=DecisionPolicy)
    """The decision policy comparisons of these results follow (``[eval.policy]`` in TOML)."""

    def judge_options(self, spec: object, *, answer_cap: bool = True) -> dict[str, Any]:
        """Options for ``get_judge(spec, ...)`` from these settings.

        ``answer_cap``: include ``judge_max_tokens`` (the guard judges no names: it has none).
        """
        options: dict[str, Any] = {"cache_dir": self.cache_dir, "use_cache": self.use_cache}
        backend = spec.partition("/")[0] if isinstance(spec, str) else None
        if backend in ("openai", "anthropic"):
            options["timeout"] = self.timeout
            if self.judge_temperature is not None:
                options["temperature"] = self.judge_temperature
            elif self.judge_repeats > 1:
                options["temperature"] = 1.0
        if backend in ("openai", "anthropic", "hf"):
            options["max_retries"] = self.retries
        if answer_cap and self.judge_max_tokens is not None:
            if not isinstance(spec, str) or "/" not in spec:
                raise ConfigError(f"judge_max_tokens (--judge-max-tokens) applies to an LLM judge "
                                  f"('backend/model'), not to {spec!r}")
            options["max_tokens"] = self.judge_max_tokens
        return options

    @property
    def resampling(self) -> Resampling:
        """The resampling settings these options describe."""
        return Resampling(n_resamples=self.n_resamples, seed=self.seed, method=self.ci_method,
                          confidence=self.confidence)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> EvalConfig:
        """Load defaults from a TOML file (top level or an ``[eval]`` table), then apply overrides."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise ConfigError(f"config file {str(p)!r} does not exist") from err
        except IsADirectoryError as err:
            raise ConfigError(f"config file {str(p)!r} is a folder, not a TOML file") from err
        except UnicodeDecodeError as err:
            line = p.read_bytes()[: err.start].count(b"\n") + 1
            raise ConfigError(f"{p}:{line}: not UTF-8 (byte {err.object[err.start]:#04x}); "
                              "re-save the file as UTF-8") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{p}: not valid TOML: {err}") from err
        table = data.get("eval", data)
        if "resamples" in table:
            # The command line's name for n_resamples is accepted in the file too.
            table = {**{k: v for k, v in table.items() if k != "resamples"},
                     "n_resamples": table["resamples"]}
        return cls.build(**{**table, **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def build(cls, **values: Any) -> EvalConfig:
        """Validate ``values`` into a config, turning pydantic errors into one ``ConfigError``."""
        try:
            return cls(**values)
        except ValidationError as err:
            msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            raise ConfigError(f"invalid evaluation option(s): {msgs}") from err
