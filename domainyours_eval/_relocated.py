"""Deprecated module aliases: a moved name still imports from its old module, with a warning.

As inspect_ai's ``relocated_module_attribute``: the old module keeps a ``__getattr__`` that
imports the name from its new home and warns once per access with a ``DeprecationWarning``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["relocated"]


def relocated(old: str, new: str, names: list[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``names`` of module ``old`` from module ``new``."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(f"{old}.{name} moved to {new}.{name}; import it from there",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(new), name)

    return __getattr__
