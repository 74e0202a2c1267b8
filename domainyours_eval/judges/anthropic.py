"""Claude as a judge: ``anthropic/<model>``.

The provider (``providers/anthropic.py``) forces a verdict tool whose input schema is the verdict
schema, and caches the fixed system block, so a long run pays for it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic

from ..providers.anthropic import TOOL_NAME, AnthropicProvider
from ..providers.transport import DEFAULT_TIMEOUT
from .llm import LLMJudge

__all__ = ["TOOL_NAME", "AnthropicBackend", "make_judge"]

AnthropicBackend = AnthropicProvider
"""Former name of ``providers.anthropic.AnthropicProvider``."""


def make_judge(model: str = "claude-sonnet-4-6", *, client: anthropic.AsyncAnthropic | None = None,
               temperature: float = 0.0, max_tokens: int = 1200,
               timeout: float = DEFAULT_TIMEOUT, cache_dir: str | Path | None = None,
               use_cache: bool = True, **judge_options: Any) -> LLMJudge:
    """Build a Claude judge; spec ``anthropic/<model>``.

    ``timeout`` is each request's limit in seconds (a client passed in keeps its own).
    """
    provider = AnthropicProvider(model, client=client, temperature=temperature,
                                 max_tokens=max_tokens, timeout=timeout)
    return LLMJudge(provider, cache_dir=cache_dir, use_cache=use_cache, **judge_options)
