"""A prompted model behind a provider as the model under test.

``openai/<model>``, ``anthropic/<model>``, or a plug-in provider's ``backend/model``. So a frontier
model can be the baseline a fine-tune is compared against. It goes through the same
provider and transport as the judges: the official SDK, our retries with jittered backoff (the
SDK's own are off), the SQLite cache (a rerun pays nothing), and a concurrency limit here. The
prompt is the task's own. Imported only when such a spec is used.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._urls import redact_url
from ..cache import JudgeCache
from ..errors import ConfigError, GenerationError, JudgeError
from ..providers import ChatRequest, Completion, Transport, get_provider
from ..providers.batch import BatchSettings
from ..providers.transport import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from ..tasks.domain_suggestion import format_prompt
from .specs import split_model_spec

__all__ = ["APIModel"]

_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class APIModel:
    """Generate answers with an OpenAI(-compatible) or Anthropic model."""

    def __init__(self, spec: str, *, client: Any = None, base_url: str | None = None,
                 temperature: float = 0.0, max_tokens: int = 160, concurrency: int = 16,
                 max_retries: int = DEFAULT_RETRIES, timeout: float = DEFAULT_TIMEOUT,
                 backoff_base: float = 1.0,
                 cache_dir: str | Path | None = None, use_cache: bool = True,
                 logprobs: bool = False, sleep: Any = None,
                 batch: BatchSettings | None = None) -> None:
        parts = split_model_spec(spec, warn=False)
        if parts is None or parts[0] == "hf":
            raise ConfigError(f"Unknown API model spec {spec!r}; use openai/<model>, "
                              "anthropic/<model> or a plug-in provider's backend/model")
        backend, model = parts
        self.backend, self.model, self.name = backend, model, f"{backend}/{model}"
        self.env_var = _KEYS.get(backend)
        base_url = base_url or (os.environ.get("OPENAI_BASE_URL") if backend == "openai"
                                else None)
        if self.env_var and client is None and not os.environ.get(self.env_var) and not (
            backend == "openai" and base_url
        ):
            raise GenerationError(f"{spec}: set {self.env_var} (or, for a local OpenAI-compatible "
                                  "server, pass base_url / OPENAI_BASE_URL)")
        # What every provider factory receives; built-ins take more (base_url for openai).
        options: dict[str, Any] = {"client": client, "temperature": temperature,
                                   "max_tokens": max_tokens, "timeout": timeout, "role": "model"}
        if backend == "openai":
            options["base_url"] = base_url
        self.provider: Any = get_provider(self.name, **options)
        self.transport = Transport(self.provider, name=self.name,
                                   cache=JudgeCache(cache_dir) if use_cache else None,
                                   max_retries=max_retries, backoff_base=backoff_base,
                                   sleep=sleep)
        self.base_url = base_url if backend == "openai" else None
        self.temperature, self.max_tokens = temperature, max_tokens
        self.concurrency = concurrency
        # Batch jobs: every uncached answer goes to the provider at once, at the batch price.
        self.transport.use_batches(batch)
        self.logprobs = logprobs and backend == "openai"

    @property
    def cache(self) -> JudgeCache | None:
        """The answer cache (shared with the judges), or ``None``."""
        return self.transport.cache

    @property
    def calls(self) -> int:
        """Paid calls, retries included."""
        return self.transport.calls

    def describe(self) -> dict[str, Any]:
        """Spec and generation parameters, stored with every prediction."""
        return {"model": self.name, "base_url": redact_url(self.base_url),
                "temperature": self.temperature, "max_tokens": self.max_tokens,
                "decoding": "greedy", "logprobs": self.logprobs}

    def _key(self, prompt: str) -> dict[str, Any]:
        # The request's identity, as stored since API models first cached their answers; a
        # plug-in provider's own description joins it (it may have settings of its own).
        key = {"kind": "generation", "provider": self.provider.backend,
               "model": self.provider.model,
               "base_url": redact_url(getattr(self.provider, "server", None)), "prompt": prompt,
               "temperature": self.temperature, "max_tokens": self.max_tokens,
               "logprobs": self.logprobs}
        if self.env_var is None:
            key["details"] = self.provider.describe()
        return key

    async def _one(self, sem: asyncio.Semaphore, description: str
                   ) -> tuple[str, list[tuple[str, float]]]:
        prompt = format_prompt(description)
        async with sem:
            try:
                done: Completion = await self.transport.call(
                    ChatRequest(user=prompt, logprobs=self.logprobs), key=self._key(prompt),
                    accept=lambda c: c)
            except JudgeError as err:
                where = (f" at {self.provider.server}" if self.provider.backend == "openai"
                         else "")
                raise GenerationError(f"{self.name}{where}: {err}. Is the server running and "
                                      "the model name right?") from err
        return done.text, list(done.tokens)

    async def agenerate_scored(self, descriptions: Sequence[str]
                               ) -> list[tuple[str, list[tuple[str, float]]]]:
        """Answers with their token log-probabilities (empty unless ``logprobs`` and served)."""
        batched = self.transport.batches is not None
        sem = asyncio.Semaphore(max(1, len(descriptions)) if batched else self.concurrency)
        try:
            return list(await asyncio.gather(*(self._one(sem, d) for d in descriptions)))
        finally:
            await self.provider.aclose()

    async def agenerate(self, descriptions: Sequence[str]) -> list[str]:
        """One answer per description, ``concurrency`` calls at a time."""
        return [text for text, _ in await self.agenerate_scored(descriptions)]

    def generate(self, descriptions: Sequence[str]) -> list[str]:
        """Synchronous ``agenerate`` (from code with no running event loop)."""
        return asyncio.run(self.agenerate(descriptions))

    def generate_scored(self, descriptions: Sequence[str]
                        ) -> list[tuple[str, list[tuple[str, float]]]]:
        """Synchronous ``agenerate_scored``."""
        return asyncio.run(self.agenerate_scored(descriptions))
