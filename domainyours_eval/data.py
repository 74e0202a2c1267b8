"""Test sets and predictions, as imported before they had modules of their own.

``testsets`` loads test sets, ``predictions`` reads predictions files and ``tasks.lint`` holds the
dataset rules; every name here is theirs.
"""

from __future__ import annotations

from .models.predictions import load_predictions, read_predictions
from .tasks.lint import lint_rows
from .testsets import TestRow, TestSet, load_testset, read_jsonl

__all__ = [
    "TestRow",
    "TestSet",
    "lint_rows",
    "load_predictions",
    "load_testset",
    "read_jsonl",
    "read_predictions",
]
