"""The one provider registry: ``backend/model`` specs to provider objects, loaded on demand.

Built-in loaders import their SDK only when asked for; third parties register through the
``domainyours_eval.providers`` entry-point group (the entry point is a factory taking the model
name and keyword options). Both roles look providers up here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .._deps import require
from ..errors import ConfigError
from .base import Provider

__all__ = ["ENTRY_POINT_GROUP", "get_provider", "list_providers", "register_provider"]

Factory = Callable[..., Provider]
Loader = Callable[[], Factory]
_LOADERS: dict[str, Loader] = {}
ENTRY_POINT_GROUP = "domainyours_eval.providers"


def register_provider(backend: str) -> Callable[[Loader], Loader]:
    """Register a loader that returns the provider factory for ``backend`` (lowercase id)."""

    def deco(loader: Loader) -> Loader:
        if backend in _LOADERS:
            raise ConfigError(f"provider backend {backend!r} is already registered")
        _LOADERS[backend] = loader
        return loader

    return deco


@register_provider("openai")
def _openai() -> Factory:
    require("openai", extra="openai", feature="The OpenAI provider")
    from .openai import OpenAIProvider

    return OpenAIProvider


@register_provider("anthropic")
def _anthropic() -> Factory:
    require("anthropic", extra="anthropic", feature="The Anthropic provider")
    from .anthropic import AnthropicProvider

    return AnthropicProvider


@register_provider("hf")
def _hf() -> Factory:
    require("torch", extra="hf", feature="Local Hugging Face models")
    require("transformers", extra="hf", feature="Local Hugging Face models")
    from .hf import HFProvider

    return HFProvider


def _entry_point_loader(ep: EntryPoint) -> Loader:
    def load() -> Factory:
        factory: Factory = ep.load()
        return factory

    return load


def _loaders() -> dict[str, Loader]:
    plugins = {ep.name: _entry_point_loader(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**plugins, **_LOADERS}


def list_providers() -> list[str]:
    """Names of every registered provider backend, built-in and plug-in."""
    return sorted(_loaders())


def get_provider(spec: str, **options: Any) -> Provider:
    """Build a provider from ``backend/model``; ``options`` go to its constructor.

    Raises:
        ConfigError: No model named, or the backend is not registered (the message lists those
            that are).
    """
    backend, _, model = spec.partition("/")
    loaders = _loaders()
    if backend not in loaders:
        known = sorted(loaders)
        close = difflib.get_close_matches(backend, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"Unknown provider {backend!r} in {spec!r}. Registered: "
                          f"{', '.join(known)}.{hint}")
    if not model:
        raise ConfigError(f"{spec!r} names no model; write {backend}/<model>")
    return loaders[backend]()(model, **options)
