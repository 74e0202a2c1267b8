"""A Hugging Face causal LM (optionally with a PEFT/LoRA adapter) as the model under test.

The role's part only: the task prompt in the tokenizer's chat template when it has one (plain
text otherwise), and which adapter sits on which base. Loading, batched greedy generation and the
shared-prefix cache are the ``hf`` provider's. A folder that holds only an adapter is recognised
by its ``adapter_config.json``, and its base model is read from there. Imported only when an
``hf/`` model is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..providers.hf import DTYPES, HFProvider, adapter_base, load_causal_lm, pick_device
from ..tasks.domain_suggestion import format_prompt

__all__ = ["DTYPES", "HFModel", "load_causal_lm", "pick_device"]


class HFModel:
    """A local causal LM under test. ``HFModel(base, adapter="path/to/lora")``."""

    def __init__(self, model: str, *, adapter: str | None = None, device: str | None = None,
                 dtype: str | None = None, max_new_tokens: int = 64, batch_size: int = 16) -> None:
        self.base = model
        self.adapter = adapter
        if adapter is None:
            base = adapter_base(model)
            if base is not None:
                # An adapter folder given alone: its config names the base model.
                self.base, self.adapter = base, model
        self.provider = HFProvider(self.base, adapter=self.adapter, device=device, dtype=dtype,
                                   max_new_tokens=max_new_tokens, batch_size=batch_size,
                                   label=f"hf/{self.base}")
        self.name = Path(self.adapter or self.base).name or self.base

    device = property(lambda self: self.provider.device, doc="Where the model runs.")
    dtype = property(lambda self: self.provider.dtype, doc="The weights' dtype (None: default).")

    @property
    def max_new_tokens(self) -> int | None:
        """Cap on new tokens per answer."""
        return self.provider.max_new_tokens

    @max_new_tokens.setter
    def max_new_tokens(self, value: int | None) -> None:
        self.provider.max_new_tokens = value

    @property
    def batch_size(self) -> int:
        """Rows per forward pass."""
        return int(self.provider.batch_size)

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self.provider.batch_size = value

    @property
    def shared_prefix_tokens(self) -> int:
        """Tokens every prompt of the last ``generate`` call shared, prefilled once for all."""
        return int(self.provider.shared_prefix_tokens)

    def describe(self) -> dict[str, Any]:
        """Spec and generation parameters, stored with every prediction."""
        return {"model": f"hf/{self.base}", "adapter": self.adapter, "decoding": "greedy",
                "max_new_tokens": self.max_new_tokens, "dtype": self.dtype or "default"}

    def load(self) -> None:
        """Load the model and adapter now (the first ``generate`` would otherwise)."""
        self.provider.load()

    def prompt(self, description: str) -> str:
        """The text given to the model: the task prompt in its chat template, if any."""
        return self.provider.chat_text(format_prompt(description))

    def generate(self, descriptions: Sequence[str]) -> list[str]:
        """Greedy answers, ``batch_size`` descriptions per forward pass."""
        return [text for text, _ in self.generate_scored(descriptions, scores=False)]

    def generate_scored(self, descriptions: Sequence[str], *, scores: bool = True
                        ) -> list[tuple[str, list[tuple[str, float]]]]:
        """Greedy answers with each generated token's text and log-probability."""
        return self.provider.generate_texts([self.prompt(d) for d in descriptions],
                                            scores=scores)
