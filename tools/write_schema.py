"""Regenerate the JSON schemas in docs/ from the result models: python tools/write_schema.py."""

import json
from pathlib import Path

from domainyours_eval.comparison import Comparison
from domainyours_eval.results import EvalResults

DOCS = Path(__file__).resolve().parents[1] / "docs"


def schemas() -> dict[str, str]:
    return {
        "results.schema.json": json.dumps(EvalResults.model_json_schema(), indent=2) + "\n",
        "comparison.schema.json": json.dumps(Comparison.model_json_schema(), indent=2) + "\n",
    }


if __name__ == "__main__":
    for name, text in schemas().items():
        (DOCS / name).write_text(text)
        print(f"wrote docs/{name}")
