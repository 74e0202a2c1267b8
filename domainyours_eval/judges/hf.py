"""A local Hugging Face causal LM as a judge, through transformers.

Same prompt, same schema, same validation as the API judges: the model's chat template when it
has one (plain text otherwise), greedy decoding, and batches of concurrent rows generated
together with left padding, on CUDA, MPS or CPU. Decoding is constrained to each row's bounded
answer schema (``prompt.bounded_schema``) with xgrammar, so a small model's answer always parses:
its verdicts may be poor, but they are verdicts, and the new-token cap follows from the schema.
xgrammar was picked over outlines and lm-format-enforcer because it is the one of the three that
enforces integer bounds, adds no per-token overhead (a grammar compiles in about 0.02 s) and
batches with left padding unchanged. Without
it (``constrained=False``) an invalid answer becomes a recorded judge error, never a score. The
spec ``hf/<path>`` takes a model folder, a hub id already in the local cache, or a ``.gguf`` file
(de-quantised by transformers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._deps import require
from ..providers.hf import HFProvider
from .llm import LLMJudge
from .prompt import REASON_CHARS

__all__ = ["HFBackend", "make_judge"]

HFBackend = HFProvider
"""Former name of ``providers.hf.HFProvider``."""


def make_judge(model: str, *, device: str | None = None, dtype: str | None = None,
               max_new_tokens: int | None = None, max_tokens: int | None = None,
               batch_size: int = 8, constrained: bool = True,
               reason_chars: int = REASON_CHARS, cache_dir: str | Path | None = None,
               use_cache: bool = True, **judge_options: Any) -> LLMJudge:
    """Build a local Hugging Face judge; spec ``hf/<path-or-model-id>``.

    Args:
        model: Model folder, cached hub id or ``.gguf`` file.
        device: ``cuda``, ``mps`` or ``cpu`` (default: the best available).
        dtype: ``float32``, ``bfloat16`` or ``float16``.
        max_new_tokens: Cap on new tokens (default: derived from each row's bounded schema when
            constrained, 600 otherwise).
        max_tokens: The same cap under the API judges' name (``--judge-max-tokens``).
        batch_size: Rows generated together.
        constrained: Decode under the row's answer schema with xgrammar (default).
        reason_chars: Longest free-text reason a constrained judge may write.
        cache_dir: Judge cache folder.
        use_cache: Read and write the judge cache.
        **judge_options: Passed to ``LLMJudge``.
    """
    if max_new_tokens is None:
        max_new_tokens = max_tokens
    if constrained:
        require("xgrammar", extra="hf",
                feature="Schema-constrained decoding for local judges (constrained=False "
                        "judges without it)",
                install="pip install --no-deps 'xgrammar>=0.2.9,<0.3' apache-tvm-ffi")
    provider = HFProvider(model, device=device, dtype=dtype, max_new_tokens=max_new_tokens,
                          batch_size=batch_size, constrained=constrained,
                          label=f"hf judge {model!r}")
    return LLMJudge(provider, cache_dir=cache_dir, use_cache=use_cache,
                    bounded_reasons=reason_chars, **judge_options)
