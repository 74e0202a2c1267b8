"""OpenAI (and any OpenAI-compatible server) as a judge: ``openai/<model>``.

The provider (``providers/openai.py``) asks for Structured Outputs and falls back a mode when a
compatible server rejects it; the mode in use is part of the fingerprint and of the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai

from ..providers.openai import MODES, OpenAIProvider
from ..providers.transport import DEFAULT_TIMEOUT
from .llm import LLMJudge

__all__ = ["MODES", "OpenAIBackend", "make_judge"]

OpenAIBackend = OpenAIProvider
"""Former name of ``providers.openai.OpenAIProvider``."""


def make_judge(model: str = "gpt-4o-mini", *, client: openai.AsyncOpenAI | None = None,
               base_url: str | None = None, temperature: float = 0.0, max_tokens: int = 1200,
               mode: str = "json_schema", timeout: float = DEFAULT_TIMEOUT,
               cache_dir: str | Path | None = None, use_cache: bool = True,
               **judge_options: Any) -> LLMJudge:
    """Build an OpenAI (or compatible server) judge; spec ``openai/<model>``.

    ``timeout`` is each request's limit in seconds (a client passed in keeps its own).
    """
    provider = OpenAIProvider(model, client=client, base_url=base_url, temperature=temperature,
                              max_tokens=max_tokens, mode=mode, timeout=timeout)
    return LLMJudge(provider, cache_dir=cache_dir, use_cache=use_cache, **judge_options)
