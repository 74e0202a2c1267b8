"""OpenAI (and any OpenAI-compatible server) as a judge, through the official ``openai`` SDK.

Structured Outputs first (``response_format`` json_schema, strict). Compatible servers differ:
llama.cpp's server rejects json_schema but enforces ``{"type": "json_object", "schema": ...}``,
and some accept neither. The first rejection switches the judge down one mode (json_schema ->
json_object+schema -> prompt only, every answer still validated); the mode in use is part of the
fingerprint and of the report. ``base_url`` (or ``OPENAI_BASE_URL``) points it at any server.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import openai

from .._urls import redact_url
from ..errors import JudgeAuthError
from .llm import DEFAULT_TIMEOUT, Completion, LLMJudge, OwnedClient, map_sdk_error
from .prompt import RenderedPrompt

__all__ = ["MODES", "OpenAIBackend", "make_judge"]

MODES = ("json_schema", "json_object_schema", "prompt_only")
_REJECTION_HINTS = ("response_format", "json_schema", "input should be", "schema", "json_object")


class OpenAIBackend(OwnedClient):
    """Chat Completions with structured output and automatic mode fallback."""

    backend = "openai"

    def __init__(self, model: str, *, client: openai.AsyncOpenAI | None = None,
                 base_url: str | None = None, temperature: float = 0.0, max_tokens: int = 1200,
                 timeout: float = DEFAULT_TIMEOUT, mode: str = "json_schema") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        # A local server needs no real key; the SDK insists on one being set.
        self.env_var = "OPENAI_API_KEY"
        # The key stays in the environment and in the SDK client, not on this object.
        if client is None and not (os.environ.get("OPENAI_API_KEY") or self.base_url):
            raise JudgeAuthError(
                f"The OpenAI judge {model!r} needs an API key: set OPENAI_API_KEY, or pass "
                "base_url (OPENAI_BASE_URL) for a local OpenAI-compatible server")
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.mode = mode
        self._lock = asyncio.Lock()

    def _make_client(self) -> openai.AsyncOpenAI:
        # A local server needs no real key; the SDK insists on one being set.
        return openai.AsyncOpenAI(api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",
                                  base_url=self.base_url, max_retries=0, timeout=self._timeout)

    def describe(self) -> dict[str, Any]:
        """Model, server (without credentials), sampling and structured-output mode."""
        return {"model": self.model, "base_url": redact_url(self.client.base_url),
                "temperature": self.temperature, "max_tokens": self.max_tokens,
                "structured_output": self.mode}

    def _format(self, mode: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {"type": "json_schema",
                    "json_schema": {"name": "domainyours_verdict", "schema": schema, "strict": True}}
        if mode == "json_object_schema":
            return {"type": "json_object", "schema": schema}
        return None

    async def complete(self, prompt: RenderedPrompt, schema: dict[str, Any]) -> Completion:
        """One chat completion; falls back a mode when the server rejects the format."""
        mode = self.mode
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": prompt.system},
                         {"role": "user", "content": prompt.user}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        fmt = self._format(mode, schema)
        if fmt is not None:
            kwargs["response_format"] = fmt
        try:
            # The SDK's documented raw POST (same wire format, same auth, errors and timeouts)
            # returning the body as bytes: the SDK's typed request transform and response model
            # construction cost milliseconds of CPU per call, which caps throughput at high
            # concurrency; we read the few fields we need ourselves.
            raw = await self.client.post("/chat/completions", body=kwargs, cast_to=bytes)
        except openai.APIStatusError as err:
            text = str(err.message).lower()
            rejected = err.status_code in (400, 422, 500) and any(h in text for h in _REJECTION_HINTS)
            if rejected and mode != MODES[-1]:
                async with self._lock:
                    if self.mode == mode:
                        self.mode = MODES[MODES.index(mode) + 1]
                return await self.complete(prompt, schema)
            raise map_sdk_error(err, openai, name=f"openai/{self.model}",
                                env_var=self.env_var) from err
        except openai.OpenAIError as err:
            raise map_sdk_error(err, openai, name=f"openai/{self.model}",
                                env_var=self.env_var) from err
        return _read_completion(raw)


def _read_completion(raw: bytes) -> Completion:
    """Answer text and token usage from a chat completion body.

    A malformed body is an answer that cannot be parsed (retried, then a judge error), never a
    crash.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        return Completion(text=raw.decode("utf-8", "replace"), usage={})
    if not isinstance(data, dict):
        return Completion(text="", usage={})
    choices = data.get("choices") or []
    message = choices[0].get("message") if choices and isinstance(choices[0], dict) else None
    text = ""
    if isinstance(message, dict):
        text = message.get("content") or message.get("refusal") or ""
    usage: dict[str, int] = {}
    u = data.get("usage")
    if isinstance(u, dict):
        details = u.get("prompt_tokens_details")
        cached = int((details or {}).get("cached_tokens") or 0) if isinstance(details, dict) else 0
        usage = {"input_tokens": int(u.get("prompt_tokens") or 0) - cached,
                 "cache_read_tokens": cached,
                 "output_tokens": int(u.get("completion_tokens") or 0)}
    return Completion(text=text if isinstance(text, str) else "", usage=usage)


def make_judge(model: str = "gpt-4o-mini", *, client: openai.AsyncOpenAI | None = None,
               base_url: str | None = None, temperature: float = 0.0, max_tokens: int = 1200,
               mode: str = "json_schema", timeout: float = DEFAULT_TIMEOUT,
               cache_dir: str | Path | None = None, use_cache: bool = True,
               **judge_options: Any) -> LLMJudge:
    """Build an OpenAI (or compatible server) judge; spec ``openai/<model>``.

    ``timeout`` is each request's limit in seconds (a client passed in keeps its own).
    """
    backend = OpenAIBackend(model, client=client, base_url=base_url, temperature=temperature,
                            max_tokens=max_tokens, mode=mode, timeout=timeout)
    return LLMJudge(backend, cache_dir=cache_dir, use_cache=use_cache, **judge_options)
