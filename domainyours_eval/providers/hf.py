"""A local Hugging Face causal LM (optionally with a PEFT/LoRA adapter) through transformers.

One loaded model serves two ways of asking. ``generate_texts`` answers a list of prompts greedily
in batches, longest first, with the tokens every prompt shares (the task prompt and chat
template) prefilled once into a key/value cache that each batch copies: the model under test.
``complete`` queues chat requests so concurrent rows are generated together, each decoded under
its own JSON schema with xgrammar when ``constrained``: the judge. Batches are left-padded, so a
row answers the same alone or in company. Device: CUDA, then MPS, then CPU. A ``.gguf`` file is
de-quantised by transformers; a folder holding only an adapter names its base model in
``adapter_config.json``. Imported only when an ``hf/`` spec is used.
"""

from __future__ import annotations

import asyncio
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

from ..errors import ConfigError, JudgeFatalError
from .base import ChatRequest, Completion

__all__ = ["DTYPES", "HFProvider", "load_causal_lm", "pick_device"]

DTYPES = ("float32", "bfloat16", "float16")
_MIN_SHARED_PREFIX = 16
"""Shorter shared prefixes are not worth a separate forward pass."""
_FREE_CAP = 600
"""New-token cap of an unconstrained request that sets none."""


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


def adapter_base(folder: str) -> str | None:
    """The base model an adapter-only folder names, or ``None`` when ``folder`` is no adapter."""
    config_file = Path(folder) / "adapter_config.json"
    if not config_file.is_file():
        return None
    base = json.loads(config_file.read_text()).get("base_model_name_or_path")
    if not base:
        raise ConfigError(f"{folder}: adapter_config.json names no base model "
                          "(base_model_name_or_path); pass the base model and adapter= apart")
    return str(base)


