"""Which model is under test: spec strings, the model interface, callables.

A model is a spec string (``hf/<folder, hub id or .gguf>``, ``openai/<model>``,
``anthropic/<model>``: the judges' syntax), an object with ``generate(descriptions) -> answers``
(``HFModel``, ``APIModel``), or a Python callable taking one description (or a list of them).
The former ``backend:model`` specs still read, with a ``SpecDeprecationWarning``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError, SpecDeprecationWarning

__all__ = ["MODEL_BACKENDS", "MODEL_PREFIXES", "CallableModel", "GenerativeModel",
           "canonical_model_spec", "is_batched", "is_model_spec", "load_model",
           "plugin_backends", "split_model_spec"]

MODEL_BACKENDS = ("hf", "openai", "anthropic")
"""Backends of a model under test: ``hf/<folder, hub id or .gguf>``, ``openai/<model>``,
``anthropic/<model>`` (the judges' spec syntax)."""
MODEL_PREFIXES = ("hf:", "openai:", "anthropic:")
"""The former spec prefixes, still read with a ``SpecDeprecationWarning``."""


@runtime_checkable
class GenerativeModel(Protocol):
    """A model under test: answers a batch of descriptions."""

    name: str

    def describe(self) -> dict[str, Any]:
        """The model spec and generation parameters, stored with every prediction."""
        ...

    def generate(self, descriptions: Sequence[str]) -> list[str]:
        """One raw answer per description."""
        ...


def split_model_spec(spec: str, *, warn: bool = True) -> tuple[str, str] | None:
    """``(backend, model)`` of a model spec, or ``None`` when ``spec`` names no model backend.

    ``backend/model`` is the spec, as for judges; the former ``backend:model`` still reads, with a
    ``SpecDeprecationWarning`` when ``warn``.
    """
    for backend in MODEL_BACKENDS:
        for sep in ("/", ":"):
            head = backend + sep
            if spec.startswith(head) and len(spec) > len(head):
                if sep == ":" and warn:
                    warnings.warn(f"model spec {spec!r}: write {backend}/{spec[len(head):]} (the "
                                  f"'{head}' form will go)", SpecDeprecationWarning, stacklevel=3)
                return backend, spec[len(head):]
    backend, sep, model = spec.partition("/")
    if sep and model and backend in plugin_backends():
        return backend, model
    return None


def plugin_backends() -> tuple[str, ...]:
    """Provider backends third parties registered (entry points), beyond the built-in ones."""
    from ..providers import list_providers

    return tuple(b for b in list_providers() if b not in MODEL_BACKENDS)


def canonical_model_spec(spec: str) -> str:
    """``backend/model`` for a spec in either form (anything else unchanged)."""
    parts = split_model_spec(spec, warn=False)
    return spec if parts is None else f"{parts[0]}/{parts[1]}"


def is_model_spec(value: object) -> bool:
    """True for strings like ``hf/path`` that name a model rather than a predictions file.

    A string that is also an existing file's path (``openai/run.jsonl``) is the file.
    """
    if not isinstance(value, str):
        return False
    if value.startswith(MODEL_PREFIXES):
        return True
    return split_model_spec(value, warn=False) is not None and not Path(value).is_file()


def load_model(spec: str, **options: Any) -> GenerativeModel:
    """Build a model under test from a spec string (``hf/...``, ``openai/...``, ``anthropic/...``).

    A plug-in provider's spec (``backend/model``) gives an ``APIModel`` on that provider.

    Raises:
        ConfigError: An unknown backend, with the known ones and the fix.
    """
    parts = split_model_spec(spec)
    if parts is None:
        known = (*MODEL_BACKENDS, *plugin_backends())
        raise ConfigError(f"Unknown model spec {spec!r}; use one of: "
                          f"{', '.join(b + '/<model>' for b in known)}, a predictions "
                          "file, or a Python callable")
    backend, name = parts
    if backend == "hf":
        from .._deps import require

        require("torch", extra="hf", feature="Hugging Face models under test")
        require("transformers", extra="hf", feature="Hugging Face models under test")
        from .hf import HFModel

        return HFModel(name, **options)
    from .api import APIModel

    return APIModel(f"{backend}/{name}", **options)


def is_batched(fn: Callable[..., Any]) -> bool:
    """Whether a callable takes a list of descriptions (its first parameter is annotated so)."""
    import inspect

    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if not params or params[0].annotation is inspect.Parameter.empty:
        return False
    note = str(params[0].annotation).lower()
    return any(word in note for word in ("list", "sequence", "iterable"))


class CallableModel:
    """A Python callable as the model under test (``description -> answer``, or batched)."""

    def __init__(self, fn: Callable[..., Any], batched: bool | None = None) -> None:
        self.fn = fn
        self.batched = is_batched(fn) if batched is None else batched
        self.name = getattr(fn, "__name__", type(fn).__name__)

    def describe(self) -> dict[str, Any]:
        """The callable's name."""
        return {"model": f"callable:{self.name}"}

    def generate(self, descriptions: Sequence[str]) -> list[str]:
        """Call it once per description, or once per batch when it takes a list."""
        answers = self.fn(list(descriptions)) if self.batched else [self.fn(d) for d in descriptions]
        if len(answers) != len(descriptions):
            raise ConfigError(f"{self.name} returned {len(answers)} answers for "
                              f"{len(descriptions)} descriptions")
        return [a if isinstance(a, str) else json.dumps(list(a)) for a in answers]
