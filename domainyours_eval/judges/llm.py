"""What every LLM judge shares: render, cache, call with retries, validate, count tokens and cost.

A backend (OpenAI, Anthropic, a local Hugging Face model) only turns a rendered prompt into answer
text and token counts, and maps its SDK's errors onto three kinds: transient (retried with jittered
exponential backoff, honouring Retry-After), authentication (stops the run, naming the environment
variable to set), and other request errors (not retried). ``LLMJudge`` does the rest, identically
for every backend. We own the retries: SDK clients are built with ``max_retries=0`` so the two
never multiply. An answer that fails validation is asked again a bounded number of times, then
raised as ``JudgeResponseError`` for the runner to record; it is never cached.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..cache import JudgeCache, canonical_json, request_key
from ..errors import CostLimitError, JudgeAuthError, JudgeError, JudgeResponseError
from ..protocol import JUDGING_VERSION
from ..types import JudgeInput, Judgment
from .base import fingerprint_of
from .prompt import PROMPT_FILE, RenderedPrompt, output_schema, parse_verdict, prompt_data, render_prompt

__all__ = [
    "DEFAULT_PRICES",
    "Backend",
    "Completion",
    "CostLimitError",
    "JudgeAuthError",
    "JudgeRequestError",
    "LLMJudge",
    "TransientJudgeError",
]

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    # USD per million input / output tokens, list prices; override with ``prices=``.
    "claude-opus-4-1": (15.0, 75.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
}
CACHE_READ_DISCOUNT = 0.1
"""Prompt-cache reads cost this share of the input price (both providers' list terms)."""


class TransientJudgeError(JudgeError):
    """A failure worth retrying: 408, 409, 429, 5xx, a connection error or a timeout."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 timed_out: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.timed_out = timed_out


DEFAULT_TIMEOUT = 60.0
"""Seconds one request may take (judges and API models under test)."""
DEFAULT_RETRIES = 6
"""Retries of a failed request (429, 5xx, connection errors, timeouts)."""
TIMEOUT_RETRIES = 2
"""Retries of a request that timed out: a server that hung three times will not answer a fourth."""


class JudgeRequestError(JudgeError):
    """The provider rejected the request itself (400, 404, 422): not retried."""


@dataclass(frozen=True)
class Completion:
    """A backend's raw answer."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)
    """``input_tokens``, ``output_tokens``, ``cache_read_tokens``, ``cache_write_tokens``."""


class Backend(Protocol):
    """Turns a rendered prompt into answer text; the SDK-specific part of a judge."""

    backend: str
    model: str

    @property
    def env_var(self) -> str | None:
        """Environment variable holding the API key (named in authentication errors)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Everything that changes answers: model, base URL, sampling, structured-output mode."""
        ...

    async def complete(self, prompt: RenderedPrompt, schema: dict[str, Any]) -> Completion:
        """Call the model once; raise the error kinds above on failure."""
        ...


Sleep = Callable[[float], Awaitable[None]]


class OwnedClient:
    """An SDK client that is either injected (the caller's) or made on first use (ours).

    Ours is closed by ``aclose`` at the end of each run: its connections belong to that run's
    event loop, and a judge object may serve several runs.
    """

    _client: Any = None
    _owns_client: bool = True

    def _make_client(self) -> Any:
        raise NotImplementedError

    @property
    def client(self) -> Any:
        """The SDK client."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    async def aclose(self) -> None:
        """Close the client we made."""
        if self._owns_client and self._client is not None:
            await self._client.close()
            self._client = None


class LLMJudge:
    """A judge backed by a language model, under the fixed prompt and protocol."""

    def __init__(
        self,
        backend: Backend,
        *,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        shuffle_seed: int = 0,
        max_attempts: int = 3,
        max_retries: int = DEFAULT_RETRIES,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        prices: dict[str, tuple[float, float]] | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.backend = backend
        self.name = f"{backend.backend}/{backend.model}"
        self.cache = JudgeCache(cache_dir) if use_cache else None
        self.shuffle_seed = shuffle_seed
        self.max_attempts = max_attempts
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.prices = {**DEFAULT_PRICES, **(prices or {})}
        self._sleep: Sleep = sleep or asyncio.sleep
        self.start_run()

    def start_run(self, *, max_cost: float | None = None) -> None:
        """Reset the per-run counters and set the run's spending limit.

        A judge object may serve several evaluations; the limit is checked before every call.
        """
        self.calls = 0
        self.cache_hits = 0
        self.usage = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
                      "cache_write_tokens": 0}
        self.spent = 0.0
        """Cost of this run's calls so far, in USD (0 when the price is unknown)."""
        self.max_cost: float | None = max_cost

    begin_run = start_run  # its former name

    @property
    def truth_store(self) -> JudgeCache | None:
        """The cache, which also pins this judge's flags per test set."""
        return self.cache

    @property
    def fingerprint(self) -> str:
        """sha256 over the prompt, schema, backend, model, sampling and protocol version."""
        return fingerprint_of({
            "prompt": prompt_data(), "prompt_file": PROMPT_FILE, "schema": output_schema(),
            "backend": self.backend.backend, "details": self.backend.describe(),
            "protocol": JUDGING_VERSION, "shuffle_seed": self.shuffle_seed,
        })

    @property
    def price(self) -> tuple[float, float] | None:
        """USD per million input and output tokens for this model, if known."""
        return self.prices.get(self.backend.model)

    def cost_of(self, usage: dict[str, int]) -> float:
        """USD cost of one call's usage (0 when the price is unknown)."""
        if self.price is None:
            return 0.0
        p_in, p_out = self.price
        return (usage.get("input_tokens", 0) * p_in
                + usage.get("cache_read_tokens", 0) * p_in * CACHE_READ_DISCOUNT
                + usage.get("cache_write_tokens", 0) * p_in * 1.25
                + usage.get("output_tokens", 0) * p_out) / 1e6

    def _request(self, prompt: RenderedPrompt) -> dict[str, Any]:
        return {"backend": self.backend.backend, "details": self.backend.describe(),
                "system": prompt.system, "user": prompt.user, "schema": output_schema(),
                "protocol": JUDGING_VERSION}

    def estimate_cost(self, items: Sequence[JudgeInput]) -> float | None:
        """Projected USD cost of judging ``items``, counting only calls not in the cache.

        A rough bound: four characters a token in, about 40 tokens out per name plus 60.
        ``None`` when the model's price is unknown.
        """
        if self.price is None:
            return None
        p_in, p_out = self.price
        total = 0.0
        for item in items:
            prompt = render_prompt(item, seed=self.shuffle_seed)
            if self.cache is not None and request_key(self._request(prompt)) in self.cache:
                continue
            tokens_in = (len(prompt.system) + len(prompt.user)) / 4
            tokens_out = 60 + 40 * len(item.domains)
            total += (tokens_in * p_in + tokens_out * p_out) / 1e6
        return total

    async def _call(self, prompt: RenderedPrompt) -> Completion:
        def count() -> None:
            self.calls += 1

        return await with_retries(lambda: self.backend.complete(prompt, output_schema()),
                                  name=self.name, max_retries=self.max_retries,
                                  backoff_base=self.backoff_base, backoff_max=self.backoff_max,
                                  sleep=self._sleep, on_attempt=count)

    async def judge(self, item: JudgeInput) -> Judgment:
        """Judge one row: from the cache when possible, else by calling the model."""
        prompt = render_prompt(item, seed=self.shuffle_seed)
        # One serialisation serves both the key and the stored request.
        request = canonical_json(self._request(prompt))
        key = request_key(request)
        if self.cache is None:
            return await self._judge_uncached(prompt, item, key, request)
        hit = self.cache.get(key)
        if hit is None:
            # Another process judging the same row pays once; this one waits for its answer.
            async with self.cache.lease(key) as hit:
                if hit is None:
                    return await self._judge_uncached(prompt, item, key, request)
        self.cache_hits += 1
        return parse_verdict(hit["text"], item)

    async def _judge_uncached(self, prompt: RenderedPrompt, item: JudgeInput, key: str,
                              request: str) -> Judgment:
        last: JudgeResponseError | None = None
        for _ in range(self.max_attempts):
            if self.max_cost is not None and self.spent > self.max_cost:
                raise CostLimitError(
                    f"{self.name}: spent ${self.spent:.4f}, over --max-cost ${self.max_cost:.4f}; "
                    "finished calls are cached, so a rerun with a higher limit resumes from here")
            completion = await self._call(prompt)
            for k, v in completion.usage.items():
                self.usage[k] = self.usage.get(k, 0) + v
            self.spent += self.cost_of(completion.usage)
            try:
                judgment = parse_verdict(completion.text, item)
            except JudgeResponseError as err:
                last = err
                continue
            if self.cache is not None:
                self.cache.put(key, request, {"text": completion.text, "usage": completion.usage})
            return judgment
        assert last is not None
        raise JudgeResponseError(f"{self.name}: no valid verdict after {self.max_attempts} "
                                 f"attempts: {last}", raw=last.raw)

    async def aclose(self) -> None:
        """Release the backend's connections at the end of a run."""
        close = getattr(self.backend, "aclose", None)
        if close is not None:
            await close()

    def info(self) -> dict[str, Any]:
        """Run facts for results and reports: calls, cache hits, tokens, cost, details."""
        details = {k: str(v) for k, v in self.backend.describe().items()}
        details["shuffle_seed"] = str(self.shuffle_seed)
        return {"calls": self.calls, "cache_hits": self.cache_hits, "usage": dict(self.usage),
                "cost_usd": None if self.price is None else round(self.spent, 6),
                "details": details}


T = TypeVar("T")


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    name: str,
    max_retries: int,
    backoff_base: float = 1.0,
    backoff_max: float = 60.0,
    sleep: Sleep | None = None,
    on_attempt: Callable[[], None] | None = None,
) -> T:
    """Run ``call``, retrying ``TransientJudgeError`` with jittered exponential backoff.

    The delay doubles from ``backoff_base`` up to ``backoff_max``, drawn from its upper half, and
    is never shorter than the provider's Retry-After. A timed-out request is retried at most
    ``TIMEOUT_RETRIES`` times, within ``max_retries``. Other errors pass straight through.
    """
    pause = sleep or asyncio.sleep
    attempt = timeouts = 0
    while True:
        try:
            if on_attempt is not None:
                on_attempt()
            return await call()
        except TransientJudgeError as err:
            timeouts += err.timed_out
            if attempt >= max_retries or timeouts > TIMEOUT_RETRIES:
                raise JudgeError(f"{name}: giving up after {attempt + 1} attempts: {err}") from err
            delay = min(backoff_max, backoff_base * 2**attempt) * random.uniform(0.5, 1.0)
            if err.retry_after is not None:
                delay = max(delay, err.retry_after)
            attempt += 1
            await pause(delay)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        import datetime as _dt

        return max(0.0, (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds())


def map_sdk_error(err: Exception, sdk: Any, *, name: str, env_var: str | None) -> JudgeError:
    """Turn an ``openai``/``anthropic`` SDK exception into our retry classes.

    Both SDKs share the class names used here. Messages carry the status and the provider's
    error text, never request headers, so no key can leak through them.
    """
    if isinstance(err, sdk.APITimeoutError):
        return TransientJudgeError(f"{name}: no answer within the request timeout",
                                   timed_out=True)
    if isinstance(err, sdk.APIConnectionError):
        return TransientJudgeError(f"{name}: connection failed: {err}")
    if isinstance(err, sdk.APIStatusError):
        code = err.status_code
        if code in (401, 403):
            hint = f"Set {env_var} to a valid key." if env_var else "Check the server's credentials."
            return JudgeAuthError(f"{name}: the provider refused the credentials (HTTP {code}). {hint}")
        if code in (408, 409, 429) or code >= 500:
            return TransientJudgeError(f"{name}: HTTP {code}: {err.message}",
                                       retry_after=retry_after_seconds(err.response.headers))
        return JudgeRequestError(f"{name}: HTTP {code}: {err.message}")
    return JudgeRequestError(f"{name}: {type(err).__name__}: {err}")
