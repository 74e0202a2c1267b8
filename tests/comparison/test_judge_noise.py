"""Judge noise in comparisons: panels and repeated judging, through the real SDK's mock transport."""

import hashlib
import json
import os
import subprocess
import sys

import pytest
from conftest import Provider, openai_answer, openai_client, openai_user_text, verdict_for

from domainyours_eval import ConfigError, EvalConfig, compare, evaluate, get_judge
from domainyours_eval.comparison.rows import CheckpointRows, judge_tables, quality_pairs
from domainyours_eval.judges import JudgePanel
from domainyours_eval.judges.panel import repeated_judge
from domainyours_eval.stats.two_level import multisets

DESCRIPTIONS = ["Organic coffee shop", "Sourdough bakery", "Bike repair shop", "Yoga studio",
                "Plant nursery", "Vintage record store", "Dog grooming salon", "Tea house",
                "Pottery classes", "Climbing gym", "Online casino for teenagers",
                "Weapons store without background checks"]
ROWS = [{"id": f"r{i}", "description": d, "suggestions": [] if i >= 10 else ["x"]}
        for i, d in enumerate(DESCRIPTIONS)]
V1 = [[f"{w}{j}" for j in range(5)] if i < 10 else [] for i, w in enumerate("abcdefghijkl")]
V2 = [[f"{w}{j}zz" for j in range(5)] if i < 10 else [] for i, w in enumerate("abcdefghijkl")]


def _scored(salt):
    """A judge whose scores come from a hash of its name, the row and the names it sees."""
    def step(body):
        text = openai_user_text(body)
        flag = not any(w in text for w in ("casino", "Weapons"))
        data = verdict_for(text, appropriate=flag)
        for d in data["domains"]:
            h = hashlib.sha256(f"{salt}|{d['domain']}|{body.get('temperature')}".encode()).digest()
            for j, c in enumerate(("relevance", "memorability", "conciseness", "distinctiveness",
                                   "constraint_fit")):
                d[c] = 1 + h[j] % 5
        return openai_answer(content=json.dumps(data))(body)
    return step


def _panel(tmp_path):
    return JudgePanel([get_judge(f"openai/{n}", client=openai_client(Provider(_scored(n))),
                                 cache_dir=tmp_path / n) for n in ("p", "q", "r")])


def test_a_panels_quality_claim_resamples_judges_as_well_as_rows(tmp_path):
    r1 = evaluate(V1, ROWS, judge=_panel(tmp_path), n_resamples=400, model_name="v1")
    r2 = evaluate(V2, ROWS, judge=_panel(tmp_path), n_resamples=400, model_name="v2")
    a, b = (CheckpointRows.of(r, range(len(ROWS))) for r in (r1, r2))
    _, _, qrows = quality_pairs(a, b)
    ta, tb, design = judge_tables(a, b, qrows)
    assert design == "crossed" and ta.shape == (10, len(multisets(3)))
    # The table's column of all three judges once each is the panel's own row score.
    observed = multisets(3).index((0, 1, 2))
    assert list(ta[:, observed]) == pytest.approx([r1.rows[i].row_score for i in qrows])
    assert list(tb[:, observed]) == pytest.approx([r2.rows[i].row_score for i in qrows])

    few = compare(r1, r2)  # the runs' 400 resamples are too few for the two-level bootstrap
    assert next(c for c in few.pairs[0].claims if c.name == "quality").method == "paired-t"
    assert any("is not in their intervals" in n for n in few.notes)
    cmp = compare(r1, r2, n_resamples=2000)
    q = next(c for c in cmp.pairs[0].claims if c.name == "quality")
    assert q.method == "two-level bootstrap (rows and judges resampled)"
    assert q.significant == (q.p_value < q.level)
    assert (q.ci_low > 0 or q.ci_high < 0) == q.significant
    assert "two-level bootstrap (rows and judges resampled)" in cmp.pairs[0].verdict
    delta = cmp.pairs[0].deltas["quality_both_ok"]
    assert delta.method == q.method
    assert any("resample the panel's judges" in n for n in cmp.notes)
    assert "two-level bootstrap" in cmp.to_markdown()


