"""Optional dependencies: fail only when a feature needs one, with the install command."""

from __future__ import annotations

import importlib.util

from .errors import MissingDependencyError


def require(module: str, *, extra: str, feature: str, install: str | None = None) -> None:
    """Raise ``MissingDependencyError`` unless ``module`` can be imported.

    Args:
        module: Importable module name, e.g. ``"pandas"``.
        extra: The package extra that installs it, e.g. ``"pandas"``.
        feature: What the user asked for, used in the message.
        install: The install command, when it is not the extra's.
    """
    if importlib.util.find_spec(module) is None:
        command = install or f"pip install 'domainyours-eval[{extra}]'"
        raise MissingDependencyError(
            f"{feature} needs the optional package {module!r}. Install it with: {command}"
        )
