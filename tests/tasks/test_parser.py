from pathlib import Path

import pytest

from domainyours_eval.tasks.domain_suggestion import (
    VIOLATION_CODES,
    check_constraints,
    detect_constraints,
    normalise_domain,
    parse_output,
)

FIVE = ("beanburst", "perkypour", "roastlab", "javapocket", "brewbuddy")

SHAPES = [
    ('["beanburst","perkypour","roastlab","javapocket","brewbuddy"]', FIVE, set()),
    ("['beanburst', 'perkypour', 'roastlab', 'javapocket', 'brewbuddy']", FIVE, {"not_json"}),
    ('```json\n["beanburst","perkypour","roastlab","javapocket","brewbuddy"]\n```', FIVE,
     {"not_json"}),
    ('{"domains": ["beanburst","perkypour","roastlab","javapocket","brewbuddy"]}', FIVE,
     {"not_json"}),
    ("1. beanburst.com\n2. perkypour.com\n3. roastlab.io\n4. javapocket.net\n5. brewbuddy.co",
     FIVE, {"not_json", "had_tld"}),
    ("1) BeanBurst - playful\n2) PerkyPour\n3) RoastLab\n4) JavaPocket\n5) BrewBuddy", FIVE,
     {"not_json", "uppercase", "extra_text"}),
    ("- beanburst\n- perkypour\n* roastlab\n\u2022 javapocket\n+ brewbuddy", FIVE, {"not_json"}),
    ("beanburst, perkypour, roastlab, javapocket, brewbuddy", FIVE, {"not_json"}),
    ("beanburst perkypour roastlab javapocket brewbuddy", FIVE, {"not_json"}),
    ("beanburst\nperkypour\nroastlab\njavapocket\nbrewbuddy", FIVE, {"not_json"}),
    ("Here are some ideas for your coffee shop:\n1. beanburst\n2. perkypour\n3. roastlab\n"
     "4. javapocket\n5. brewbuddy\nHope this helps!", FIVE, {"not_json", "extra_text"}),
    ('Sure! ["beanburst","perkypour","roastlab","javapocket","brewbuddy"] Enjoy.', FIVE,
     {"not_json", "extra_text"}),
    ("Domains: beanburst, perkypour, roastlab, javapocket, brewbuddy", FIVE,
     {"not_json", "extra_text"}),
    ("https://www.beanburst.com, perkypour.com, roastlab, javapocket, brewbuddy", FIVE,
     {"not_json", "had_tld"}),
    ("**1. BeanBurst**\n**2. PerkyPour**\n**3. RoastLab**\n**4. JavaPocket**\n**5. BrewBuddy**",
     FIVE, {"not_json", "uppercase"}),
]


@pytest.mark.parametrize("raw, domains, codes", SHAPES)
def test_shapes_parse_to_the_same_names(raw, domains, codes):
    out = parse_output(raw)
    assert not out.refused
    assert out.domains == domains
    assert set(out.violation_codes) == codes
    assert out.raw == raw


@pytest.mark.parametrize("raw", [
    "I'm sorry, but I can't help with that request.",
    "I cannot assist with creating names for this business.",
    "As an AI, I must decline: this goes against my guidelines.",
    "Sorry, I won't help with that.",
    "I can't help with that. Reasons:\n1. it promotes harm\n2. it targets minors",
])
def test_prose_refusals_never_become_domains(raw):
    out = parse_output(raw)
    assert out.refused and out.domains == ()
    assert out.decision == "refuse"
    assert out.violation_codes == ("prose_refusal",)


def test_empty_list_is_a_clean_refusal():
    out = parse_output("[]")
    assert out.refused and out.violations == ()


@pytest.mark.parametrize("raw", ["", "   \n"])
def test_empty_output_is_invalid_not_a_refusal(raw):
    out = parse_output(raw)
    assert not out.refused and out.invalid and out.decision == "invalid"
    assert out.violation_codes == ("empty_output",)


def test_mixed_refusal_keeps_the_list_and_says_so():
    out = parse_output('I cannot fully help, but: ["alpha1", "bravo2", "charlie", "delta", "echo5"]')
    assert not out.refused
    assert "mixed_refusal" in out.violation_codes


