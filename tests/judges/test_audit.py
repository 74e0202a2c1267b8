"""The bias audit, with scripted judges that flip with order, ignore it, or prefer long names."""

import json
import subprocess
import sys

import pytest
from conftest import Provider, names_in, openai_answer, openai_client, openai_user_text

from domainyours_eval import ConfigError, evaluate, get_judge
from domainyours_eval.audit import judge_audit, model_family
from domainyours_eval.results import EvalResults

ROWS = [{"id": f"r{i}", "description": f"Organic coffee shop number {i}",
         "suggestions": [f"bean{i}", f"roastlab{i}", f"brewbuddycorner{i}"]} for i in range(12)]


def _answer(score_of, category_of):
    def step(body):
        text = openai_user_text(body)
        names = names_in(text)
        verdict = {"appropriate": True, "reason": "scripted", "domains": [
            {"domain": n, **dict.fromkeys(("relevance", "memorability", "conciseness",
                                           "distinctiveness", "constraint_fit"), score_of(n, k)),
             "category": category_of(n, k)} for k, n in enumerate(names)]}
        return openai_answer(content=json.dumps(verdict))(body)
    return step


def _audit(step, tmp_path):
    return judge_audit("openai/gpt-4o-mini", ROWS, n_resamples=200, judge_options={
        "client": openai_client(Provider(step)), "cache_dir": tmp_path})


def test_a_judge_that_favours_the_first_name_shown_is_caught(tmp_path):
    report = _audit(_answer(lambda n, k: 5 if k == 0 else 2,
                            lambda n, k: "good" if k == 0 else "ok"), tmp_path)
    assert report.n_rows == 12 and report.n_names == 36
    # The first shown and the last shown swap places: two of three names change.
    assert report.category_flip_rate.value == pytest.approx(2 / 3)
    assert report.score_change.value == pytest.approx(2 / 3 * 3)
    assert report.flag_flip_rate.value == 0.0 and report.flag_flip_rate.method == "wilson"


def test_an_order_blind_judge_scores_zero_and_a_length_lover_shows_up(tmp_path):
    report = _audit(_answer(lambda n, k: min(5, len(n) // 4 + 1), lambda n, k: "good"),
                    tmp_path)
    assert report.category_flip_rate.value == 0.0 and report.score_change.value == 0.0
    assert report.length_spearman["good"].value > 0.9
    assert report.length_spearman["good"].ci_low > 0


def test_same_family_and_non_llm_judges(tmp_path):
    assert model_family("openai/gpt-4o-mini") == model_family("openai/gpt-4.1") == "gpt"
    assert model_family("anthropic/claude-sonnet-4-6") == "claude"
    assert model_family("hf/models/SmolLM2-135M") == "smollm"
    with pytest.raises(ConfigError, match="not one"):
        judge_audit("reference", ROWS, n_resamples=10)


def test_the_command_line_warns_when_judge_and_model_are_kin(tmp_path):
    from loopback import LoopbackServer

    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": r["id"], "suggestions": r["suggestions"],
                                         "model": {"model": "openai/gpt-4o-mini"}}) + "\n"
                             for r in ROWS))
    testset = tmp_path / "t.jsonl"
    testset.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    with LoopbackServer() as server:
        import os

        env = {**os.environ, "OPENAI_BASE_URL": server.base_url,
               "XDG_CACHE_HOME": str(tmp_path / "xdg")}
        proc = subprocess.run([sys.executable, "-m", "domainyours_eval", "judge-audit",
                               "--judge", "openai/gpt-4o", "--testset", str(testset),
                               "--predictions", str(preds), "--resamples", "50", "--json",
                               str(tmp_path / "audit.json")],
                              capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        assert "Bias audit of openai/gpt-4o (12 rows, 36 names)" in proc.stdout
        assert "'gpt' family" in proc.stdout
        data = json.loads((tmp_path / "audit.json").read_text())
        assert data["category_flip_rate"]["value"] == 0.0  # the loopback judge ignores order
        assert server.requests == 2 * len(ROWS)
        # The findings kept in the run's results, and shown in its report.
        res = evaluate(str(preds), str(testset), n_resamples=20, judge=get_judge(
            "openai/gpt-4o", base_url=server.base_url, cache_dir=tmp_path / "xdg"))
        res.save(tmp_path / "run")
        keep = subprocess.run([sys.executable, "-m", "domainyours_eval", "judge-audit",
                               "--judge", "openai/gpt-4o", "--testset", str(testset),
                               "--predictions", str(preds), "--resamples", "20", "--results",
                               str(tmp_path / "run")], capture_output=True, text=True, env=env)
        assert keep.returncode == 0, keep.stderr
        kept = EvalResults.load(tmp_path / "run")
        assert kept.judge.audit is not None and kept.judge.audit.n_rows == len(ROWS)
        assert "Bias audit (12 rows, names shown in reverse order)" in kept.to_markdown()
        other = subprocess.run([sys.executable, "-m", "domainyours_eval", "judge-audit",
                                "--judge", "openai/gpt-4.1", "--testset", str(testset),
                                "--resamples", "10", "--results", str(tmp_path / "run")],
                               capture_output=True, text=True, env=env)
        assert other.returncode == 2 and "audit the run's own judge" in other.stderr
