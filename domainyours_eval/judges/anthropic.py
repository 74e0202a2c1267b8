"""Claude as a judge, through the official ``anthropic`` SDK.

Structured output by forced tool use: the verdict schema is the tool's input schema, and
``tool_choice`` forces the call, so the answer is JSON by construction (still validated). The
fixed system block (instructions, rubric, schema) carries ``cache_control``, so a long run pays
for it once. anthropic 2.x has no ``temperature`` argument; it is sent through ``extra_body``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anthropic

from ..errors import JudgeAuthError
from .llm import DEFAULT_TIMEOUT, Completion, LLMJudge, OwnedClient, map_sdk_error
from .prompt import RenderedPrompt

__all__ = ["TOOL_NAME", "AnthropicBackend", "make_judge"]

TOOL_NAME = "record_verdict"


class AnthropicBackend(OwnedClient):
    """Messages API with a forced verdict tool and a cached system block."""

    backend = "anthropic"
    env_var = "ANTHROPIC_API_KEY"

    def __init__(self, model: str, *, client: anthropic.AsyncAnthropic | None = None,
                 temperature: float = 0.0, max_tokens: int = 1200, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.model = model
        if client is None and not os.environ.get(self.env_var):
            raise JudgeAuthError(f"The Anthropic judge {model!r} needs an API key: set "
                                 f"{self.env_var}")
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens

    def _make_client(self) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(api_key=os.environ.get(self.env_var), max_retries=0,
                                        timeout=self._timeout)

    def describe(self) -> dict[str, Any]:
        """Model, server, sampling and how structure is enforced."""
        return {"model": self.model, "base_url": str(self.client.base_url),
                "temperature": self.temperature, "max_tokens": self.max_tokens,
                "structured_output": "forced_tool"}

    async def complete(self, prompt: RenderedPrompt, schema: dict[str, Any]) -> Completion:
        """One Messages call; the tool input is the answer."""
        name = f"anthropic/{self.model}"
        try:
            resp = await self.client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=[{"type": "text", "text": prompt.system,
                         "cache_control": {"type": "ephemeral"}}],
                messages=[{"role": "user", "content": prompt.user}],
                tools=[{"name": TOOL_NAME, "description": "Record the verdict for this row.",
                        "input_schema": schema}],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                extra_body={"temperature": self.temperature},
            )
        except anthropic.AnthropicError as err:
            raise map_sdk_error(err, anthropic, name=name, env_var=self.env_var) from err
        text = ""
        for block in resp.content:
            if block.type == "tool_use" and block.name == TOOL_NAME:
                text = json.dumps(block.input)
                break
            if block.type == "text":
                text = block.text
        u = resp.usage
        usage = {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens,
                 "cache_read_tokens": u.cache_read_input_tokens or 0,
                 "cache_write_tokens": u.cache_creation_input_tokens or 0}
        return Completion(text=text, usage=usage)


def make_judge(model: str = "claude-sonnet-4-6", *, client: anthropic.AsyncAnthropic | None = None,
               temperature: float = 0.0, max_tokens: int = 1200,
               timeout: float = DEFAULT_TIMEOUT, cache_dir: str | Path | None = None,
               use_cache: bool = True, **judge_options: Any) -> LLMJudge:
    """Build a Claude judge; spec ``anthropic/<model>``.

    ``timeout`` is each request's limit in seconds (a client passed in keeps its own).
    """
    backend = AnthropicBackend(model, client=client, temperature=temperature,
                               max_tokens=max_tokens, timeout=timeout)
    return LLMJudge(backend, cache_dir=cache_dir, use_cache=use_cache, **judge_options)
