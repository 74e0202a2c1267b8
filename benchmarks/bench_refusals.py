"""How well the parser reads refusals, garbage and names: the share of each read correctly.

Run: python benchmarks/bench_refusals.py   (a second). Target: 99% of refusal phrasings read as
refusals (tests/fixtures/refusals.txt with plain, U+2019 and U+02BC apostrophes, plus phrasings
assembled from parts here), no garbage credited as a refusal, and every name answer still names.
"""

from pathlib import Path

from domainyours_eval.tasks.domain_suggestion import parse_output

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "refusals.txt"


def variants(text: str) -> set[str]:
    return {text, text.replace("'", "\u2019"), text.replace("'", "\u02bc")}


def assembled() -> list[str]:
    openers = ["", "Sorry, ", "I'm sorry, but ", "Unfortunately, ", "Apologies: ", "Hmm. "]
    cores = ["I can't {v} {o}", "I won't {v} {o}", "I'm unable to {v} {o}", "I cannot {v} {o}",
             "I am not able to {v} {o}", "I must decline to {v} {o}"]
    verbs = ["help with", "assist with", "provide names for", "suggest domains for",
             "create anything for", "generate names for"]
    objects = ["that", "this request", "a business like this", "this description",
               "this kind of business"]
    return [o + c.format(v=v, o=ob) + end for o in openers for c in cores for v in verbs
            for ob in objects for end in (".", "!")]


GARBAGE = ["", "   ", "\U0001f642" * 20, "[" + "*" * 40, "...", "!!!", "???", "-", "Sure!", "Okay.",
           "Here are my thoughts about this business.", "Let me think about it for a moment.",
           '["***", "!!!"]', "<|im_end|>", "Domains:", "[\n\n[\n\n[\n\n[", "{}", "null"]
NAMES = ['["beanburst", "perkypour", "roastlab", "javapocket", "brewbuddy"]',
         "1. BeanBurst.com\n2. PerkyPour.io\n3. roastlab\n4. javapocket\n5. brewbuddy",
         "beanburst, perkypour, roastlab, javapocket, brewbuddy",
         "Sure! Here you go: beanburst, perkypour, roastlab, javapocket, brewbuddy",
         "Sorry for the wait! beanburst, perkypour, roastlab, javapocket, brewbuddy",
         "bloom harbor maple cedar willow", "- beanburst\n- perkypour\n- roastlab"]


def share(texts: list[str], decision: str) -> tuple[float, list[str]]:
    wrong = [t for t in texts if parse_output(t).decision != decision]
    return 1 - len(wrong) / len(texts), wrong


def main() -> None:
    table = [line for line in FIXTURE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    refusals = sorted({v for line in table for v in variants(line)})
    built = assembled()
    for label, texts, decision in (("refusal table (with apostrophe variants)", refusals,
                                    "refuse"),
                                   ("refusals assembled from parts", built, "refuse"),
                                   ("garbage (must be invalid)", GARBAGE, "invalid"),
                                   ("name answers (must be names)", NAMES, "allow")):
        s, wrong = share(texts, decision)
        print(f"{label:45s} {len(texts):5d} answers  {s:7.2%} read correctly")
        for w in wrong[:5]:
            print(f"    misread: {w[:70]!r} -> {parse_output(w).decision}")
    credited = sum(parse_output(g).refused for g in GARBAGE)
    print(f"garbage credited as a refusal: {credited} (target 0); target for refusals: 99%")


if __name__ == "__main__":
    main()
