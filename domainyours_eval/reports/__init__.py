"""Reports: rich terminal renderables of results and comparisons."""

from .console import comparison_renderable, results_renderable

__all__ = ["comparison_renderable", "results_renderable"]
