"""The one provider registry: ``backend/model`` specs to provider objects, loaded on demand.

Built-in loaders import their SDK only when asked for; third parties register through the
``domainyours_eval.providers`` entry-point group. The entry point is a factory taking the model
name and keyword options; both roles pass ``client``, ``temperature``, ``max_tokens``, ``timeout``
and ``role`` (``"judge"`` or ``"model"``), and built-ins take more (``base_url`` for openai).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._deps import require
from .._plugins import Registry
from ..errors import ConfigError
from .base import Provider

__all__ = ["ENTRY_POINT_GROUP", "get_provider", "list_providers", "register_provider"]

Factory = Callable[..., Provider]
ENTRY_POINT_GROUP = "domainyours_eval.providers"
_REGISTRY: Registry[Factory] = Registry("provider", ENTRY_POINT_GROUP)
register_provider = _REGISTRY.register


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


def list_providers() -> list[str]:
    """Names of every registered provider backend, built-in and plug-in."""
    return _REGISTRY.names()


def get_provider(spec: str, **options: Any) -> Provider:
    """Build a provider from ``backend/model``; ``options`` go to its constructor.

    Raises:
        ConfigError: No model named, or the backend is not registered (the message lists those
            that are).
    """
    backend, _, model = spec.partition("/")
    loaders = _REGISTRY.loaders()
    if backend not in loaders:
        raise ConfigError(_REGISTRY.unknown(backend, spec))
    if not model:
        raise ConfigError(f"{spec!r} names no model; write {backend}/<model>")
    return loaders[backend]()(model, **options)
