"""Reports: the terminal, HTML and Markdown views of results and comparisons."""

from .build import build_report
from .console import comparison_renderable, report_renderable, results_renderable
from .model import ComparisonReport

__all__ = ["ComparisonReport", "build_report", "comparison_renderable", "report_renderable",
           "results_renderable"]
