"""What a provider is: one chat request in, one completion out, over a client it may own.

Both roles speak this: the judge sends a system block, the row and a JSON schema; the model under
test sends the task prompt and may ask for token log-probabilities. A provider turns that into
its SDK's call and maps the SDK's errors (``transport.map_sdk_error``); it never retries, caches
or counts cost, which ``transport.Transport`` does the same way for every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["ChatRequest", "Completion", "OwnedClient", "Provider"]


@dataclass(frozen=True)
class ChatRequest:
    """One call's content; the provider holds the model and sampling settings."""

    user: str
    """The user message."""
    system: str | None = None
    """A fixed system block, the same for every row of a run (providers may cache it)."""
    schema: dict[str, Any] | None = None
    """JSON schema the answer must follow, enforced where the backend can."""
    max_tokens: int | None = None
    """This call's token cap where it is tighter than the provider's (a bounded schema's)."""
    logprobs: bool = False
    """Ask for each answer token's log-probability (where served)."""


@dataclass(frozen=True)
class Completion:
    """A provider's raw answer."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)
    """``input_tokens``, ``output_tokens``, ``cache_read_tokens``, ``cache_write_tokens``."""
    tokens: tuple[tuple[str, float], ...] = ()
    """Answer tokens and their log-probabilities (empty unless asked for and served)."""


@runtime_checkable
class Provider(Protocol):
    """A backend that answers chat requests: the SDK-specific part of both roles."""

    backend: str
    model: str

    @property
    def env_var(self) -> str | None:
        """Environment variable holding the API key (named in authentication errors)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Everything that changes answers: model, base URL, sampling, structured-output mode."""
        ...

    async def complete(self, request: ChatRequest) -> Completion:
        """Call the model once; raise ``transport``'s error kinds on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections made for the run that is ending."""
        ...


class OwnedClient:
    """An SDK client that is either injected (the caller's) or made on first use (ours).

    Ours is closed by ``aclose`` at the end of each run: its connections belong to that run's
    event loop, and a provider may serve several runs.
    """

    _client: Any = None
    _owns_client: bool = True

    def _make_client(self) -> Any:
        raise NotImplementedError

    @property
    def client(self) -> Any:
        """The SDK client."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    async def aclose(self) -> None:
        """Close the client we made."""
        if self._owns_client and self._client is not None:
            await self._client.close()
            self._client = None