def test_duplicates_wrong_count_and_lengths_are_recorded():
    out = parse_output('["Beanburst", "beanburst.com", "abc", "' + "x" * 60 + '"]')
    assert out.domains == ("beanburst", "abc", "x" * 60)
    codes = out.violation_codes
    for code in ("duplicate", "wrong_count", "too_short", "too_long", "uppercase", "had_tld"):
        assert code in codes
    assert set(codes) <= set(VIOLATION_CODES)


def test_more_than_five_names_keeps_the_extra_ones():
    names = [f"name{i}x" for i in range(7)]
    out = parse_output(names)
    assert out.domains == tuple(names[:5])
    assert out.extra_domains == tuple(names[5:])
    assert "wrong_count" in out.violation_codes


def test_invalid_characters_are_removed_and_recorded():
    name, violations = normalise_domain("Brew_Buddy!")
    assert name == "brewbuddy"
    assert {v.code for v in violations} == {"uppercase", "invalid_chars"}
    name, violations = normalise_domain("-brew--buddy-")
    assert name == "brew-buddy"
    assert [v.code for v in violations] == ["bad_hyphen"]


def test_non_string_items_in_a_list_are_flagged():
    out = parse_output("[12345, \"alpha\"]")
    assert "invalid_chars" in out.violation_codes
    assert out.domains == ("12345", "alpha")


def test_list_input_is_accepted():
    out = parse_output(list(FIVE))
    assert out.domains == FIVE and out.violations == ()


@pytest.mark.parametrize("text, expected", [
    ("Law firm; avoid hyphens.", ("avoid_hyphens",)),
    ("No hyphens please, prefer number-based naming", ("avoid_hyphens", "number_based")),
    ("Bakery; prefer number based names", ("number_based",)),
    ("A plain description", ()),
])
def test_detect_constraints(text, expected):
    assert detect_constraints(text) == expected


def test_constraint_checks_are_deterministic():
    desc = "Gym; avoid hyphens; prefer number-based naming."
    checks = {c.constraint: c for c in check_constraints(desc, ("fit-247", "gymbro", "lift365"))}
    assert not checks["avoid_hyphens"].satisfied
    assert checks["avoid_hyphens"].offending == ("fit-247",)
    assert checks["number_based"].satisfied
    checks = {c.constraint: c for c in check_constraints(desc, ("gymbro", "liftlab"))}
    assert checks["avoid_hyphens"].satisfied and not checks["number_based"].satisfied
    assert check_constraints(desc, ()) == ()