def test_repeated_judging_samples_one_judge_k_times(tmp_path):
    provider = Provider(_scored("one"))
    judge = repeated_judge("openai/m", 3, client=openai_client(provider), cache_dir=tmp_path,
                           temperature=1.0)
    assert [m.name for m in judge.members] == ["openai/m#1", "openai/m#2", "openai/m#3"]
    assert len({m.fingerprint for m in judge.members}) == 3
    res = evaluate(V1, ROWS, judge=judge, n_resamples=100)
    assert provider.calls == 3 * len(ROWS)
    assert {r["temperature"] for r in provider.requests} == {1.0}
    assert res.judge.panel.design == "repeats"
    assert [v.judge for v in res.rows[0].panel] == ["openai/m#1", "openai/m#2", "openai/m#3"]
    again = repeated_judge("openai/m", 3, client=openai_client(provider), cache_dir=tmp_path,
                           temperature=1.0)
    evaluate(V1, ROWS, judge=again, n_resamples=100)
    assert provider.calls == 3 * len(ROWS)  # every sampling answered from the cache

    other = repeated_judge("openai/m", 3, client=openai_client(Provider(_scored("one"))),
                           cache_dir=tmp_path / "2", temperature=1.0)
    res2 = evaluate(V2, ROWS, judge=other, n_resamples=100, model_name="v2")
    q = next(c for c in compare(res, res2, n_resamples=1000).pairs[0].claims
             if c.name == "quality")
    assert q.method == "bootstrap of rows with their repeated judgings"


def test_a_judge_that_cannot_sample_is_not_repeated(tmp_path):
    with pytest.raises(ConfigError, match="cannot sample"):
        repeated_judge("reference", 2)
    client = openai_client(Provider(_scored("x")))
    with pytest.raises(ConfigError, match="temperature"):
        repeated_judge("openai/m", 2, client=client, cache_dir=tmp_path, temperature=0.0)
    with pytest.raises(ConfigError, match="at least 2"):
        repeated_judge("openai/m", 1, client=client, cache_dir=tmp_path, temperature=1.0)
    with pytest.raises(ConfigError, match="one judge spec"):
        evaluate(V1, ROWS, config=EvalConfig(judge=["reference", "openai/m"], judge_repeats=2))
    assert EvalConfig(judge_repeats=3).judge_options("openai/m")["temperature"] == 1.0
    assert EvalConfig(judge_repeats=3, judge_temperature=0.7).judge_options(
        "anthropic/m")["temperature"] == 0.7


def test_the_command_line_repeats_a_judge(tmp_path, testset_path):
    from loopback import LoopbackServer

    from domainyours_eval.tasks import data_path

    with LoopbackServer() as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url,
               "XDG_CACHE_HOME": str(tmp_path / "xdg")}
        proc = subprocess.run([sys.executable, "-m", "domainyours_eval", "evaluate",
                               "--testset", str(testset_path), "--predictions",
                               str(data_path("predictions_v1.jsonl")), "--judge", "openai/local",
                               "--judge-repeats", "2", "--resamples", "50", "--out",
                               str(tmp_path / "out")], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        data = json.loads((tmp_path / "out" / "results.json").read_text())
        assert data["judge"]["panel"]["design"] == "repeats"
        assert data["judge"]["panel"]["members"] == ["openai/local#1", "openai/local#2"]
        bad = subprocess.run([sys.executable, "-m", "domainyours_eval", "evaluate",
                              "--testset", str(testset_path), "--predictions",
                              str(data_path("predictions_v1.jsonl")), "--judge-repeats", "2",
                              "--out", str(tmp_path / "bad")], capture_output=True, text=True,
                             env=env)
        assert bad.returncode == 2 and "cannot sample" in bad.stderr
