"""A local Hugging Face causal LM as a judge, through transformers.

Same prompt, same schema, same validation as the API judges: the model's chat template when it
has one (plain text otherwise), greedy decoding, and batches of concurrent rows generated
together with left padding, on CUDA, MPS or CPU. Small local models often answer with invalid
JSON: those answers become recorded judge errors, never scores. The spec ``hf/<path>`` takes a
model folder, a hub id already in the local cache, or a ``.gguf`` file (de-quantised by
transformers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import torch

from ..models_hf import load_causal_lm, pick_device
from .llm import Completion, LLMJudge
from .prompt import RenderedPrompt

__all__ = ["HFBackend", "make_judge"]


class HFBackend:
    """Batched greedy generation with a local causal LM."""

    backend = "hf"
    env_var = None

    def __init__(self, model: str, *, device: str | None = None, dtype: str | None = None,
                 max_new_tokens: int = 600, batch_size: int = 8) -> None:
        self.model = model
        self.device = pick_device(device)
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self._lm: Any = None
        self._tok: Any = None
        self._pending: list[tuple[RenderedPrompt, asyncio.Future[Completion]]] = []
        self._flushing = False

    def describe(self) -> dict[str, Any]:
        """Model, decoding and length limit (the device does not change greedy answers)."""
        return {"model": self.model, "decoding": "greedy", "max_new_tokens": self.max_new_tokens,
                "dtype": self.dtype or "default", "structured_output": "prompt_only"}

    def _load(self) -> None:
        if self._lm is not None:
            return
        self._tok, self._lm = load_causal_lm(self.model, device=self.device, dtype=self.dtype,
                                             label=f"hf judge {self.model!r}")

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
        with torch.inference_mode():
            out = self._lm.generate(**enc, do_sample=False, max_new_tokens=self.max_new_tokens,
                                    pad_token_id=self._tok.pad_token_id)
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
               max_new_tokens: int = 600, batch_size: int = 8,
               cache_dir: str | Path | None = None, use_cache: bool = True,
               **judge_options: Any) -> LLMJudge:
    """Build a local Hugging Face judge; spec ``hf/<path-or-model-id>``."""
    backend = HFBackend(model, device=device, dtype=dtype, max_new_tokens=max_new_tokens,
                        batch_size=batch_size)
    return LLMJudge(backend, cache_dir=cache_dir, use_cache=use_cache, **judge_options)
