"""Claude through the official ``anthropic`` SDK.

A request with a schema gets structured output by forced tool use: the schema is the tool's
input schema and ``tool_choice`` forces the call, so the answer is JSON by construction (the
caller still validates it). A system block carries ``cache_control``, so a long run pays for it
once. anthropic 2.x has no ``temperature`` argument; it is sent through ``extra_body``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic

from ..errors import JudgeAuthError
from .base import ChatRequest, Completion, OwnedClient
from .transport import DEFAULT_TIMEOUT, map_sdk_error

__all__ = ["TOOL_NAME", "AnthropicProvider"]

TOOL_NAME = "record_verdict"


class AnthropicProvider(OwnedClient):
    """The Messages API, with a forced tool for schemas and a cached system block."""

    backend = "anthropic"
    env_var = "ANTHROPIC_API_KEY"

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

    async def complete(self, request: ChatRequest) -> Completion:
        """One Messages call; with a schema, the forced tool's input is the answer."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": min(self.max_tokens, request.max_tokens or self.max_tokens),
            "messages": [{"role": "user", "content": request.user}],
            "extra_body": {"temperature": self.temperature},
        }
        if request.system is not None:
            kwargs["system"] = [{"type": "text", "text": request.system,
                                 "cache_control": {"type": "ephemeral"}}]
        if request.schema is not None:
            kwargs["tools"] = [{"name": TOOL_NAME, "description": "Record the verdict for this row.",
                                "input_schema": request.schema}]
            kwargs["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        try:
            resp = await self.client.messages.create(**kwargs)
        except anthropic.AnthropicError as err:
            raise map_sdk_error(err, anthropic, name=f"anthropic/{self.model}",
                                env_var=self.env_var) from err
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
