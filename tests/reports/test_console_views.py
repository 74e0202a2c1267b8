"""The main terminal views, exactly: rendered on a fixed-width recording console, no colour.

The expected texts live in ``fixtures/console``. After a deliberate change to a view (or to the
protocol, which moves numbers and fingerprints), rewrite them with
``DOMAINYOURS_UPDATE_GOLDEN=1 pytest tests/reports/test_console_views.py`` and review the diff.
"""

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from domainyours_eval import compare, evaluate
from domainyours_eval.comparison import Comparison
from domainyours_eval.reports import comparison_renderable, report_renderable, results_renderable
from domainyours_eval.reports.build import build_report, build_single_report
from domainyours_eval.tasks import data_path

GOLDEN = Path(__file__).parents[1] / "fixtures" / "console"
WIDTH = 100


def render(renderable) -> str:
    console = Console(file=io.StringIO(), width=WIDTH, color_system=None, force_terminal=False,
                      legacy_windows=False, soft_wrap=False, record=True)
    console.print(renderable)
    return console.export_text()


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("DOMAINYOURS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} changed; see the module docstring to update it"


@pytest.fixture(scope="module")
def runs():
    testset = data_path("test_set.csv")
    return [evaluate(data_path(f"predictions_{v}.jsonl"), testset, model_name=v,
                     n_resamples=200, seed=0) for v in ("v1", "v2")]


def test_one_evaluation_renders_exactly(runs):
    text = render(results_renderable(runs[0]))
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    check("results_v1", text)


def test_a_comparison_renders_exactly(runs):
    check("comparison_v1_v2", render(comparison_renderable(compare(*runs))))


def test_the_report_of_one_checkpoint_renders_exactly(runs):
    report = build_single_report(runs[1]).model_copy(update={"generated_at": "fixed"})
    check("report_v2", render(report_renderable(report)))


def test_a_comparison_reloaded_from_json_renders_like_the_fresh_one(runs, tmp_path):
    cmp = compare(*runs)
    for res, name in zip(runs, ("v1", "v2")):
        res.save(tmp_path / name)
    fresh = build_report(cmp, runs).model_copy(update={"generated_at": "fixed"})
    # Saved results next to the comparison let it find its rows again.
    reloaded_cmp = compare(*[type(runs[0]).load(tmp_path / n / "results.json")
                             for n in ("v1", "v2")])
    reloaded_cmp.to_json(tmp_path / "comparison.json")
    again = Comparison.load(tmp_path / "comparison.json")
    text = render(comparison_renderable(again))
    assert text == render(comparison_renderable(cmp))
    check("report_v1_v2", render(report_renderable(fresh)))
