"""The domainyours task inside inspect_ai: real `inspect eval` runs, offline, then the import."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai", reason="inspect-ai is not installed (inspect extra)")

from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.model import ModelOutput, ModelUsage, get_model  # noqa: E402

from domainyours_eval import DataError, evaluate, load_testset  # noqa: E402
from domainyours_eval.comparison import compare  # noqa: E402
from domainyours_eval.inspect_log import import_inspect_log  # noqa: E402
from domainyours_eval.models.predictions import load_predictions  # noqa: E402
from domainyours_eval.protocol import METRICS  # noqa: E402
from domainyours_eval.tasks import data_path, format_prompt  # noqa: E402
from domainyours_eval.tasks.inspect_task import domainyours  # noqa: E402

TESTSET = load_testset(data_path("test_set.csv"))


def answers_of(predictions):
    """Each prompt's scripted answer: a shipped checkpoint's predictions, by description."""
    outputs = load_predictions(data_path(predictions), TESTSET)
    return {format_prompt(r.description): o if isinstance(o, str) else json.dumps(o)
            for r, o in zip(TESTSET.rows, outputs)}


def scripted(answers):
    def answer(messages, tools, tool_choice, config):
        out = ModelOutput.from_content(model="mockllm", content=answers[messages[-1].text])
        # mockllm counts tokens with a tokenizer it downloads unless usage is already set
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return get_model("mockllm/model", custom_outputs=answer)


def run_inspect(tmp_path, predictions, **task_args):
    (log,) = inspect_eval(domainyours(**task_args), model=scripted(answers_of(predictions)),
                          log_dir=str(tmp_path / "logs"), display="none")
    assert log.status == "success", log.error
    return log


@pytest.fixture(scope="module")
def v2_log(tmp_path_factory):
    return run_inspect(tmp_path_factory.mktemp("inspect"), "predictions_v2.jsonl")


def test_the_task_runs_in_inspect_and_its_metrics_are_the_protocols(v2_log):
    native = evaluate(data_path("predictions_v2.jsonl"), TESTSET, n_resamples=0)
    (scored,) = v2_log.results.scores
    assert scored.scored_samples == 28 and scored.unscored_samples == 0
    metrics = {name: m.value for name, m in scored.metrics.items()}
    defined = {m.name for m in METRICS if getattr(native.metrics, m.name).value is not None
               and not math.isnan(getattr(native.metrics, m.name).value)}
    assert set(metrics) == defined and "quality" in defined
    for name in defined:
        assert metrics[name] == pytest.approx(getattr(native.metrics, name).value), name
    outcomes = {s.id: s.scores["domainyours_scorer"].value for s in v2_log.samples}
    assert outcomes == {r.id: r.outcome for r in native.rows}
    # The prompt is ours, and the sample keeps its row for the import.
    sample = min(v2_log.samples, key=lambda s: s.metadata["domainyours_row"]["index"])
    assert sample.input == format_prompt(TESTSET.rows[0].description)


def test_an_imported_log_is_judged_like_a_native_run_and_compares_paired(v2_log, tmp_path):
    native_v1 = evaluate(data_path("predictions_v1.jsonl"), TESTSET, n_resamples=200,
                         model_name="v1")
    native_v2 = evaluate(data_path("predictions_v2.jsonl"), TESTSET, n_resamples=200)
    imported = import_inspect_log(v2_log.location, tmp_path / "out", name="v2-inspect")
    assert imported.testset.sha256 == TESTSET.sha256 and imported.testset.name == "test_set"
    assert imported.model.name == "v2-inspect"
    assert imported.metrics.quality.value == pytest.approx(native_v2.metrics.quality.value)
    assert [r.outcome for r in imported.rows] == [r.outcome for r in native_v2.rows]
    assert (tmp_path / "out" / "results.json").is_file()
    paired = compare(native_v1, imported)
    assert paired.testset_sha256 == TESTSET.sha256
    assert [c.name for c in paired.checkpoints] == ["v1", "v2-inspect"] and len(paired.pairs) == 1


def test_a_log_of_another_test_set_is_refused_by_name(tmp_path):
    mine = tmp_path / "mine.jsonl"
    rows = [{"id": r.id, "description": r.description, "suggestions": list(r.suggestions)}
            for r in TESTSET.rows[:6]]
    mine.write_text("".join(json.dumps(r) + "\n" for r in rows))
    log = run_inspect(tmp_path, "predictions_v1.jsonl", testset=str(mine))
    res = import_inspect_log(log.location)
    assert len(res.rows) == 6 and res.testset.name == "mine"
    with pytest.raises(DataError, match="not a run of the given test set"):
        import_inspect_log(log.location, testset=data_path("test_set.csv"))


def test_logs_that_are_not_whole_runs_of_the_task_are_refused(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        import_inspect_log(tmp_path / "missing.eval")
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(DataError, match="not a readable inspect log"):
        import_inspect_log(junk)
    log = run_inspect(tmp_path, "predictions_v1.jsonl", testset=None)
    # Another task's samples carry no row; a tampered one carries a broken row.
    for s in log.samples[:2]:
        s.metadata = {}
    log.samples[2].metadata["domainyours_row"]["suggestions"] = "beanburst"
    log.samples[3].metadata["domainyours_row"]["index"] = -4
    from inspect_ai.log import write_eval_log

    broken = tmp_path / "broken.json"
    write_eval_log(log, str(broken))
    with pytest.raises(DataError) as err:
        import_inspect_log(broken)
    text = str(err.value)
    assert str(broken) in text and "metadata.domainyours_row" in text and text.count("missing") >= 2
    assert "domainyours_row.suggestions]: not a list of names" in text
    assert "domainyours_row.index]: not a row position: -4" in text


def test_the_cli_runs_the_registered_task_against_a_local_server_and_imports_it(tmp_path):
    from loopback import LoopbackServer, verdict

    with LoopbackServer() as server:
        # inspect's generic OpenAI-compatible provider: chat completions with the task's own
        # settings (its `openai/` provider treats an unknown model name as a reasoning model and
        # drops the temperature).
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "LOCAL_API_KEY": "sk-test",
               "LOCAL_BASE_URL": server.base_url}
        proc = subprocess.run(
            ["inspect", "eval", "domainyours_eval/domainyours", "--model", "openai-api/local/loop",
             "--log-dir", str(tmp_path / "logs"), "--log-format", "json", "--display", "none"],
            capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (log,) = (tmp_path / "logs").glob("*.json")
        cli = [sys.executable, "-m", "domainyours_eval"]
        done = subprocess.run([*cli, "import-inspect", str(log), "--out", str(tmp_path / "run"),
                               "--judge", "reference", "--resamples", "200"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "results.json" in done.stdout
        saved = json.loads((tmp_path / "run" / "results.json").read_text())
        assert saved["model"]["name"] == "openai-api/local/loop" and len(saved["rows"]) == 28
        sent = [b for b in server.bodies if "temperature" in b]
        assert len(sent) == 28 and {(b["temperature"], b["max_tokens"]) for b in sent} == {(0, 160)}
        # The server's answers, judged here directly, give the same rows.
        said = [json.dumps(verdict(format_prompt(r.description))) for r in TESTSET.rows]
        assert [r["raw_output"] for r in saved["rows"]] == said
        direct = evaluate(said, TESTSET, n_resamples=0)
        assert [r["outcome"] for r in saved["rows"]] == [r.outcome for r in direct.rows]
        # Our own run of the same server, then the paired comparison of the two, by command.
        native = subprocess.run([*cli, "evaluate", "--model", "openai/loop", "--base-url",
                                 server.base_url, "--testset", str(data_path("test_set.csv")),
                                 "--out", str(tmp_path / "native"), "--resamples", "200",
                                 "--name", "native"],
                                capture_output=True, text=True, env=env, timeout=300)
        assert native.returncode == 0, native.stdout + native.stderr
        compared = subprocess.run([*cli, "compare", str(tmp_path / "native"), str(tmp_path / "run"),
                                   "--json", str(tmp_path / "c.json")],
                                  capture_output=True, text=True, timeout=300)
        assert compared.returncode == 0, compared.stdout + compared.stderr
        pair = json.loads((tmp_path / "c.json").read_text())["pairs"][0]
        # The same server gave both runs the same answers: nothing differs.
        assert pair["n"] == 28 and pair["status"] == "no_decisive_difference"
        assert all(d["delta"] in (0, None) for d in pair["deltas"].values())
        bad = subprocess.run([*cli, "import-inspect", str(tmp_path / "nope.eval"), "--out",
                              str(tmp_path / "x")], capture_output=True, text=True, timeout=300)
        assert bad.returncode != 0 and "nope.eval" in bad.stdout + bad.stderr
    assert Path(log).stat().st_size > 0


def test_a_judge_that_cannot_answer_leaves_samples_unscored_not_zero(tmp_path, monkeypatch):
    from loopback import LoopbackServer

    mine = tmp_path / "three.jsonl"
    mine.write_text("".join(json.dumps({"id": r.id, "description": r.description,
                                        "suggestions": list(r.suggestions)}) + "\n"
                            for r in TESTSET.rows[:3]))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with LoopbackServer(reply=lambda user: "I would rather not grade this.") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        log = run_inspect(tmp_path, "predictions_v1.jsonl", testset=str(mine),
                          judge="openai/grader")
        asked = server.requests
    (scored,) = log.results.scores
    assert scored.scored_samples == 0 and scored.unscored_samples == 3
    assert "quality" not in scored.metrics  # nothing to stand on: absent, not 0
    for s in log.samples:
        score = s.scores["domainyours_scorer"]
        assert score.reason == "grader_failed" and "judge error" in score.explanation
    assert asked >= 6  # each row was asked again before it was given up


def test_epochs_limits_and_failed_samples_are_named_not_imported_in_part(tmp_path):
    answers = answers_of("predictions_v1.jsonl")
    (two,) = inspect_eval(domainyours(), model=scripted(answers), epochs=2,
                          log_dir=str(tmp_path / "two"), display="none")
    assert two.status == "success" and len(two.samples) == 56
    # The log's metrics count each epoch's answer as a row: 2 x the single-run counts.
    assert two.results.scores[0].scored_samples == 56
    with pytest.raises(DataError, match="holds 2 epochs; choose one"):
        import_inspect_log(two.location)
    second = import_inspect_log(two.location, epoch=2)
    assert len(second.rows) == 28 and second.testset.sha256 == TESTSET.sha256
    with pytest.raises(DataError, match="no epoch 3"):
        import_inspect_log(two.location, epoch=3)

    (part,) = inspect_eval(domainyours(), model=scripted(answers), limit=5,
                           log_dir=str(tmp_path / "part"), display="none")
    with pytest.raises(DataError, match="5 of the task's 28 rows were run"):
        import_inspect_log(part.location)

    broken_prompt = format_prompt(TESTSET.rows[3].description)

    def flaky(messages, tools, tool_choice, config):
        if messages[-1].text == broken_prompt:
            raise RuntimeError("the provider went away")
        out = ModelOutput.from_content(model="mockllm", content=answers[messages[-1].text])
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    (failed,) = inspect_eval(domainyours(), model=get_model("mockllm/model", custom_outputs=flaky),
                             fail_on_error=False, log_dir=str(tmp_path / "failed"),
                             display="none")
    with pytest.raises(DataError) as err:
        import_inspect_log(failed.location)
    assert f"samples[id={TESTSET.rows[3].id}, epoch=1].error" in str(err.value)
    assert "the provider went away" in str(err.value)