class HFProvider:
    """A loaded causal LM answering greedily, in batches, optionally under a JSON schema."""

    backend = "hf"
    env_var = None

    def __init__(self, model: str, *, adapter: str | None = None, device: str | None = None,
                 dtype: str | None = None, max_new_tokens: int | None = None,
                 batch_size: int = 8, constrained: bool = False, label: str | None = None
                 ) -> None:
        if dtype is not None and dtype not in DTYPES:
            raise ConfigError(f"hf/{model}: unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
        self.model = model
        self.adapter = adapter
        self.device = pick_device(device)
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        """Cap on new tokens; ``None``: each request's own (a bounded schema's), else 600."""
        self.batch_size = batch_size
        self.constrained = constrained
        self.label = label or f"hf/{model}"
        self.shared_prefix_tokens = 0
        """Tokens every prompt of the last ``generate_texts`` call shared, prefilled once."""
        self._lm: Any = None
        self._tok: Any = None
        self._compiler: Any = None
        self._grammars: dict[str, Any] = {}
        self._pending: list[tuple[ChatRequest, asyncio.Future[Completion]]] = []
        self._flushing = False

    def describe(self) -> dict[str, Any]:
        """Model, decoding and length limits (the device does not change greedy answers)."""
        return {"model": self.model, "decoding": "greedy",
                "max_new_tokens": self.max_new_tokens if self.max_new_tokens is not None
                else "from schema", "dtype": self.dtype or "default",
                "structured_output": "json_schema_xgrammar" if self.constrained
                else "prompt_only"}

    def load(self) -> None:
        """Load the model (and adapter) now; the first call would otherwise."""
        if self._lm is not None:
            return
        tok, lm = load_causal_lm(self.model, device=self.device, dtype=self.dtype,
                                 label=self.label)
        if self.adapter:
            from peft import PeftModel

            try:
                lm = PeftModel.from_pretrained(lm, self.adapter)
            except (OSError, ValueError) as err:
                raise ConfigError(f"cannot load the adapter {self.adapter!r}: {err}") from err
        self._tok, self._lm = tok, lm.to(self.device).eval()

    @property
    def tokenizer(self) -> Any:
        """The loaded tokenizer."""
        self.load()
        return self._tok

    @property
    def network(self) -> Any:
        """The loaded model (with its adapter), for probes that read its logits."""
        self.load()
        return self._lm

    def chat_text(self, user: str, system: str | None = None, *, fallback: str = "{text}") -> str:
        """The prompt as the model reads it: its chat template, or ``fallback`` without one."""
        self.load()
        messages = [{"role": "user", "content": user}]
        if system is not None:
            messages.insert(0, {"role": "system", "content": system})
        if getattr(self._tok, "chat_template", None):
            out: str = self._tok.apply_chat_template(messages, tokenize=False,
                                                     add_generation_prompt=True)
            return out
        text = user if system is None else f"{system}\n\n{user}"
        return fallback.format(text=text)

    async def aclose(self) -> None:
        """Nothing to release: the model stays loaded for the next run."""

    # --- many prompts at once (the model under test) -----------------------------------------

    def _generate(self, enc: dict[str, Any], scores: bool, cache: Any = None,
                  max_new_tokens: int | None = None, **options: Any) -> Any:
        extra = dict(options)
        if cache is not None:
            # transformers 5 takes ``cache``; 4.x ``past_key_values``.
            base = self._lm.get_base_model() if hasattr(self._lm, "get_base_model") else self._lm
            params = inspect.signature(base.forward).parameters
            extra["cache" if "cache" in params else "past_key_values"] = cache
        return self._lm.generate(**enc, do_sample=False,
                                 max_new_tokens=max_new_tokens or self.max_new_tokens or _FREE_CAP,
                                 pad_token_id=self._tok.pad_token_id, output_scores=scores,
                                 return_dict_in_generate=True, **extra)

    def shared_prefix(self, ids: list[list[int]]) -> tuple[int, Any]:
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

    def generate_texts(self, prompts: Sequence[str], *, scores: bool = True
                       ) -> list[tuple[str, list[tuple[str, float]]]]:
        """Greedy answers to ready prompts, each with its tokens' texts and log-probabilities.

        With ``scores=False`` the token lists are empty: no per-step logits are kept, which
        saves memory (steps x batch x vocabulary floats) when confidence is not wanted.
        """
        self.load()
        if not prompts:
            return []
        ids = [self._tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
        shared, prefix = self.shared_prefix(ids)
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

    # --- queued chat requests (the judge) ------------------------------------------------------

    def _grammar(self, schema: dict[str, Any]) -> Any:
        """The compiled grammar of a schema (compiled once per distinct schema)."""
        import xgrammar as xgr

        if self._compiler is None:
            info = xgr.TokenizerInfo.from_huggingface(
                self._tok, vocab_size=self._lm.config.vocab_size)
            self._compiler = xgr.GrammarCompiler(info)
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            # Compact separators: a schema's length bound counts no spaces.
            self._grammars[key] = self._compiler.compile_json_schema(
                json.dumps(schema), any_whitespace=False, separators=(",", ":"))
        return self._grammars[key]

    def complete_batch(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Answer chat requests together in one left-padded batch."""
        self.load()
        texts = [self.chat_text(r.user, r.system, fallback="{text}\n\nJSON verdict:\n")
                 for r in requests]
        enc = self._tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        options: dict[str, Any] = {}
        cap = self.max_new_tokens
        if self.constrained and all(r.schema is not None for r in requests):
            import xgrammar as xgr

            # A processor holds decoding state: a new one per batch, a grammar per row.
            options["logits_processor"] = [xgr.contrib.hf.LogitsProcessor(
                [self._grammar(r.schema) for r in requests if r.schema is not None])]
            if cap is None and all(r.max_tokens for r in requests):
                cap = max(r.max_tokens or 0 for r in requests)
        try:
            with torch.inference_mode():
                out = self._generate(enc, False, max_new_tokens=cap, **options)
        except AssertionError as err:
            if "logits_processor" not in options:
                raise
            # xgrammar asserts when no token the model can emit continues the JSON.
            raise JudgeFatalError(
                f"{self.label}: its tokenizer cannot spell the answer schema (a name or a JSON "
                "character is not in its vocabulary), so constrained decoding cannot go on; "
                "judge with constrained=False to record its free answers as errors "
                "instead") from err
        width = enc["input_ids"].shape[1]
        results = []
        for i, row in enumerate(out.sequences):
            new = row[width:]
            if self._tok.pad_token_id is not None:
                new = new[new != self._tok.pad_token_id]
            results.append(Completion(
                text=self._tok.decode(new, skip_special_tokens=True),
                usage={"input_tokens": int(enc["attention_mask"][i].sum()),
                       "output_tokens": int(new.shape[0])}))
        return results

    async def complete(self, request: ChatRequest) -> Completion:
        """Queue the request; concurrent requests are generated together in batches."""
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
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
                    results = await asyncio.to_thread(self.complete_batch, [r for r, _ in batch])
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
