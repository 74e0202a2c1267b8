"""Providers: the only place a model is called, for the judge and the model under test alike.

A provider (``openai``, ``anthropic``, ``hf``, or a plug-in) turns a ``ChatRequest`` into a
``Completion``; a ``Transport`` adds what every call shares: the SQLite cache, retries with
backoff, SDK error mapping and cost accounting. SDKs are imported only when their backend is
asked for.
"""

from ._registry import ENTRY_POINT_GROUP, get_provider, list_providers, register_provider
from .base import ChatRequest, Completion, OwnedClient, Provider
from .transport import (
    DEFAULT_PRICES,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    TIMEOUT_RETRIES,
    Transport,
    map_sdk_error,
    retry_after_seconds,
    with_retries,
)

__all__ = [
    "DEFAULT_PRICES",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENTRY_POINT_GROUP",
    "TIMEOUT_RETRIES",
    "ChatRequest",
    "Completion",
    "OwnedClient",
    "Provider",
    "Transport",
    "get_provider",
    "list_providers",
    "map_sdk_error",
    "register_provider",
    "retry_after_seconds",
    "with_retries",
]
