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

import asyncio
from pathlib import Path
from typing import Any

import torch

from .._deps import require
from ..errors import JudgeFatalError
from ..models_hf import load_causal_lm, pick_device
from .llm import Completion, LLMJudge
from .prompt import REASON_CHARS, RenderedPrompt, answer_token_cap, bounded_schema

__all__ = ["HFBackend", "make_judge"]


class HFBackend:
    """Batched greedy generation with a local causal LM."""

    backend = "hf"
    env_var = None

    def __init__(self, model: str, *, device: str | None = None, dtype: str | None = None,
                 max_new_tokens: int | None = None, batch_size: int = 8,
                 constrained: bool = True, reason_chars: int = REASON_CHARS) -> None:
        if constrained:
            require("xgrammar", extra="hf",
                    feature="Schema-constrained decoding for local judges (constrained=False "
                            "judges without it)",
                    install="pip install --no-deps 'xgrammar>=0.2.9,<0.3' apache-tvm-ffi")
        self.model = model
        self.device = pick_device(device)
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        """Cap on new tokens; ``None``: derived per row from its bounded schema (constrained)."""
        self.batch_size = batch_size
        self.constrained = constrained
        self.reason_chars = reason_chars
        self._lm: Any = None
        self._tok: Any = None
        self._compiler: Any = None
        self._grammars: dict[tuple[str, ...], Any] = {}
        self._pending: list[tuple[RenderedPrompt, asyncio.Future[Completion]]] = []
        self._flushing = False

    def describe(self) -> dict[str, Any]:
        """Model, decoding and length limits (the device does not change greedy answers)."""
        return {"model": self.model, "decoding": "greedy",
                "max_new_tokens": self.max_new_tokens if self.max_new_tokens is not None
                else "from schema", "dtype": self.dtype or "default",
                "structured_output": "json_schema_xgrammar" if self.constrained
                else "prompt_only", "reason_chars": self.reason_chars}

    def _load(self) -> None:
        if self._lm is not None:
            return
        self._tok, self._lm = load_causal_lm(self.model, device=self.device, dtype=self.dtype,
                                             label=f"hf judge {self.model!r}")

    def _grammar(self, order: tuple[str, ...]) -> Any:
        """The compiled grammar of a row's bounded schema (compiled once per name list)."""
        import json

        import xgrammar as xgr

        if self._compiler is None:
            info = xgr.TokenizerInfo.from_huggingface(
                self._tok, vocab_size=self._lm.config.vocab_size)
            self._compiler = xgr.GrammarCompiler(info)
        if order not in self._grammars:
            schema = bounded_schema(order, reason_chars=self.reason_chars)
            # Compact separators: the schema's length bound counts no spaces.
            self._grammars[order] = self._compiler.compile_json_schema(
                json.dumps(schema), any_whitespace=False, separators=(",", ":"))
        return self._grammars[order]

    def _text(self, prompt: RenderedPrompt) -> str:
        messages = [{"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user}]
        if getattr(self._tok, "chat_template", None):
            text: str = self._tok.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=True)
            return text
        return f"{prompt.system}\n\n{prompt.user}\n\nJSON verdict:\n"

    def _generate(self, prompts: list[RenderedPrompt]) -> list[Completion]:
        self._load()
        texts = [self._text(p) for p in prompts]
        enc = self._tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        options: dict[str, Any] = {}
        cap = self.max_new_tokens
        if self.constrained:
            import xgrammar as xgr

            # A processor holds decoding state: a new one per generate() call, a grammar per row.
            options["logits_processor"] = [xgr.contrib.hf.LogitsProcessor(
                [self._grammar(p.order) for p in prompts])]
            if cap is None:
                cap = max(answer_token_cap(p.order, reason_chars=self.reason_chars)
                          for p in prompts)
        try:
            with torch.inference_mode():
                out = self._lm.generate(**enc, do_sample=False, max_new_tokens=cap or 600,
                                        pad_token_id=self._tok.pad_token_id, **options)
        except AssertionError as err:
            if not self.constrained:
                raise
            # xgrammar asserts when no token the model can emit continues the JSON.
            raise JudgeFatalError(
                f"hf judge {self.model!r}: its tokenizer cannot spell the answer schema (a name "
                "or a JSON character is not in its vocabulary), so constrained decoding cannot "
                "go on; judge with constrained=False to record its free answers as errors "
                "instead") from err
        width = enc["input_ids"].shape[1]
        results = []
        for i, row in enumerate(out):
            new = row[width:]
            if self._tok.pad_token_id is not None:
                new = new[new != self._tok.pad_token_id]
            results.append(Completion(
                text=self._tok.decode(new, skip_special_tokens=True),
                usage={"input_tokens": int(enc["attention_mask"][i].sum()),
                       "output_tokens": int(new.shape[0])}))
        return results

    async def complete(self, prompt: RenderedPrompt, schema: dict[str, Any]) -> Completion:
        """Queue the prompt; concurrent rows are generated together in batches."""
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._pending.append((prompt, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # let the other rows of this wave queue up
            while self._pending:
                batch, self._pending = (self._pending[: self.batch_size],
                                        self._pending[self.batch_size:])
                try:
                    results = await asyncio.to_thread(self._generate, [p for p, _ in batch])
                except Exception as err:  # noqa: BLE001 - handed to every waiting row
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(err)
                    continue
                for (_, fut), res in zip(batch, results):
                    if not fut.done():
                        fut.set_result(res)
        finally:
            self._flushing = False


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
    backend = HFBackend(model, device=device, dtype=dtype, max_new_tokens=max_new_tokens,
                        batch_size=batch_size, constrained=constrained, reason_chars=reason_chars)
    return LLMJudge(backend, cache_dir=cache_dir, use_cache=use_cache, **judge_options)
