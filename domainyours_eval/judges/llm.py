"""The judge role on top of any provider: render the row, ask, validate, pin the judge's identity.

A provider (``providers/``) turns a chat request into answer text; its ``Transport`` caches,
retries, counts tokens and cost the same way for every backend. ``LLMJudge`` adds what makes it a
judge: the fixed prompt and schema, a verdict that must validate (an answer that does not is asked
again a bounded number of times, then raised as ``JudgeResponseError`` for the runner to record;
it is never cached), and a fingerprint over everything that changes verdicts. Backends that
constrain decoding to a schema get each row's bounded schema and the token cap it implies.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cache import JudgeCache
from ..errors import CostLimitError, JudgeAuthError, JudgeRequestError, TransientJudgeError
from ..protocol import JUDGING_VERSION
from ..providers.base import ChatRequest, Completion, OwnedClient, Provider
from ..providers.batch import BATCH_DISCOUNT, BatchSettings
from ..providers.transport import (
    CACHE_READ_DISCOUNT,
    DEFAULT_PRICES,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    TIMEOUT_RETRIES,
    Sleep,
    Transport,
    map_sdk_error,
    retry_after_seconds,
    with_retries,
)
from ..types import JudgeInput, Judgment
from .base import fingerprint_of
from .pairwise import PAIRWISE_VERSION, Preference, parse_preference, render_pair
from .pairwise import SCHEMA as PAIRWISE_SCHEMA
from .pairwise import SYSTEM as PAIRWISE_SYSTEM
from .prompt import (
    PROMPT_FILE,
    RenderedPrompt,
    answer_token_cap,
    bounded_schema,
    output_schema,
    parse_verdict,
    prompt_data,
    render_prompt,
)

__all__ = [
    "CACHE_READ_DISCOUNT",
    "DEFAULT_PRICES",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "TIMEOUT_RETRIES",
    "Backend",
    "Completion",
    "CostLimitError",
    "JudgeAuthError",
    "JudgeRequestError",
    "LLMJudge",
    "OwnedClient",
    "TransientJudgeError",
    "map_sdk_error",
    "retry_after_seconds",
    "with_retries",
]

Backend = Provider
"""Former name of ``providers.Provider``."""


class LLMJudge:
    """A judge backed by a language model, under the fixed prompt and protocol.

    Besides the provider: the cache, the shuffle seed, attempts per row, retry backoff, prices,
    and ``bounded_reasons``: send each row's bounded schema (reasons up to this many characters)
    and its token cap, for providers that constrain decoding to a schema; ``reverse_order``:
    show the names in the reverse of the usual order (the order-bias audit); ``sample``: this
    judge is the n-th of several samplings of one judge (``--judge-repeats``): its calls are
    cached apart from the other samplings', and it must sample (temperature above 0).
    """

    def __init__(
        self,
        backend: Provider,
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
        bounded_reasons: int | None = None,
        reverse_order: bool = False,
        sample: int | None = None,
    ) -> None:
        self.provider = backend
        self.name = f"{backend.backend}/{backend.model}" + ("" if sample is None else f"#{sample}")
        self.sample = sample
        if sample is not None:
            temperature = backend.describe().get("temperature")
            if not isinstance(temperature, (int, float)) or temperature <= 0:
                from ..errors import ConfigError

                raise ConfigError(
                    f"{self.name}: repeated judging needs a judge that samples (temperature "
                    f"above 0, got {temperature!r}); a deterministic judge's repeats would agree "
                    "by construction")
        self.shuffle_seed = shuffle_seed
        self.max_attempts = max_attempts
        self.bounded_reasons = bounded_reasons
        self.reverse_order = reverse_order
        """Show each row's names in the reverse of the usual order (the order-bias audit)."""
        self.transport = Transport(backend, name=self.name,
                                   cache=JudgeCache(cache_dir) if use_cache else None,
                                   max_retries=max_retries, backoff_base=backoff_base,
                                   backoff_max=backoff_max, prices=prices, sleep=sleep)

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> LLMJudge:
        """A judge on any registered provider (``backend/model``), plug-ins included.

        Options this class takes (``cache_dir``, ``max_attempts``...) go to it; the rest go to the
        provider's factory, with ``role="judge"``.
        """
        import inspect

        from ..providers import get_provider

        mine = set(inspect.signature(cls.__init__).parameters) - {"self", "backend"}
        judge_options = {k: v for k, v in options.items() if k in mine}
        provider_options = {k: v for k, v in options.items() if k not in mine}
        return cls(get_provider(spec, role="judge", **provider_options), **judge_options)

    @property
    def backend(self) -> Provider:
        """The provider (its former name)."""
        return self.provider

    def start_run(self, *, max_cost: float | None = None) -> None:
        """Reset the per-run counters and set the run's spending limit.

        A judge object may serve several evaluations; the limit is checked before every call.
        """
        self.transport.start_run(max_cost=max_cost)

    begin_run = start_run  # its former name

    cache = property(lambda self: self.transport.cache, doc="The judge cache (or ``None``).")
    calls = property(lambda self: self.transport.calls, doc="Paid calls this run.")
    cache_hits = property(lambda self: self.transport.cache_hits, doc="Answers from the cache.")
    usage = property(lambda self: self.transport.usage, doc="Tokens this run, by kind.")
    prices = property(lambda self: self.transport.prices, doc="USD per million tokens, by model.")
    price = property(lambda self: self.transport.price, doc="This model's price, if known.")

    @property
    def spent(self) -> float:
        """Cost of this run's calls so far, in USD (0 when the price is unknown)."""
        return self.transport.spent

    @spent.setter
    def spent(self, value: float) -> None:
        self.transport.spent = value

    @property
    def max_cost(self) -> float | None:
        """This run's spending limit in USD."""
        return self.transport.max_cost

    @max_cost.setter
    def max_cost(self, value: float | None) -> None:
        self.transport.max_cost = value

    def cost_of(self, usage: dict[str, int]) -> float:
        """USD cost of one call's usage (0 when the price is unknown)."""
        return self.transport.cost_of(usage)

    def use_batches(self, settings: BatchSettings | None) -> None:
        """Send this run's uncached calls as provider batch jobs, at the batch price.

        Raises:
            ConfigError: The provider takes no batch jobs, or the cache is off.
        """
        self.transport.use_batches(settings)

    @property
    def truth_store(self) -> JudgeCache | None:
        """The cache, which also pins this judge's flags per test set."""
        return self.transport.cache

    def details(self) -> dict[str, Any]:
        """Everything about the backend that changes verdicts."""
        details = self.provider.describe()
        if self.bounded_reasons is not None:
            details = {**details, "reason_chars": self.bounded_reasons}
        return details

    @property
    def fingerprint(self) -> str:
        """sha256 over the prompt, schema, backend, model, sampling and protocol version."""
        payload = {
            "prompt": prompt_data(), "prompt_file": PROMPT_FILE, "schema": output_schema(),
            "backend": self.provider.backend, "details": self.details(),
            "protocol": JUDGING_VERSION, "shuffle_seed": self.shuffle_seed,
        }
        if self.reverse_order:
            payload["reverse_order"] = True
        if self.sample is not None:
            payload["sample"] = self.sample
        return fingerprint_of(payload)

    def _render(self, item: JudgeInput) -> RenderedPrompt:
        return render_prompt(item, seed=self.shuffle_seed, reverse=self.reverse_order)

    def _key(self, prompt: RenderedPrompt) -> dict[str, Any]:
        key: dict[str, Any] = {"backend": self.provider.backend, "details": self.details(),
                               "system": prompt.system, "user": prompt.user,
                               "schema": output_schema(), "protocol": JUDGING_VERSION}
        if self.sample is not None:
            key["sample"] = self.sample
        return key

    def _request(self, prompt: RenderedPrompt) -> ChatRequest:
        if self.bounded_reasons is None:
            return ChatRequest(user=prompt.user, system=prompt.system, schema=output_schema())
        return ChatRequest(user=prompt.user, system=prompt.system,
                           schema=bounded_schema(prompt.order, reason_chars=self.bounded_reasons),
                           max_tokens=answer_token_cap(prompt.order,
                                                       reason_chars=self.bounded_reasons))

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
            prompt = self._render(item)
            if self.transport.cached(self._key(prompt)):
                continue
            tokens_in = (len(prompt.system) + len(prompt.user)) / 4
            tokens_out = 60 + 40 * len(item.domains)
            total += (tokens_in * p_in + tokens_out * p_out) / 1e6
        return total * (BATCH_DISCOUNT if self.transport.batches is not None else 1.0)

    async def judge(self, item: JudgeInput) -> Judgment:
        """Judge one row: from the cache when possible, else by calling the model."""
        prompt = self._render(item)
        return await self.transport.call(
            self._request(prompt), key=self._key(prompt),
            accept=lambda c: parse_verdict(c.text, item), attempts=self.max_attempts)

    async def prefer(self, description: str, first: Sequence[str], second: Sequence[str]
                     ) -> Preference:
        """Which list of names is better for ``description``: ``A`` (first), ``B`` or ``tie``."""
        user = render_pair(description, first, second, seed=self.shuffle_seed)
        key = {"kind": "pairwise", "version": PAIRWISE_VERSION, "backend": self.provider.backend,
               "details": self.details(), "system": PAIRWISE_SYSTEM, "user": user}
        return await self.transport.call(
            ChatRequest(user=user, system=PAIRWISE_SYSTEM, schema=PAIRWISE_SCHEMA), key=key,
            accept=lambda c: parse_preference(c.text), attempts=self.max_attempts)

    async def aclose(self) -> None:
        """Release the provider's connections at the end of a run."""
        await self.provider.aclose()

    def info(self) -> dict[str, Any]:
        """Run facts for results and reports: calls, cache hits, tokens, cost, details."""
        details = {k: str(v) for k, v in self.details().items()}
        details["shuffle_seed"] = str(self.shuffle_seed)
        if self.transport.batches is not None:
            queue = self.transport.batches
            details["batch"] = (f"{self.transport.batch_lines} answers from batch jobs "
                                f"({queue.submitted} lines submitted, {queue.resumed} resumed from "
                                f"an earlier run; {len(queue.jobs)} jobs), at "
                                f"{BATCH_DISCOUNT:.0%} of the direct price")
        return {"calls": self.calls, "cache_hits": self.cache_hits, "usage": dict(self.usage),
                "cost_usd": None if self.price is None else round(self.spent, 6),
                "details": details}
