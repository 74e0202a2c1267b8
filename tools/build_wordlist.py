"""Rebuild domainyours_eval/judges/data/words.txt, the reference judge's English word list.

Source: the unigram counts shipped in the Apache-2.0 ``wordsegment`` package (derived from Peter
Norvig's web-corpus counts). We keep the most frequent words only, so segmentation stays fast and
the package small. Run: ``pip install wordsegment==1.3.1 && python tools/build_wordlist.py``.
"""

import importlib.util
import os
from pathlib import Path

TOP = 30_000
TWO_LETTER_TOP = 1_500

spec = importlib.util.find_spec("wordsegment")
assert spec and spec.submodule_search_locations, "pip install wordsegment==1.3.1"
src = Path(spec.submodule_search_locations[0]) / "unigrams.txt"
out = Path(__file__).resolve().parents[1] / "domainyours_eval" / "judges" / "data" / "words.txt"
rows = []
for rank, line in enumerate(src.read_text().splitlines()):
    if rank >= TOP:
        break
    word, count = line.split("\t")
    if not word.isalpha():
        continue
    if len(word) == 1 and word not in ("a", "i"):
        continue
    if len(word) == 2 and rank >= TWO_LETTER_TOP:
        continue
    rows.append(f"{word}\t{count}")
out.parent.mkdir(parents=True, exist_ok=True)
header = "# word\tcount -- top words of wordsegment 1.3.1 unigrams (Apache-2.0); see tools/build_wordlist.py\n"
out.write_text(header + "\n".join(rows) + "\n")
print(f"wrote {len(rows)} words to {os.path.relpath(out)}")