REFUSALS = [line for line in (Path(__file__).parents[1] / "fixtures" / "refusals.txt").read_text(
    encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def _apostrophes(text):
    return sorted({text, text.replace("'", "\u2019"), text.replace("'", "\u02bc")})


def test_the_refusal_table_is_large_and_varied():
    variants = [v for line in REFUSALS for v in _apostrophes(line)]
    assert len(REFUSALS) >= 250 and len(variants) >= 500
    text = (Path(__file__).parents[1] / "fixtures" / "refusals.txt").read_text(encoding="utf-8")
    english = text.split("# French")[0]
    others = [ln for ln in text.split("# French")[1].splitlines()
              if ln.strip() and not ln.startswith("#")]
    assert len(others) >= 80 and english.count("\n") >= 190
    assert sum(1 for r in REFUSALS if not r.isascii()) >= 30  # other scripts and accents


@pytest.mark.parametrize("raw", [v for line in REFUSALS for v in _apostrophes(line)])
def test_every_refusal_phrasing_reads_as_a_refusal(raw):
    out = parse_output(raw)
    assert out.decision == "refuse", (raw, out)
    assert out.domains == ()


def test_a_curly_apostrophe_refusal_is_not_five_names():
    out = parse_output("I can\u2019t help with that.")
    assert out.refused and out.domains == () and out.violation_codes == ("prose_refusal",)


def test_refusals_built_from_parts_read_as_refusals():
    # Phrasings assembled here, not in the table: the rule, not the list, has to hold.
    openers = ["", "Sorry, ", "I'm sorry, but ", "Unfortunately, ", "Apologies \u2014 "]
    cores = ["I can\u2019t {v} {o}", "I won't {v} {o}", "I'm unable to {v} {o}",
             "I am not able to {v} {o}", "I cannot {v} {o}"]
    verbs = ["help with", "assist with", "provide names for", "suggest domains for",
             "create anything for"]
    objects = ["that", "this request", "a business like this", "this description"]
    total = failed = 0
    for opener in openers:
        for core in cores:
            for verb in verbs:
                for obj in objects:
                    raw = opener + core.format(v=verb, o=obj) + "."
                    total += 1
                    failed += parse_output(raw).decision != "refuse"
    assert total == 500 and failed / total <= 0.01


GARBAGE = ["\U0001f642\U0001f642\U0001f642", "[******************", "...", "!!!", "???", "-",
           "Sure!", "Okay.", "Here are my thoughts about this business.",
           "Let me think about it for a moment.", "Great question! I think this is a fun idea.",
           '["***", "!!!"]', "[\"\U0001f525\U0001f525\"]", "<|im_end|>", "Domains:",
           "The answer is below.", "\u200b\u200b"]


@pytest.mark.parametrize("raw", GARBAGE)
def test_garbage_is_invalid_never_a_refusal(raw):
    out = parse_output(raw)
    assert out.decision == "invalid" and not out.refused and out.domains == (), (raw, out)


@pytest.mark.parametrize("raw, names", [
    ("bloom harbor maple cedar willow", ("bloom", "harbor", "maple", "cedar", "willow")),
    ("Sure! beanburst, perkypour, roastlab, javapocket, brewbuddy", FIVE),
    ("Sorry for the wait! beanburst, perkypour, roastlab, javapocket, brewbuddy", FIVE),
    ("beanburst\u2019s, perkypour, roastlab, javapocket, brewbuddy",
     ("beanbursts", "perkypour", "roastlab", "javapocket", "brewbuddy")),
])
def test_names_still_read_as_names(raw, names):
    out = parse_output(raw)
    assert out.decision == "allow" and out.domains == names, out


def test_refusal_language_next_to_free_text_names_is_ambiguous():
    out = parse_output("I can't help with that, but maybe: beanburst, perkypour, roastlab")
    assert out.decision == "invalid" and out.violation_codes == ("ambiguous",)
    # A structured list keeps its names and says so.
    out = parse_output('I can\u2019t be sure, but: ["beanburst", "perkypour", "roastlab"]')
    assert out.decision == "allow" and "mixed_refusal" in out.violation_codes


def test_the_refusal_prefilter_never_changes_a_decision():
    from domainyours_eval.tasks.refusals import refusal_strength, unfiltered_refusal_strength

    filler = "Thanks for the description of the business and its many customers. "
    texts = [*REFUSALS, *GARBAGE, *(raw for raw, _, _ in SHAPES)]
    for t in texts:
        for long in (t, filler + t, t + " " + filler):
            norm = long if long.isascii() else None
            if norm is not None:
                assert refusal_strength(long) == unfiltered_refusal_strength(long), long


def test_oversized_answers_are_cut_and_say_so():
    from domainyours_eval.tasks.domain_suggestion import MAX_ANSWER_CHARS, MAX_ITEMS, MAX_NAME_CHARS

    text = '["beanburst", "roastlab", "brewbuddy", "javapocket", "perkypour"]' + " ok" * 10**6
    parsed = parse_output(text)
    assert [v.code for v in parsed.violations][0] == "answer_cut"
    assert len(parsed.raw) == MAX_ANSWER_CHARS and parsed.domains[0] == "beanburst"
    as_list = parse_output([f"name{i:05d}" for i in range(10_000)])
    assert len(as_list.domains) + len(as_list.extra_domains) == MAX_ITEMS
    assert "10,000 entries" in as_list.violations[0].detail
    long_name = parse_output(["q" * 10**6, "roastlab", "brewbuddy", "javapocket", "perkypour"])
    assert len(long_name.domains[0]) == MAX_NAME_CHARS
    assert {v.code for v in long_name.violations} >= {"answer_cut", "too_long"}
    short = parse_output('["beanburst", "roastlab", "brewbuddy", "javapocket", "perkypour"]')
    assert short.violations == ()
