"""Claude through the official ``anthropic`` SDK.

A request with a schema gets structured output by forced tool use: the schema is the tool's
input schema and ``tool_choice`` forces the call, so the answer is JSON by construction (the
caller still validates it). A system block carries ``cache_control``, so a long run pays for it
once. anthropic 2.x has no ``temperature`` argument; it is sent through ``extra_body``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import anthropic

from ..errors import JudgeAuthError, JudgeError
from .base import ChatRequest, Completion, OwnedClient
from .batch import BatchJob, BatchLineError, line_json
from .transport import DEFAULT_TIMEOUT, map_sdk_error

__all__ = ["TOOL_NAME", "AnthropicProvider"]

TOOL_NAME = "record_verdict"


class AnthropicProvider(OwnedClient):
    """The Messages API, with a forced tool for schemas and a cached system block."""

    backend = "anthropic"
    env_var = "ANTHROPIC_API_KEY"
    max_batch_requests = 100_000
    max_batch_bytes = 250 * 2**20
    """Under Message Batches' 256 MB limit."""

    def __init__(self, model: str, *, client: anthropic.AsyncAnthropic | None = None,
                 temperature: float = 0.0, max_tokens: int = 1200,
                 timeout: float = DEFAULT_TIMEOUT, role: str = "judge") -> None:
        self.model = model
        if client is None and not os.environ.get(self.env_var):
            raise JudgeAuthError(f"The Anthropic {role} {model!r} needs an API key: set "
                                 f"{self.env_var}")
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens

    def _make_client(self) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(api_key=os.environ.get(self.env_var), max_retries=0,
                                        timeout=self._timeout)

    @property
    def server(self) -> str:
        """The API's URL."""
        return str(self.client.base_url)

    def describe(self) -> dict[str, Any]:
        """Model, server, sampling and how structure is enforced."""
        return {"model": self.model, "base_url": self.server,
                "temperature": self.temperature, "max_tokens": self.max_tokens,
                "structured_output": "forced_tool"}

    def params(self, request: ChatRequest) -> dict[str, Any]:
        """The Messages request (the same for a direct call and a batch request)."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": min(self.max_tokens, request.max_tokens or self.max_tokens),
            "messages": [{"role": "user", "content": request.user}],
        }
        if request.system is not None:
            kwargs["system"] = [{"type": "text", "text": request.system,
                                 "cache_control": {"type": "ephemeral"}}]
        if request.schema is not None:
            kwargs["tools"] = [{"name": TOOL_NAME, "description": "Record the verdict for this row.",
                                "input_schema": request.schema}]
            kwargs["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        return kwargs

    async def complete(self, request: ChatRequest) -> Completion:
        """One Messages call; with a schema, the forced tool's input is the answer."""
        kwargs = {**self.params(request), "extra_body": {"temperature": self.temperature}}
        try:
            resp = await self.client.messages.create(**kwargs)
        except anthropic.AnthropicError as err:
            raise map_sdk_error(err, anthropic, name=f"anthropic/{self.model}",
                                env_var=self.env_var) from err
        return read_message(resp)

    # --- batch jobs (Message Batches: results by custom_id) ---------------------------------

    def _error(self, err: Exception) -> Exception:
        return map_sdk_error(err, anthropic, name=f"anthropic/{self.model}",
                             env_var=self.env_var)

    def batch_line(self, custom_id: str, request: ChatRequest) -> str:
        """One Message Batches request: the same parameters a direct call sends."""
        return line_json({"custom_id": custom_id,
                          "params": {**self.params(request), "temperature": self.temperature}})

    async def batch_submit(self, lines: Sequence[str]) -> str:
        """Create a message batch from the requests."""
        try:
            batch = await self.client.messages.batches.create(
                requests=[json.loads(line) for line in lines])
        except anthropic.AnthropicError as err:
            raise self._error(err) from err
        return str(batch.id)

    async def batch_status(self, batch_id: str) -> BatchJob:
        """The batch's processing status and request counts."""
        try:
            batch = await self.client.messages.batches.retrieve(batch_id)
        except anthropic.AnthropicError as err:
            raise self._error(err) from err
        counts = batch.request_counts.model_dump() if batch.request_counts else {}
        return BatchJob(id=batch_id,
                        status="ended" if batch.processing_status == "ended" else "running",
                        counts={k: int(v) for k, v in counts.items()},
                        provider_status=str(batch.processing_status))

    async def batch_results(self, batch_id: str) -> dict[str, Completion | JudgeError]:
        """Each request's message, or why it has none (errored, canceled, expired)."""
        name = f"anthropic/{self.model}"
        out: dict[str, Completion | JudgeError] = {}
        try:
            async for item in await self.client.messages.batches.results(batch_id):
                result = item.result
                if result.type == "succeeded":
                    out[item.custom_id] = read_message(result.message)
                else:
                    detail = getattr(getattr(result, "error", None), "error", None)
                    message = getattr(detail, "message", None) or result.type
                    out[item.custom_id] = BatchLineError(
                        f"{name}: batch request {result.type}: {message}")
        except anthropic.AnthropicError as err:
            raise self._error(err) from err
        return out

    async def batch_cancel(self, batch_id: str) -> None:
        """Ask Message Batches to stop the batch."""
        try:
            await self.client.messages.batches.cancel(batch_id)
        except anthropic.AnthropicError as err:
            raise self._error(err) from err


def read_message(resp: Any) -> Completion:
    """Answer text (the forced tool's input when there is one) and token usage of a message."""
    texts = []
    for block in resp.content:
        if block.type == "tool_use" and block.name == TOOL_NAME:
            texts = [json.dumps(block.input)]
            break
        if block.type == "text":
            texts.append(block.text)
    u = resp.usage
    usage = {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
             "cache_read_tokens": u.cache_read_input_tokens or 0,
             "cache_write_tokens": u.cache_creation_input_tokens or 0}
    return Completion(text="".join(texts), usage=usage)
