"""A lazy registry of named factories: built-in loaders plus an entry-point group.

Judges and providers each keep one. A loader imports its backend only when its name is asked
for; a third party's entry point is found by ``importlib.metadata`` at lookup time; registering a
built-in name twice raises; an unknown name lists the registered ones and the closest match.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

from .errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to loaders of ``T`` (a factory), built-in and from ``group``."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._builtin: dict[str, Callable[[], T]] = {}

    def register(self, name: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
        """Decorator: register a loader returning the factory for ``name`` (a lowercase id)."""

        def deco(loader: Callable[[], T]) -> Callable[[], T]:
            if name in self._builtin:
                raise ConfigError(f"{self.kind} backend {name!r} is already registered")
            self._builtin[name] = loader
            return loader

        return deco

    def loaders(self) -> dict[str, Callable[[], T]]:
        """Every loader by name; a built-in wins over a plug-in of the same name."""
        plugins = {ep.name: self._load(ep) for ep in entry_points(group=self.group)}
        return {**plugins, **self._builtin}

    def names(self) -> list[str]:
        """Sorted names of every registered backend."""
        return sorted(self.loaders())

    def unknown(self, name: str, spec: str) -> str:
        """The message for a name nobody registered: the known ones and the closest match."""
        known = self.names()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return (f"Unknown {self.kind} backend {name!r} in {spec!r}. Registered: "
                f"{', '.join(known)}.{hint}")

    @staticmethod
    def _load(ep: EntryPoint) -> Callable[[], Any]:
        return ep.load
