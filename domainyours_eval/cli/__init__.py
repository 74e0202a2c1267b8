"""The ``domainyours-eval`` command line: evaluate, compare, validate and the offline demo.

``app`` holds the shared flags and helpers; each command module registers its commands on it
when imported here, in the order ``--help`` lists them.
"""

import importlib

from .app import app

__all__ = ["app", "main"]

for _module in ("run", "review", "labels", "audit", "batches", "cache"):
    importlib.import_module(f"{__name__}.{_module}")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="domainyours-eval")
