r"""Turn one checkpoint's failures into the prompt for the next dataset version, then generate it.

Reads a ``results.json`` and summarises its failure modes the way the seed report studied v1:
missed harmful rows (the worst failure), false positives (legitimate businesses refused), the
lowest-quality rows, the judge's weak categories (random / too_long / other names), the weakest
slices and the most frequent format violations. That summary becomes a targeted generation
prompt, which ``generate_dataset.py`` sends to Claude or an OpenAI-compatible model; the answer
goes through the same row checks (invalid rows are reported and dropped).

Run (seconds for the summary; 1-2 minutes for the model call; no local hardware needed):
    python examples/augment_from_edge_cases.py --results runs/v1/results.json --out data/v2 \\
        --prompt-only                                  # summary and prompt only
    ANTHROPIC_API_KEY=... python examples/augment_from_edge_cases.py \\
        --results runs/v1/results.json --out data/v2 --rows 40 --refusals 12

Writes OUT/failure_summary.json, OUT/augment_prompt.md and (unless --prompt-only)
OUT/dataset_v2_augment.csv with OUT/rejected_rows.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from generate_dataset import (
    DEFAULT_MODELS,
    FORMAT_RULES,
    SUGGESTION_RULES,
    call_model,
    print_report,
    save_answer,
)

from domainyours_eval import EvalResults

WEAK_CATEGORIES = ("random", "too_long", "other")


def summarise(results: EvalResults, *, lowest: int = 5, examples: int = 6) -> dict[str, Any]:
    """The failure modes of one evaluation, with example rows for each."""
    rows = results.rows

    def brief(index: int) -> dict[str, Any]:
        r = rows[index]
        return {"description": r.description, "answer": list(r.suggestions),
                "row_score": r.row_score,
                "categories": dict(r.categories) if r.categories else {}}

    named = sum(results.categories.values())
    weak = {c: results.categories.get(c, 0) for c in WEAK_CATEGORIES}
    slices = [(name, s) for name, s in results.slices.items()
              if name != "all" and s.n >= 2]
    weak_slices = sorted(
        ({"slice": name, "n": s.n, "quality": s.metrics.quality.value,
          "missed": s.confusion.missed_inappropriate,
          "false_positives": s.confusion.false_positive_inappropriate}
         for name, s in slices),
        key=lambda d: (-(d["missed"] + d["false_positives"]),
                       d["quality"] if d["quality"] is not None else 2.0))
    return {
        "model": results.model.name,
        "rows": len(rows),
        "quality": results.metrics.quality.value,
        "allow_f1": results.metrics.allow_f1.value,
        "refusal_f1": results.metrics.refusal_f1.value,
        "missed": [brief(i) for i in results.edge_cases.missed[:examples]],
        "n_missed": len(results.edge_cases.missed),
        "false_positives": [brief(i) for i in results.edge_cases.false_positives[:examples]],
        "n_false_positives": len(results.edge_cases.false_positives),
        "lowest_quality": [brief(i) for i in results.edge_cases.lowest[:lowest]],
        "weak_categories": {c: {"names": n, "share": round(n / named, 3) if named else 0.0}
                            for c, n in weak.items()},
        "weak_slices": weak_slices[:5],
        "violations": dict(sorted(results.violations.items(), key=lambda kv: -kv[1])[:5]),
    }


def build_prompt(summary: dict[str, Any], *, rows: int, refusals: int,
                 file_name: str = "dataset_v2_augment.csv") -> str:
    """A generation prompt aimed at the failures in ``summary``."""
    def show(items: list[dict[str, Any]]) -> str:
        return "\n".join(f"  - {json.dumps(i['description'][:300])} -> answered "
                         f"{json.dumps(i['answer'])}" for i in items) or "  (none)"

    weak = ", ".join(f"{c} {v['share']:.0%}" for c, v in summary["weak_categories"].items())
    slices = "\n".join(f"  - {s['slice']}: {s['n']} rows, quality {s['quality']}, "
                       f"{s['missed']} missed, {s['false_positives']} false positives"
                       for s in summary["weak_slices"]) or "  (none)"
    return "\n".join([
        "You are generating one CSV file that augments a domain-name suggestion dataset. The "
        f"model fine-tuned on the current data ({summary['model']}) was evaluated on "
        f"{summary['rows']} rows: quality {summary['quality']}, allow-F1 {summary['allow_f1']}, "
        f"refusal-F1 {summary['refusal_f1']}. Write new rows that teach it what it got wrong.",
        FORMAT_RULES,
        f"File: {file_name}",
        f"- Rows: about {rows}, of which about {refusals} refusal rows (suggestions [])",
        f"- Harmful requests it MISSED ({summary['n_missed']}; most important). Write refusal "
        "rows on these themes and close variations (other wordings, mixed with harmless "
        "detail, minors combined with alcohol/tobacco/gambling):",
        show(summary["missed"]),
        f"- Legitimate businesses it REFUSED ({summary['n_false_positives']}). Write safe rows "
        "that sound close to harmful topics but are legal (law firms, harm-reduction services, "
        "adult education) with 5 good names each:",
        show(summary["false_positives"]),
        "- Its lowest-quality answers. Write safe rows in these industries with distinctive, "
        "relevant, concise names:",
        show(summary["lowest_quality"]),
        f"- Weak name categories in its answers: {weak}. Avoid generic or random word mashups "
        "and overly long names in your suggestions.",
        "- Weakest slices of the test set:",
        slices,
        "- Do not copy the descriptions above; write new ones on the same themes.",
        SUGGESTION_RULES,
    ]) + "\n"


def parser() -> argparse.ArgumentParser:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, required=True, help="results.json (or its folder)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--refusals", type=int, default=12)
    ap.add_argument("--provider", choices=("anthropic", "openai"), default="anthropic")
    ap.add_argument("--model", help="default: claude-sonnet-4-6 / gpt-4o")
    ap.add_argument("--base-url", help="OpenAI-compatible server (openai provider)")
    ap.add_argument("--max-tokens", type=int, default=12000)
    ap.add_argument("--prompt-only", action="store_true", help="write summary and prompt, stop")
    return ap


def main(argv: list[str] | None = None, *, client: Any = None) -> dict[str, Any]:
    """Summarise, write the prompt, and (unless --prompt-only) generate the augmentation."""
    args = parser().parse_args(argv)
    summary = summarise(EvalResults.load(args.results))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "failure_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    prompt = build_prompt(summary, rows=args.rows, refusals=args.refusals)
    (args.out / "augment_prompt.md").write_text(prompt, encoding="utf-8")
    print(f"{summary['n_missed']} missed, {summary['n_false_positives']} false positives, "
          f"quality {summary['quality']}; wrote {args.out / 'augment_prompt.md'}")
    if args.prompt_only:
        return {"summary": summary}
    answer = call_model(prompt, provider=args.provider,
                        model=args.model or DEFAULT_MODELS[args.provider], client=client,
                        base_url=args.base_url, max_tokens=args.max_tokens)
    report = save_answer(answer, args.out)
    print_report(report)
    return {"summary": summary, **report}


if __name__ == "__main__":
    main()
