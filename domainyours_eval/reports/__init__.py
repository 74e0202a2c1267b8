"""Reports: the terminal, HTML and Markdown views of results and comparisons."""

from .console import comparison_renderable, report_renderable, results_renderable
from .model import ComparisonReport, build_report

__all__ = ["ComparisonReport", "build_report", "comparison_renderable", "report_renderable",
           "results_renderable"]
