"""Output-parser throughput on a mix of the answer shapes real models produce.

Run: python benchmarks/bench_parser.py [--outputs 50000]   (a few seconds)
Target: 50,000 outputs/s on this 2-core machine.
"""

import argparse
import time

from domainyours_eval.tasks.domain_suggestion import parse_output

SHAPES = [
    '["beanburst", "perkypour", "roastlab", "javapocket", "brewbuddy"]',
    "['BeanBurst', 'perkypour.com', 'roast lab', 'javapocket', 'brewbuddy']",
    "1. BeanBurst.com - playful\n2. PerkyPour.io\n3. roastlab\n4. javapocket\n5. brewbuddy",
    "Here are some ideas:\n- beanburst\n- perkypour\n- roastlab\n- javapocket\n- brewbuddy",
    "beanburst, perkypour, roastlab, javapocket, brewbuddy",
    "I'm sorry, but I can't help with that request.",
    "[]",
    'Sure! ["beanburst", "perkypour", "beanburst"] Hope it helps!',
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--outputs", type=int, default=50_000)
    args = ap.parse_args()
    # Vary each answer so no cache could help.
    answers = [SHAPES[i % len(SHAPES)].replace("roast", f"roast{i % 97}") for i in range(args.outputs)]
    t0 = time.perf_counter()
    for a in answers:
        parse_output(a)
    dt = time.perf_counter() - t0
    print(f"parsed {len(answers)} outputs in {dt:.2f} s")
    print(f"parse rate: {len(answers) / dt:,.0f} outputs/s (target 50,000)")


if __name__ == "__main__":
    main()
