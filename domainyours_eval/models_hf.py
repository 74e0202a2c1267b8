"""A Hugging Face causal LM (optionally with a PEFT/LoRA adapter) as the model under test.

Batched greedy generation with left padding, the tokenizer's chat template when it has one (the
task prompt as plain text otherwise), and device auto-selection (CUDA, MPS, CPU). A folder that
holds only an adapter is recognised by its ``adapter_config.json``, and its base model is read
from there. Imported only when an ``hf/`` model is used.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from .errors import ConfigError
from .tasks.domain_suggestion import format_prompt

__all__ = ["DTYPES", "HFModel", "load_causal_lm", "pick_device"]

DTYPES = ("float32", "bfloat16", "float16")
_MIN_SHARED_PREFIX = 16
"""Shorter shared prefixes are not worth a separate forward pass."""


def pick_device(name: str | None) -> str:
    """``name`` when given, else CUDA, then MPS, then CPU."""
    if name:
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _return_freed_memory() -> None:
    """Serve large CPU tensors from their own mappings, returned to the OS when freed.

    glibc raises its mmap threshold after the first large free, so later activations and KV
    caches come from the heap, which never shrinks: a batch-16 prefill then leaves ~0.5 GB of
    dead heap behind and lifts the peak by as much. A fixed threshold keeps generation's peak
    near the model's own size. No-op off glibc.
    """
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 8 << 20)  # M_MMAP_THRESHOLD: 8 MiB
    except (OSError, AttributeError):
        pass


def load_causal_lm(model: str, *, device: str, dtype: str | None, label: str
                   ) -> tuple[Any, Any]:
    """Load a tokenizer (left padding) and causal LM from a folder, a cached id or a ``.gguf``.

    Raises:
        ConfigError: Named with ``label`` (the spec the user wrote) and the fix.
    """
    if device == "cpu":
        _return_freed_memory()
    source, kwargs = model, {}
    path = Path(model)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ConfigError(f"{label}: no such GGUF file")
        source, kwargs = str(path.parent), {"gguf_file": path.name}
    try:
        tok = AutoTokenizer.from_pretrained(source, **kwargs)
        lm: Any = AutoModelForCausalLM.from_pretrained(
            source, **kwargs, **({"dtype": getattr(torch, dtype)} if dtype else {}))
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"{label}: cannot load the model ({err}). Give a local model folder, a model id "
            "already in the Hugging Face cache, or a .gguf file") from err
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok, lm.to(device).eval()


class HFModel:
    """A local causal LM under test. ``HFModel(base, adapter="path/to/lora")``."""

    def __init__(self, model: str, *, adapter: str | None = None, device: str | None = None,
                 dtype: str | None = None, max_new_tokens: int = 64, batch_size: int = 16) -> None:
        self.base = model
        self.adapter = adapter
        folder = Path(model)
        if adapter is None and (folder / "adapter_config.json").is_file():
            # An adapter folder given alone: its config names the base model.
            config = json.loads((folder / "adapter_config.json").read_text())
            base = config.get("base_model_name_or_path")
            if not base:
                raise ConfigError(f"{model}: adapter_config.json names no base model "
                                  "(base_model_name_or_path); pass HFModel(base, adapter=...)")
            self.base, self.adapter = str(base), model
        if dtype is not None and dtype not in DTYPES:
            raise ConfigError(f"hf/{model}: unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
        self.device = pick_device(device)
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.name = Path(self.adapter or self.base).name or self.base
        self._lm: Any = None
        self._tok: Any = None
        self.shared_prefix_tokens = 0
        """Tokens every prompt of the last ``generate`` call shared, prefilled once for all."""

    def describe(self) -> dict[str, Any]:
        """Spec and generation parameters, stored with every prediction."""
        return {"model": f"hf/{self.base}", "adapter": self.adapter, "decoding": "greedy",
                "max_new_tokens": self.max_new_tokens, "dtype": self.dtype or "default"}

    def load(self) -> None:
        """Load the model and adapter now (the first ``generate`` would otherwise)."""
        self._load()

    def _load(self) -> None:
        if self._lm is not None:
            return
        tok, lm = load_causal_lm(self.base, device=self.device, dtype=self.dtype,
                                 label=f"hf/{self.base}")
        if self.adapter:
            from peft import PeftModel

            try:
                lm = PeftModel.from_pretrained(lm, self.adapter)
            except (OSError, ValueError) as err:
                raise ConfigError(f"cannot load the adapter {self.adapter!r}: {err}") from err
        self._tok, self._lm = tok, lm.to(self.device).eval()

    def prompt(self, description: str) -> str:
        """The text given to the model: the task prompt in its chat template, if any."""
        self._load()
        text = format_prompt(description)
        if getattr(self._tok, "chat_template", None):
            out: str = self._tok.apply_chat_template([{"role": "user", "content": text}],
                                                     tokenize=False, add_generation_prompt=True)
            return out
        return text

    def _generate(self, enc: dict[str, Any], scores: bool, cache: Any = None) -> Any:
        extra = {}
        if cache is not None:
            # transformers 5 takes ``cache``; 4.x ``past_key_values``.
            base = self._lm.get_base_model() if hasattr(self._lm, "get_base_model") else self._lm
            params = inspect.signature(base.forward).parameters
            extra = {"cache" if "cache" in params else "past_key_values": cache}
        return self._lm.generate(**enc, do_sample=False, max_new_tokens=self.max_new_tokens,
                                 pad_token_id=self._tok.pad_token_id, output_scores=scores,
                                 return_dict_in_generate=True, **extra)

    def _shared_prefix(self, ids: list[list[int]]) -> tuple[int, Any]:
        """Length and key/value cache of the tokens every prompt starts with (0, None if few).

        The task prompt and chat template make up most of each prompt (121 of ~150 tokens for
        SmolLM2), and a CPU spends a third of a batch's time on that prefill; computed once, it
        is reused by every row. At least one token of each prompt stays outside it.
        """
        length = min(len(os.path.commonprefix(ids)), min(len(i) for i in ids) - 1)
        if length < _MIN_SHARED_PREFIX:
            return 0, None
        with torch.inference_mode():
            out = self._lm(input_ids=torch.tensor([ids[0][:length]], device=self.device),
                           use_cache=True)
        # transformers 5 names it ``cache``; 4.x ``past_key_values``.
        return length, out["cache"] if "cache" in out else out.past_key_values

    def generate(self, descriptions: Sequence[str]) -> list[str]:
        """Greedy answers, ``batch_size`` descriptions per forward pass."""
        return [text for text, _ in self.generate_scored(descriptions, scores=False)]

    def generate_scored(self, descriptions: Sequence[str], *, scores: bool = True
                        ) -> list[tuple[str, list[tuple[str, float]]]]:
        """Greedy answers with each generated token's text and log-probability.

        With ``scores=False`` the token list is empty: no per-step logits are kept, which saves
        memory (steps x batch x vocabulary floats) when confidence is not wanted.
        """
        self._load()
        if not descriptions:
            return []
        ids = [self._tok(self.prompt(d), add_special_tokens=False)["input_ids"]
               for d in descriptions]
        shared, prefix = self._shared_prefix(ids)
        self.shared_prefix_tokens = shared
        # Longest first, so each batch holds prompts of similar length and pads little; greedy
        # answers do not depend on the batch, and the results go back in the caller's order.
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        results: list[tuple[str, list[tuple[str, float]]]] = [("", [])] * len(ids)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            enc, cache = self._batch_inputs([ids[i] for i in batch], shared, prefix)
            with torch.inference_mode():
                out = self._generate(enc, scores, cache)
                logprobs = (self._lm.compute_transition_scores(out.sequences, out.scores,
                                                               normalize_logits=True)
                            if scores else [None] * len(out.sequences))
            width = enc["input_ids"].shape[1]
            for index, row, logps in zip(batch, out.sequences, logprobs):
                new = row[width:]
                tokens: list[tuple[str, float]] = []
                for i, tok_id in enumerate(new.tolist() if logps is not None else []):
                    if tok_id == self._tok.pad_token_id or tok_id in self._tok.all_special_ids:
                        continue
                    tokens.append((self._tok.decode([tok_id]), float(logps[i])))
                text = self._tok.decode(new, skip_special_tokens=True)
                results[index] = (text.strip(), tokens)
        return results

    def _batch_inputs(self, ids: list[list[int]], shared: int, prefix: Any
                      ) -> tuple[dict[str, Any], Any]:
        """Padded inputs for one batch, and its copy of the shared prefix's cache.

        Pads go after the shared prefix, where the cache already holds it, and are masked; the
        position of each real token then counts only unmasked ones, as with left padding.
        """
        pad = self._tok.pad_token_id
        width = max(len(i) for i in ids) - shared
        rows = [i[:shared] + [pad] * (width - len(i) + shared) + i[shared:] for i in ids]
        mask = [[1] * shared + [0] * (width - len(i) + shared) + [1] * (len(i) - shared)
                for i in ids]
        enc = {"input_ids": torch.tensor(rows, device=self.device),
               "attention_mask": torch.tensor(mask, device=self.device)}
        if prefix is None:
            return enc, None
        cache = copy.deepcopy(prefix)
        cache.batch_repeat_interleave(len(ids))
        return enc, cache
