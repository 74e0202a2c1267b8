"""A prompted API model as the model under test: ``openai/<model>`` or ``anthropic/<model>``.

So a frontier model can be the baseline a fine-tune is compared against. It shares the judges'
machinery: the official SDK, our retries with jittered backoff (the SDK's own are off), the
SQLite cache (a rerun pays nothing), and a concurrency limit. The prompt is the task's own.
Imported only when such a spec is used.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._urls import redact_url
from .cache import JudgeCache, canonical_json, request_key
from .errors import ConfigError, GenerationError, JudgeError
from .judges.llm import DEFAULT_RETRIES, DEFAULT_TIMEOUT, map_sdk_error, with_retries
from .tasks.domain_suggestion import format_prompt

__all__ = ["APIModel"]


class APIModel:
    """Generate answers with an OpenAI(-compatible) or Anthropic model."""

    def __init__(self, spec: str, *, client: Any = None, base_url: str | None = None,
                 temperature: float = 0.0, max_tokens: int = 160, concurrency: int = 16,
                 max_retries: int = DEFAULT_RETRIES, timeout: float = DEFAULT_TIMEOUT,
                 backoff_base: float = 1.0,
                 cache_dir: str | Path | None = None, use_cache: bool = True,
                 logprobs: bool = False, sleep: Any = None) -> None:
        from .generation import split_model_spec

        parts = split_model_spec(spec, warn=False)
        if parts is None or parts[0] not in ("openai", "anthropic"):
            raise ConfigError(f"Unknown API model spec {spec!r}; use openai/<model> or "
                              "anthropic/<model>")
        provider, model = parts
        self.provider, self.model, self.name = provider, model, f"{provider}/{model}"
        self.base_url = base_url or (os.environ.get("OPENAI_BASE_URL") if provider == "openai"
                                     else None)
        self.env_var = "OPENAI_API_KEY" if provider == "openai" else "ANTHROPIC_API_KEY"
        if client is None and not os.environ.get(self.env_var) and not (
            provider == "openai" and self.base_url
        ):
            raise GenerationError(f"{spec}: set {self.env_var} (or, for a local OpenAI-compatible "
                                  "server, pass base_url / OPENAI_BASE_URL)")
        self._client = client
        self._owns_client = client is None
        self.temperature, self.max_tokens = temperature, max_tokens
        self.concurrency, self.max_retries, self.backoff_base = concurrency, max_retries, backoff_base
        self.timeout = timeout
        self.cache = JudgeCache(cache_dir) if use_cache else None
        self._sleep = sleep
        self.logprobs = logprobs and provider == "openai"
        self.calls = 0

    def describe(self) -> dict[str, Any]:
        """Spec and generation parameters, stored with every prediction."""
        return {"model": self.name, "base_url": redact_url(self.base_url),
                "temperature": self.temperature,
                "max_tokens": self.max_tokens, "decoding": "greedy", "logprobs": self.logprobs}

    def _sdk(self) -> Any:
        from ._deps import require

        require(self.provider, extra=self.provider, feature=f"The {self.provider} model")
        if self.provider == "openai":
            import openai

            return openai
        import anthropic

        return anthropic

    def _make_client(self) -> Any:
        sdk = self._sdk()
        if self.provider == "openai":
            return sdk.AsyncOpenAI(api_key=os.environ.get(self.env_var) or "not-needed",
                                   base_url=self.base_url, max_retries=0, timeout=self.timeout)
        return sdk.AsyncAnthropic(api_key=os.environ.get(self.env_var), max_retries=0,
                                  timeout=self.timeout)

    async def _call(self, client: Any, prompt: str) -> tuple[str, list[tuple[str, float]]]:
        sdk = self._sdk()
        try:
            if self.provider == "openai":
                extra = {"logprobs": True} if self.logprobs else {}
                resp = await client.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": prompt}],
                    temperature=self.temperature, max_tokens=self.max_tokens, **extra)
                choice = resp.choices[0] if resp.choices else None
                message = choice.message if choice else None
                text = (message.content or message.refusal or "") if message else ""
                tokens: list[tuple[str, float]] = []
                # Servers that ignore the request for log-probabilities return none: no confidence.
                if choice is not None and choice.logprobs is not None and choice.logprobs.content:
                    tokens = [(t.token, float(t.logprob)) for t in choice.logprobs.content]
                return text, tokens
            resp = await client.messages.create(
                model=self.model, max_tokens=self.max_tokens,
                messages=[{"role": "user", "content": prompt}],
                extra_body={"temperature": self.temperature})
            return "".join(b.text for b in resp.content if b.type == "text"), []
        except sdk.APIError as err:
            raise map_sdk_error(err, sdk, name=self.name, env_var=self.env_var) from err

    async def _one(self, client: Any, sem: asyncio.Semaphore, description: str
                   ) -> tuple[str, list[tuple[str, float]]]:
        prompt = format_prompt(description)
        request = canonical_json({
            "kind": "generation", "provider": self.provider, "model": self.model,
            "base_url": redact_url(client.base_url), "prompt": prompt,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens, "logprobs": self.logprobs})
        key = request_key(request)
        if self.cache is None:
            return await self._paid(client, sem, prompt, key, request)
        hit = self.cache.get(key)
        if hit is None:
            async with self.cache.lease(key) as hit:
                if hit is None:
                    return await self._paid(client, sem, prompt, key, request)
        return str(hit["text"]), [(str(t), float(lp)) for t, lp in hit.get("tokens", [])]

    async def _paid(self, client: Any, sem: asyncio.Semaphore, prompt: str, key: str,
                    request: str) -> tuple[str, list[tuple[str, float]]]:
        async with sem:
            def count() -> None:
                self.calls += 1

            try:
                text, tokens = await with_retries(lambda: self._call(client, prompt), name=self.name,
                                          max_retries=self.max_retries,
                                          backoff_base=self.backoff_base, sleep=self._sleep,
                                          on_attempt=count)
            except JudgeError as err:
                where = f" at {redact_url(client.base_url)}" if self.provider == "openai" else ""
                raise GenerationError(f"{self.name}{where}: {err}. Is the server running and "
                                      "the model name right?") from err
        if self.cache is not None:
            self.cache.put(key, request, {"text": text, "tokens": tokens})
        return text, tokens

    async def agenerate_scored(self, descriptions: Sequence[str]
                               ) -> list[tuple[str, list[tuple[str, float]]]]:
        """Answers with their token log-probabilities (empty unless ``logprobs`` and served)."""
        client = self._client or self._make_client()
        sem = asyncio.Semaphore(self.concurrency)
        try:
            return list(await asyncio.gather(*(self._one(client, sem, d) for d in descriptions)))
        finally:
            if self._owns_client:
                await client.close()

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
