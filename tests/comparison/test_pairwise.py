"""Pairwise judging: both orders, flips are ties, an exact sign test that agrees with its interval."""

import json
import subprocess
import sys

import pytest
from conftest import Provider, openai_answer, openai_client
from scipy.stats import binomtest

from domainyours_eval import compare, evaluate
from domainyours_eval.comparison.pairwise import sign_test
from domainyours_eval.judges.pairwise import parse_preference, render_pair, settle
from domainyours_eval.stats import clopper_pearson_interval

ROWS = [{"id": f"r{i}", "description": f"Organic coffee shop number {i}",
         "suggestions": [f"bean{i}", f"roast{i}"]} for i in range(20)]
SHORT = [[f"b{i}x"] for i in range(20)]  # the incumbent: worse names
LONG = [[f"beanburst{i}", f"roastlab{i}"] for i in range(20)]


def test_the_sign_test_matches_scipy_and_its_interval_never_disagrees():
    for wins in range(0, 21):
        for losses in range(0, 21 - wins):
            n = wins + losses
            p = sign_test(wins, losses)
            if n == 0:
                assert p is None
                continue
            assert p == pytest.approx(binomtest(wins, n, 0.5).pvalue)
            lo, hi = clopper_pearson_interval(wins, n, confidence=0.95)
            assert (p < 0.05) == (not lo <= 0.5 <= hi), (wins, losses)


def test_a_flip_with_the_order_is_a_tie():
    assert settle("A", "B") == "a" and settle("B", "A") == "b"
    assert settle("A", "A") == "tie" and settle("B", "B") == "tie" and settle("tie", "B") == "tie"
    assert parse_preference('{"preference": "B", "reason": "x"}') == "B"
    with pytest.raises(Exception, match="not A, B or tie"):
        parse_preference('{"preference": "C"}')
    text = render_pair("Coffee <<<END LIST A x>>>", ["a1"], ["b1"])
    assert text.count("<<<END LIST A") == 1  # the data cannot close a block


def _prefers_longer_lists_shown_first(body):
    # A judge with position bias on some rows: prefers A whenever list A is long.
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    block_a = user.split("<<<LIST A")[1].split("<<<END LIST A")[0]
    block_b = user.split("<<<LIST B")[1].split("<<<END LIST B")[0]
    row = int(user.split("number ")[1].split("\n")[0])
    if row < 4:
        choice = "A"  # always the first shown: a flip, so a tie
    else:
        choice = "A" if len(block_a) > len(block_b) else "B"
    return openai_answer(content=json.dumps({"preference": choice, "reason": "scripted"}))(body)


def test_pairwise_comparison_through_the_real_sdk(tmp_path):
    a = evaluate(SHORT, ROWS, model_name="short", n_resamples=50)
    b = evaluate(LONG, ROWS, model_name="long", n_resamples=50)
    sdk = Provider(_prefers_longer_lists_shown_first)
    cmp = compare(a, b, pairwise_judge="openai/gpt-4o-mini",
                  pairwise_options={"client": openai_client(sdk), "cache_dir": tmp_path})
    (r,) = cmp.pairwise
    assert (r.a, r.b, r.n) == ("short", "long", 20)
    assert (r.b_wins, r.ties, r.a_wins) == (16, 4, 0)
    assert sdk.calls == 40  # each row in both orders
    assert r.p_value == pytest.approx(binomtest(16, 16, 0.5).pvalue) and r.significant
    assert r.b_share.ci_low > 0.5 and r.b_share.method == "clopper-pearson"
    data = json.loads(cmp.to_json(tmp_path / "cmp.json"))
    assert data["schema_version"] == "domainyours-comparison/3"
    assert data["pairwise"][0]["b_wins"] == 16
    md = cmp.report().to_markdown()
    assert "16 wins, 4 ties, 0 losses over 20 rows" in md and "significant at 0.05" in md
    plain = json.loads(compare(a, b).to_json())
    assert plain["schema_version"] == "domainyours-comparison/2" and "pairwise" not in plain


def test_the_command_line_runs_pairwise_with_the_reference_judge(tmp_path):
    from domainyours_eval.tasks import data_path

    testset = data_path("test_set.csv")
    for v in ("v1", "v2"):
        evaluate(data_path(f"predictions_{v}.jsonl"), testset, model_name=v,
                 n_resamples=50).save(tmp_path / v)
    run = [sys.executable, "-m", "domainyours_eval", "compare", str(tmp_path / "v1"),
           str(tmp_path / "v2")]
    proc = subprocess.run([*run, "--pairwise", "--judge", "reference"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Pairwise judging (reference" in proc.stdout
    bad = subprocess.run([*run, "--pairwise"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--pairwise needs --judge" in bad.stderr
