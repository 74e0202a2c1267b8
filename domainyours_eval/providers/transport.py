"""What every provider call shares: the cache, retries with backoff, SDK error mapping, cost.

A ``Transport`` wraps one provider for one role. A request the cache holds is answered from it
(and another process paying for the same request is waited for, not doubled); otherwise the call
is retried on transient failures with jittered exponential backoff (honouring Retry-After), its
tokens and cost are counted, and the answer is stored only once the role has accepted it. We own
the retries: SDK clients are built with ``max_retries=0`` so the two never multiply. The role
says what identifies a request (its cache key) and what makes an answer acceptable; an answer it
refuses is asked again a bounded number of times, then raised, never stored.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..cache import JudgeCache, canonical_json, request_key
from ..errors import (
    ConfigError,
    CostLimitError,
    JudgeAuthError,
    JudgeError,
    JudgeRequestError,
    JudgeResponseError,
    TransientJudgeError,
)
from .base import ChatRequest, Completion, Provider
from .batch import BATCH_DISCOUNT, BatchLineError, BatchQueue, BatchSettings

__all__ = ["CACHE_READ_DISCOUNT", "DEFAULT_PRICES", "DEFAULT_RETRIES", "DEFAULT_TIMEOUT",
           "TIMEOUT_RETRIES", "Sleep", "Transport", "map_sdk_error", "retry_after_seconds",
           "with_retries"]

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
DEFAULT_TIMEOUT = 60.0
"""Seconds one request may take (judges and API models under test)."""
DEFAULT_RETRIES = 6
"""Retries of a failed request (429, 5xx, connection errors, timeouts)."""
TIMEOUT_RETRIES = 2
"""Retries of a request that timed out: a server that hung three times will not answer a fourth."""

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class Transport:
    """One provider's calls for one role: cache, leases, retries, token and cost accounting."""

    def __init__(self, provider: Provider, *, name: str, cache: JudgeCache | None,
                 max_retries: int = DEFAULT_RETRIES, backoff_base: float = 1.0,
                 backoff_max: float = 60.0, prices: dict[str, tuple[float, float]] | None = None,
                 sleep: Sleep | None = None) -> None:
        self.provider = provider
        self.name = name
        self.cache = cache
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.prices = {**DEFAULT_PRICES, **(prices or {})}
        self._sleep: Sleep = sleep or asyncio.sleep
        self.batches: BatchQueue | None = None
        """Set by ``use_batches``: uncached calls go to provider batch jobs."""
        self.start_run()

    def use_batches(self, settings: BatchSettings | None) -> None:
        """Send uncached calls as provider batch jobs (``None``: call directly again).

        Raises:
            ConfigError: The provider takes no batch jobs, or there is no cache to record them.
        """
        if settings is None:
            self.batches = None
            return
        if self.cache is None:
            raise ConfigError("batch mode records its jobs in the cache: drop --no-cache "
                              "(use_cache=False)")
        self.batches = BatchQueue(self.provider, self.cache, settings, retry=self._retry,
                                  sleep=self._sleep)

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        return await with_retries(call, name=self.name, max_retries=self.max_retries,
                                  backoff_base=self.backoff_base, backoff_max=self.backoff_max,
                                  sleep=self._sleep)

    def start_run(self, *, max_cost: float | None = None) -> None:
        """Reset the counters and set the spending limit, checked before every call."""
        self.calls = 0
        self.cache_hits = 0
        self.usage = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
                      "cache_write_tokens": 0}
        self.batch_lines = 0
        """Answers that came from batch jobs this run."""
        self.spent = 0.0
        """Cost of this run's calls so far, in USD (0 when the price is unknown)."""
        self.max_cost: float | None = max_cost

    @property
    def price(self) -> tuple[float, float] | None:
        """USD per million input and output tokens for this model, if known."""
        return self.prices.get(self.provider.model)

    def cost_of(self, usage: dict[str, int]) -> float:
        """USD cost of one call's usage (0 when the price is unknown)."""
        if self.price is None:
            return 0.0
        p_in, p_out = self.price
        return (usage.get("input_tokens", 0) * p_in
                + usage.get("cache_read_tokens", 0) * p_in * CACHE_READ_DISCOUNT
                + usage.get("cache_write_tokens", 0) * p_in * 1.25
                + usage.get("output_tokens", 0) * p_out) / 1e6

    def cached(self, key: dict[str, Any]) -> bool:
        """Whether the cache already answers the request identified by ``key``."""
        return self.cache is not None and request_key(key) in self.cache

    async def call(self, request: ChatRequest, *, key: dict[str, Any],
                   accept: Callable[[Completion], T], attempts: int = 1) -> T:
        """The accepted answer to ``request``: from the cache, else paid for and stored.

        Args:
            request: What to send.
            key: What identifies the request (model, settings, content); its canonical JSON is
                stored and its sha256 is the cache key.
            accept: Turns a completion into the role's value; raises ``JudgeResponseError`` for
                an answer that will not do.
            attempts: Calls to make before a refused answer is raised.
        """
        stored = canonical_json(key)
        digest = request_key(stored)
        if self.cache is None:
            return await self._paid(request, digest, stored, accept, attempts)
        hit = self.cache.get(digest)
        if hit is None and self.batches is not None:
            return await self._batched(request, digest, stored, accept, attempts)
        if hit is None:
            # Another process asking the same pays once; this one waits for its answer.
            async with self.cache.lease(digest) as hit:
                if hit is None:
                    return await self._paid(request, digest, stored, accept, attempts)
        self.cache_hits += 1
        return accept(Completion(text=str(hit["text"]), usage=dict(hit.get("usage") or {}),
                                 tokens=tuple((str(t), float(lp))
                                              for t, lp in hit.get("tokens") or ())))

    async def _paid(self, request: ChatRequest, digest: str, stored: str,
                    accept: Callable[[Completion], T], attempts: int) -> T:
        last: JudgeResponseError | None = None
        for _ in range(attempts):
            if self.max_cost is not None and self.spent > self.max_cost:
                raise CostLimitError(
                    f"{self.name}: spent ${self.spent:.4f}, over --max-cost ${self.max_cost:.4f}; "
                    "finished calls are cached, so a rerun with a higher limit resumes from here")
            completion = await self._retried(request)
            self._account(completion)
            try:
                value = accept(completion)
            except JudgeResponseError as err:
                last = err
                continue
            self._store(digest, stored, completion)
            return value
        assert last is not None
        raise JudgeResponseError(f"{self.name}: no valid verdict after {attempts} attempts: "
                                 f"{last}", raw=last.raw)

    async def _batched(self, request: ChatRequest, digest: str, stored: str,
                       accept: Callable[[Completion], T], attempts: int) -> T:
        assert self.batches is not None
        try:
            completion = await self.batches.ask(digest, stored, request)
        except BatchLineError:
            # A line its job could not answer: called directly, with the usual retries.
            return await self._paid(request, digest, stored, accept, attempts)
        self.batch_lines += 1
        self._account(completion, share=BATCH_DISCOUNT)
        try:
            value = accept(completion)
        except JudgeResponseError as err:
            if attempts > 1:
                return await self._paid(request, digest, stored, accept, attempts - 1)
            raise JudgeResponseError(f"{self.name}: no valid verdict after 1 attempt: {err}",
                                     raw=err.raw) from err
        self._store(digest, stored, completion)
        return value

    def _account(self, completion: Completion, *, share: float = 1.0) -> None:
        """Add a paid answer's tokens and cost (``share`` of the list price) to the run's."""
        for k, v in completion.usage.items():
            self.usage[k] = self.usage.get(k, 0) + v
        self.spent += self.cost_of(completion.usage) * share

    def _store(self, digest: str, stored: str, completion: Completion) -> None:
        if self.cache is not None:
            answer: dict[str, Any] = {"text": completion.text, "usage": completion.usage}
            if completion.tokens:
                answer["tokens"] = [list(t) for t in completion.tokens]
            self.cache.put(digest, stored, answer)

    async def _retried(self, request: ChatRequest) -> Completion:
        def count() -> None:
            self.calls += 1

        return await with_retries(lambda: self.provider.complete(request), name=self.name,
                                  max_retries=self.max_retries, backoff_base=self.backoff_base,
                                  backoff_max=self.backoff_max, sleep=self._sleep,
                                  on_attempt=count)


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
