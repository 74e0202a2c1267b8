"""Time of `import domainyours_eval` in a fresh interpreter (best of 5).

Run: python benchmarks/bench_import.py   (a few seconds). Target: under 0.3 s.
"""

import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import domainyours_eval; print(time.perf_counter() - t)"


def main() -> None:
    times = [float(subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(5)]
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, domainyours_eval; print(sorted(m for m in "
         "('numpy','scipy','pydantic','torch','transformers','openai','anthropic','lm_eval') "
         "if m in sys.modules))"], capture_output=True, text=True, check=True).stdout.strip()
    print(f"heavy modules loaded by the import: {heavy}")
    print(f"import domainyours_eval: {min(times):.3f} s (best of 5; target < 0.3 s)")


if __name__ == "__main__":
    main()
