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
def test_empty_output_is_a_refusal_with_a_violation(raw):
    out = parse_output(raw)
    assert out.refused and out.violation_codes == ("empty_output",)


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
