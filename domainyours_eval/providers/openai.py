"""OpenAI and any OpenAI-compatible server (vLLM, llama.cpp, Ollama), through the ``openai`` SDK.

A request with a schema asks for Structured Outputs first (``response_format`` json_schema,
strict). Compatible servers differ: llama.cpp's server rejects json_schema but enforces
``{"type": "json_object", "schema": ...}``, and some accept neither. The first rejection switches
the provider down one mode (json_schema -> json_object+schema -> prompt only; the caller still
validates every answer); the mode in use is part of ``describe()``. ``base_url`` (or
``OPENAI_BASE_URL``) points it at any server; a local one needs no key.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from typing import Any

import openai

from .._urls import redact_url
from ..errors import JudgeAuthError, JudgeError
from .base import ChatRequest, Completion, OwnedClient
from .batch import BatchJob, BatchLineError, Status, line_json
from .transport import DEFAULT_TIMEOUT, map_sdk_error

__all__ = ["MODES", "OpenAIProvider"]

MODES = ("json_schema", "json_object_schema", "prompt_only")
_REJECTION_HINTS = ("response_format", "json_schema", "input should be", "schema", "json_object")
_BATCH_STATUS: dict[str, Status] = {"completed": "ended", "failed": "failed", "expired": "expired",
                 "cancelled": "cancelled"}


class OpenAIProvider(OwnedClient):
    """Chat Completions, with structured output and automatic mode fallback."""

    backend = "openai"
    env_var = "OPENAI_API_KEY"
    max_batch_requests = 50_000
    max_batch_bytes = 190 * 2**20
    """Under the Batch API's 200 MB input file limit."""

    def __init__(self, model: str, *, client: openai.AsyncOpenAI | None = None,
                 base_url: str | None = None, temperature: float = 0.0, max_tokens: int = 1200,
                 timeout: float = DEFAULT_TIMEOUT, mode: str = "json_schema",
                 role: str = "judge") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        # The key stays in the environment and in the SDK client, not on this object.
        if client is None and not (os.environ.get(self.env_var) or self.base_url):
            raise JudgeAuthError(
                f"The OpenAI {role} {model!r} needs an API key: set OPENAI_API_KEY, or pass "
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
        return openai.AsyncOpenAI(api_key=os.environ.get(self.env_var) or "not-needed",
                                  base_url=self.base_url, max_retries=0, timeout=self._timeout)

    @property
    def server(self) -> str | None:
        """The server's URL without credentials."""
        return redact_url(self.client.base_url)

    def describe(self) -> dict[str, Any]:
        """Model, server (without credentials), sampling and structured-output mode."""
        return {"model": self.model, "base_url": self.server,
                "temperature": self.temperature, "max_tokens": self.max_tokens,
                "structured_output": self.mode}

    def _format(self, mode: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {"type": "json_schema",
                    "json_schema": {"name": "domainyours_verdict", "schema": schema, "strict": True}}
        if mode == "json_object_schema":
            return {"type": "json_object", "schema": schema}
        return None

    def body(self, request: ChatRequest, mode: str | None = None) -> dict[str, Any]:
        """The chat completion request body (the same for a direct call and a batch line)."""
        messages = [{"role": "user", "content": request.user}]
        if request.system is not None:
            messages.insert(0, {"role": "system", "content": request.system})
        body: dict[str, Any] = {
            "model": self.model, "messages": messages, "temperature": self.temperature,
            "max_tokens": min(self.max_tokens, request.max_tokens or self.max_tokens),
        }
        if request.logprobs:
            body["logprobs"] = True
        fmt = (self._format(mode or self.mode, request.schema) if request.schema is not None
               else None)
        if fmt is not None:
            body["response_format"] = fmt
        return body

    async def complete(self, request: ChatRequest) -> Completion:
        """One chat completion; falls back a mode when the server rejects the format."""
        mode = self.mode
        body = self.body(request, mode)
        fmt = body.get("response_format")
        try:
            # The SDK's documented raw POST (same wire format, same auth, errors and timeouts)
            # returning the body as bytes: the SDK's typed request transform and response model
            # construction cost milliseconds of CPU per call, which caps throughput at high
            # concurrency; we read the few fields we need ourselves.
            raw = await self.client.post("/chat/completions", body=body, cast_to=bytes)
        except openai.APIStatusError as err:
            text = str(err.message).lower()
            rejected = (fmt is not None and err.status_code in (400, 422, 500)
                        and any(h in text for h in _REJECTION_HINTS))
            if rejected and mode != MODES[-1]:
                async with self._lock:
                    if self.mode == mode:
                        self.mode = MODES[MODES.index(mode) + 1]
                return await self.complete(request)
            raise map_sdk_error(err, openai, name=f"openai/{self.model}",
                                env_var=self.env_var) from err
        except openai.OpenAIError as err:
            raise map_sdk_error(err, openai, name=f"openai/{self.model}",
                                env_var=self.env_var) from err
        return read_completion(raw)

    # --- batch jobs (the Batch API: a JSONL file of requests, results by custom_id) ----------

    def _error(self, err: Exception) -> Exception:
        return map_sdk_error(err, openai, name=f"openai/{self.model}", env_var=self.env_var)

    def batch_line(self, custom_id: str, request: ChatRequest) -> str:
        """One Batch API input line: the same body a direct call sends."""
        return line_json({"custom_id": custom_id, "method": "POST",
                          "url": "/v1/chat/completions", "body": self.body(request)})

    async def batch_submit(self, lines: Sequence[str]) -> str:
        """Upload the lines as a file and create a 24-hour batch over it."""
        data = ("\n".join(lines) + "\n").encode()
        try:
            upload = await self.client.files.create(file=("domainyours-batch.jsonl", data),
                                                    purpose="batch")
            batch = await self.client.batches.create(input_file_id=upload.id,
                                                     endpoint="/v1/chat/completions",
                                                     completion_window="24h")
        except openai.OpenAIError as err:
            raise self._error(err) from err
        return str(batch.id)

    async def batch_status(self, batch_id: str) -> BatchJob:
        """The batch's status and request counts."""
        try:
            batch = await self.client.batches.retrieve(batch_id)
        except openai.OpenAIError as err:
            raise self._error(err) from err
        counts = batch.request_counts.model_dump() if batch.request_counts else {}
        return BatchJob(id=batch_id, status=_BATCH_STATUS.get(batch.status, "running"),
                        counts={k: int(v) for k, v in counts.items()},
                        provider_status=str(batch.status))

    async def batch_results(self, batch_id: str) -> dict[str, Completion | JudgeError]:
        """Every line of the output and error files, by custom_id (they come in any order)."""
        try:
            batch = await self.client.batches.retrieve(batch_id)
            texts = [(await self.client.files.content(f)).text
                     for f in (batch.output_file_id, batch.error_file_id) if f]
        except openai.OpenAIError as err:
            raise self._error(err) from err
        out: dict[str, Completion | JudgeError] = {}
        for text in texts:
            for line in text.splitlines():
                if line.strip():
                    cid, got = self._read_line(line)
                    if cid is not None and (cid not in out or isinstance(got, Completion)):
                        out[cid] = got
        return out

    def _read_line(self, line: str) -> tuple[str | None, Completion | JudgeError]:
        """A result line in either failure shape: ``error`` set, or a 4xx/5xx ``response``."""
        name = f"openai/{self.model}"
        try:
            rec = json.loads(line)
        except ValueError:
            return None, BatchLineError(f"{name}: unreadable batch result line")
        if not isinstance(rec, dict):
            return None, BatchLineError(f"{name}: unreadable batch result line")
        cid = rec.get("custom_id") if isinstance(rec.get("custom_id"), str) else None
        error = rec.get("error") if isinstance(rec.get("error"), dict) else None
        response = rec.get("response") if isinstance(rec.get("response"), dict) else None
        code = response.get("status_code") if response else None
        if error is None and response is not None and isinstance(code, int) and code < 400:
            return cid, read_completion(json.dumps(response.get("body")).encode())
        body = response.get("body") if response else None
        detail = (body.get("error") if isinstance(body, dict) else None) or error or {}
        message = detail.get("message") if isinstance(detail, dict) else None
        kind = detail.get("code") if isinstance(detail, dict) else None
        return cid, BatchLineError(f"{name}: batch line failed (HTTP {code or '-'}, "
                                   f"{kind or 'error'}): {message or 'no message'}")

    async def batch_cancel(self, batch_id: str) -> None:
        """Ask the Batch API to stop the batch."""
        try:
            await self.client.batches.cancel(batch_id)
        except openai.OpenAIError as err:
            raise self._error(err) from err


def read_completion(raw: bytes) -> Completion:
    """Answer text, token usage and any log-probabilities from a chat completion body.

    A malformed body is an answer that cannot be parsed (the caller's validation decides), never
    a crash. A server that ignores the request for log-probabilities returns none.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        return Completion(text=raw.decode("utf-8", "replace"), usage={})
    if not isinstance(data, dict):
        return Completion(text="", usage={})
    choices = data.get("choices") or []
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = choice.get("message")
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
    tokens: list[tuple[str, float]] = []
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if isinstance(content, list):
        for t in content:
            if isinstance(t, dict) and isinstance(t.get("token"), str) and \
                    isinstance(t.get("logprob"), (int, float)):
                tokens.append((t["token"], float(t["logprob"])))
    return Completion(text=text if isinstance(text, str) else "", usage=usage,
                      tokens=tuple(tokens))
