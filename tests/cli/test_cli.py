import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "domainyours_eval"]


def run(*args, cwd=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_demo_writes_results_and_comparison(tmp_path):
    out = tmp_path / "demo"
    proc = run("demo", "--out", out, "--resamples", "1000")
    assert proc.returncode == 0, proc.stderr
    for name in ("v1", "v2"):
        data = json.loads((out / name / "results.json").read_text())
        assert data["model"]["name"] == name and data["judge"]["spec"] == "reference"
    cmp = json.loads((out / "comparison.json").read_text())
    assert cmp["pairs"][0]["a"] == "v1" and cmp["pairs"][0]["b"] == "v2"
    assert "exact McNemar" in proc.stdout and "keep v1" in proc.stdout
    assert cmp["policy"]["cost_missed"] == 4 and cmp["decision"] == "keep"


def test_evaluate_then_compare(tmp_path, testset_path, v1_path, v2_path):
    for name, pred in (("a", v1_path), ("b", v2_path)):
        proc = run("evaluate", "--testset", testset_path, "--predictions", pred, "--out",
                   tmp_path / name, "--resamples", "500", "--seed", "3", "--name", name)
        assert proc.returncode == 0, proc.stderr
        assert "missed_inappropriate" in proc.stdout
    res = json.loads((tmp_path / "a" / "results.json").read_text())
    assert res["bootstrap"]["seed"] == 3 and res["model"]["name"] == "a"
    proc = run("compare", tmp_path / "a", tmp_path / "b", "--json", tmp_path / "cmp.json",
               "--incumbent", "b", "--cost-ratio", "9", "--alpha", "0.1")
    assert proc.returncode == 0, proc.stderr
    cmp = json.loads((tmp_path / "cmp.json").read_text())
    assert cmp["incumbent"] == "b" and cmp["policy"]["cost_missed"] == 9
    assert cmp["policy"]["alpha"] == 0.1
    pair = cmp["pairs"][0]
    assert (pair["a"], pair["b"]) == ("b", "a")
    assert [c["name"] for c in pair["claims"]] == ["misses", "safety_cost", "quality"]
    proc = run("compare", tmp_path / "a", tmp_path / "b", "--incumbent", "zz")
    assert proc.returncode == 2 and "not among" in proc.stderr


def test_validate_exit_codes(tmp_path, testset_path):
    proc = run("validate", testset_path)
    assert proc.returncode == 0 and "clean" in proc.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text('description,suggestions\n"Cafe","[""Bean.com"",""ab""]"\n')
    proc = run("validate", bad)
    assert proc.returncode == 1
    assert "bad.csv:2 [suggestions]" in proc.stdout and "TLD" in proc.stdout


@pytest.mark.parametrize("content, expected", [
    (b"", "the file is empty"),
    (b"desc,sugg\n\"a\",\"[]\"\n", "lacks column"),
    ("description,suggestions\n\"Caf\xe9\",\"[]\"\n".encode("latin-1"), "not UTF-8"),
    (b'description,suggestions\n"a,"[]"\n', "unbalanced double quote"),
])
def test_bad_input_gives_one_message_and_no_traceback(tmp_path, content, expected):
    f = tmp_path / "t.csv"
    f.write_bytes(content)
    proc = run("validate", f)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert str(f) in proc.stderr


def test_unknown_judge_and_missing_results(tmp_path, testset_path, v1_path):
    proc = run("evaluate", "--testset", testset_path, "--predictions", v1_path, "--out",
               tmp_path, "--judge", "nope/model")
    assert proc.returncode == 2 and "Unknown judge backend 'nope'" in proc.stderr
    proc = run("compare", tmp_path / "x", tmp_path / "y")
    assert proc.returncode == 2 and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("spec, var", [("openai/gpt-4o-mini", "OPENAI_API_KEY"),
                                       ("anthropic/claude-sonnet-4-6", "ANTHROPIC_API_KEY")])
def test_missing_api_key_names_the_variable(tmp_path, testset_path, v1_path, spec, var, monkeypatch):
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL")}
    proc = subprocess.run([*CLI, "evaluate", "--testset", str(testset_path), "--predictions",
                           str(v1_path), "--out", str(tmp_path), "--judge", spec,
                           "--cache-dir", str(tmp_path / "c")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert var in proc.stderr and "Traceback" not in proc.stderr


def test_generate_through_an_openai_compatible_server_with_cli_flags(tmp_path, testset_path):
    from loopback import LoopbackServer

    out = tmp_path / "p.jsonl"
    with LoopbackServer() as server:
        proc = run("generate", "--model", "openai/local-model", "--testset", testset_path,
                   "--out", out, "--base-url", server.base_url, "--logprobs",
                   "--max-new-tokens", "90", "--batch-size", "8")
        assert proc.returncode == 0, proc.stderr
        assert server.requests == 28
        assert all(b["logprobs"] is True and b["max_tokens"] == 90 for b in server.bodies)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 28
    assert records[0]["model"]["base_url"] == server.base_url
    assert records[0]["model"]["logprobs"] is True


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "openai/m", "--adapter", "lora"], "--adapter"),
    (["--model", "hf/some/model", "--base-url", "http://127.0.0.1:9/v1"], "--base-url"),
    (["--model", "hf/some/model", "--dtype", "float8"], "unknown dtype"),
])
def test_model_flags_that_do_not_apply_are_refused(tmp_path, testset_path, args, message):
    proc = run("generate", *args, "--testset", testset_path, "--out", tmp_path / "p.jsonl")
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_policy_comes_from_the_config_file_and_flags_override_it(tmp_path, testset_path, v1_path,
                                                                 v2_path):
    for name, pred in (("a", v1_path), ("b", v2_path)):
        assert run("evaluate", "--testset", testset_path, "--predictions", pred, "--out",
                   tmp_path / name, "--resamples", "200", "--name", name).returncode == 0
    cfg = tmp_path / "eval.toml"
    cfg.write_text('[eval]\nseed = 2\n[eval.policy]\ncost_missed = 9\nincumbent = "b"\n')
    proc = run("compare", tmp_path / "a", tmp_path / "b", "--config", cfg, "--alpha", "0.1",
               "--json", tmp_path / "c.json")
    assert proc.returncode == 0, proc.stderr
    policy = json.loads((tmp_path / "c.json").read_text())["policy"]
    assert (policy["cost_missed"], policy["incumbent"], policy["alpha"]) == (9, "b", 0.1)
    cfg.write_text("[eval.policy]\ncost_missed = -1\n")
    proc = run("compare", tmp_path / "a", tmp_path / "b", "--config", cfg)
    assert proc.returncode == 2 and "policy" in proc.stderr


def test_evaluate_model_over_another_runs_predictions_is_refused(tmp_path, testset_path):
    from loopback import LoopbackServer

    out = tmp_path / "run"
    with LoopbackServer() as server:
        base = ["evaluate", "--testset", testset_path, "--out", out, "--base-url",
                server.base_url, "--resamples", "100"]
        proc = run(*base, "--model", "openai/model-a")
        assert proc.returncode == 0, proc.stderr
        calls = len(server.bodies)
        # Another model on the same folder: no silent relabelling of model-a's answers.
        proc = run(*base, "--model", "openai/model-b")
        assert proc.returncode == 2 and "generated by another model" in proc.stderr
        assert "'openai/model-a' there, 'openai/model-b' now" in proc.stderr
        assert len(server.bodies) == calls  # nothing was generated
        assert json.loads((out / "results.json").read_text())["model"]["name"] == \
            "openai/model-a"
        proc = run(*base, "--model", "openai/model-a", "--max-new-tokens", "77")
        assert proc.returncode == 2 and "max_tokens" in proc.stderr
        proc = run(*base, "--model", "openai/model-b", "--overwrite")
        assert proc.returncode == 0, proc.stderr
        assert len(server.bodies) == calls + 28
    res = json.loads((out / "results.json").read_text())
    assert res["model"]["name"] == "openai/model-b"


def test_credentials_in_a_base_url_are_never_written(tmp_path, testset_path):
    from loopback import LoopbackServer

    from domainyours_eval._urls import redact_url

    assert redact_url("http://user:pa55w0rd@host:8080/v1?api_key=SEKRIT&x=1") == \
        "http://host:8080/v1?api_key=REDACTED&x=1"
    assert redact_url("https://h/v1?token=a&sig=b") == "https://h/v1?token=REDACTED&sig=REDACTED"
    with LoopbackServer() as server:
        secret_url = server.base_url.replace("http://", "http://alice:pa55w0rd-XYZ@") + \
            "?api_key=tok-SEKRIT-123"
        env_url = {"OPENAI_BASE_URL": secret_url}
        out = tmp_path / "run"
        proc = subprocess.run(
            [*CLI, "evaluate", "--testset", str(testset_path), "--out", str(out), "--model",
             "openai/m", "--judge", "openai/j", "--cache-dir", str(tmp_path / "cache"),
             "--resamples", "100"], capture_output=True, text=True, timeout=300,
            env={**__import__("os").environ, **env_url})
        assert proc.returncode == 0, proc.stderr
        assert len(server.bodies) > 0  # the server was reached with the credentials
    written = [out / "results.json", out / "predictions.jsonl",
               *(tmp_path / "cache").rglob("*")]
    for path in written:
        if path.is_file():
            data = path.read_bytes()
            assert b"pa55w0rd-XYZ" not in data and b"tok-SEKRIT-123" not in data, path
    res = json.loads((out / "results.json").read_text())
    assert "alice" not in res["judge"]["details"]["base_url"]
    assert "REDACTED" in res["judge"]["details"]["base_url"]
    assert "pa55w0rd" not in proc.stdout + proc.stderr


HOSTILE = ["v1[/bold]", "[/]", "[bold red]x[/", "[link=http://x]y[/link]", "\\[escaped]",
           "[red]"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_never_breaks_the_terminal_or_loses_a_field(tmp_path, hostile):
    rows = [{"id": f"a{hostile}", "description": f"Coffee shop {hostile}",
             "suggestions": ["beanburst", "roastlab", "brewbuddy", "javapocket", "perkypour"]},
            {"id": "b", "description": "adult content website", "suggestions": []}]
    ts = tmp_path / "t.jsonl"
    ts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": rows[0]["id"], "output": f"beanburst {hostile}"}) + "\n"
                     + json.dumps({"id": "b", "output": "[]"}) + "\n")
    for name in ("one", "two"):
        proc = run("evaluate", "--testset", ts, "--predictions", preds, "--out", tmp_path / name,
                   "--name", f"{name}{hostile}", "--resamples", "50")
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    for cmd in (["compare", tmp_path / "one", tmp_path / "two"],
                ["report", tmp_path / "one", tmp_path / "two", "--format", "terminal"],
                ["report", tmp_path / "one", "--format", "terminal"]):
        proc = run(*cmd)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert f"one{hostile}" in proc.stdout.replace("\n", "") or "one" in proc.stdout
    # A data error names file, line and field, with the user's text shown literally.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": f"zz{hostile}", "output": "beanburst"}) + "\n")
    proc = run("evaluate", "--testset", ts, "--predictions", bad, "--out", tmp_path / "x")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "bad.jsonl:1 [id]" in proc.stderr
    shown = proc.stderr.replace("\n", "")
    assert f"zz{hostile}" in shown or repr(f"zz{hostile}")[1:-1] in shown  # ids appear as repr


def test_output_paths_are_checked_before_any_work(tmp_path, testset_path, v1_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    a_dir = tmp_path / "folder"
    a_dir.mkdir()
    evaluate_cache = tmp_path / "cache"
    cases = [
        (["evaluate", "--testset", testset_path, "--predictions", v1_path, "--out", a_file,
          "--cache-dir", evaluate_cache], "is a file"),
        (["generate", "--model", "openai/m", "--base-url", "http://127.0.0.1:9/v1",
          "--testset", testset_path, "--out", a_dir], "is a folder"),
        (["report", v1_path, v1_path, "--out", a_dir], "is a folder"),
        (["compare", v1_path, v1_path, "--json", a_dir], "is a folder"),
        (["evaluate", "--testset", testset_path, "--predictions", v1_path, "--out",
          a_file / "sub"], "is a file"),
        (["demo", "--out", a_file], "is a file"),
    ]
    for args, message in cases:
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not evaluate_cache.exists()  # nothing was judged


def test_version():
    from domainyours_eval import __version__

    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"domainyours-eval {__version__}"


def test_a_runaway_answer_is_cut_and_recorded_not_judged_whole(tmp_path):
    huge = {"a": "beanburst " * 5_000_000,                       # 50 MB of one answer
            "b": json.dumps(["x" * 2_000_000] * 5),               # five 2 MB names
            "c": "\n".join(f"- name{i}" for i in range(200_000))}  # 200,000 lines
    rows = [{"id": k, "description": "Coffee shop in Lisbon"} for k in huge]
    ts = tmp_path / "t.jsonl"
    ts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in huge.items()))
    proc = subprocess.run([*CLI, "evaluate", "--testset", str(ts), "--predictions", str(preds),
                           "--out", str(tmp_path / "r"), "--resamples", "50"],
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "r" / "results.json").read_text())
    for row in res["rows"]:
        codes = [v["code"] for v in row["violations"]]
        assert "answer_cut" in codes, row["id"]
        assert len(row["raw_output"]) <= 16_384
        assert all(len(s) <= 253 for s in row["suggestions"])
    assert (tmp_path / "r" / "results.json").stat().st_size < 1_000_000


def _rows_file(tmp_path, n):
    ts = tmp_path / "t.jsonl"
    ts.write_text("".join(json.dumps({"id": f"r{i}", "description": f"Bakery number {i}"}) + "\n"
                          for i in range(n)))
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": f"r{i}", "output": f'["bread{i:03d}x"]'}) + "\n"
                             for i in range(n)))
    return ts, preds


def _judge_run(server, ts, preds, out, cache, *flags):
    import os
    import time

    start = time.monotonic()
    proc = subprocess.run(
        [*CLI, "evaluate", "--testset", str(ts), "--predictions", str(preds), "--out", str(out),
         "--judge", "openai/j", "--cache-dir", str(cache), "--resamples", "50", *map(str, flags)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"})
    return proc, time.monotonic() - start


def test_a_hung_judge_server_costs_seconds_not_minutes(tmp_path):
    from loopback import LoopbackServer

    ts, preds = _rows_file(tmp_path, 20)
    with LoopbackServer(answer_first=0) as server:
        proc, took = _judge_run(server, ts, preds, tmp_path / "r", tmp_path / "c",
                                "--timeout", "0.3", "--retries", "6", "--concurrency", "4")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "stopped early" in proc.stderr and "within the request timeout" in proc.stderr
        # A row gives up after three attempts (a timeout is retried twice), and the run stops
        # once two rows (over 5% of 20) have failed: 4 rows in flight x 3 attempts, plus a first
        # attempt of the next row by each worker whose row failed first.
        assert 6 <= server.requests <= 16, server.requests
        assert took < 30
    assert not (tmp_path / "r" / "results.json").exists()


def test_a_deadline_stops_judging_and_a_rerun_pays_only_the_rest(tmp_path):
    from loopback import LoopbackServer

    ts, preds = _rows_file(tmp_path, 12)
    with LoopbackServer(answer_first=5) as server:
        proc, took = _judge_run(server, ts, preds, tmp_path / "r", tmp_path / "c",
                                "--deadline", "8", "--concurrency", "1")
        assert proc.returncode == 2, proc.stderr
        # The five answered rows are judged well within 8 s, even on a loaded machine.
        assert "deadline of 8 s with 5 of 12 rows judged" in proc.stderr
        assert took < 30 and server.requests == 6
        server.answer_first = None
        proc, _ = _judge_run(server, ts, preds, tmp_path / "r", tmp_path / "c")
        assert proc.returncode == 0, proc.stderr
        assert server.requests == 6 + 7
    assert json.loads((tmp_path / "r" / "results.json").read_text())["judge"]["calls"] == 7


def test_timeouts_and_retries_reach_an_api_model_under_test(tmp_path, testset_path):
    from loopback import LoopbackServer

    with LoopbackServer(answer_first=0) as server:
        proc = run("generate", "--model", "openai/m", "--base-url", server.base_url, "--testset",
                   testset_path, "--out", tmp_path / "p.jsonl", "--timeout", "0.3",
                   "--retries", "1")
        assert proc.returncode == 2 and "giving up after 2 attempts" in proc.stderr, proc.stderr
        assert "within the request timeout" in proc.stderr
        proc = run("generate", "--model", "hf/x", "--testset", testset_path, "--out",
                   tmp_path / "q.jsonl", "--timeout", "3")
        assert proc.returncode == 2 and "--timeout" in proc.stderr


def test_generate_says_what_it_kept_and_how_to_resume_after_an_interrupt(tmp_path, testset_path):
    import signal
    import time

    from loopback import LoopbackServer

    out = tmp_path / "p.jsonl"
    # Each batch of 4 waits 1 s, so the interrupt lands with about 5 s of work left even when
    # a loaded machine is slow to notice the 8th line.
    with LoopbackServer(latency=1.0) as server:
        base = ["generate", "--model", "openai/m", "--base-url", server.base_url, "--testset",
                testset_path, "--out", out, "--batch-size", "4"]
        # A shell starts background jobs with SIGINT ignored, and a child inherits that (then
        # Python never turns SIGINT into KeyboardInterrupt): give the CLI the default, as a
        # terminal's Ctrl-C finds it.
        proc = subprocess.Popen([*CLI, *map(str, base)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or
                                                len(out.read_text().splitlines()) < 8):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert "interrupted" in stdout and "run the same command again to resume" in stdout
        assert "Traceback" not in stderr
        kept = len(out.read_text().splitlines())
        assert 8 <= kept < 28
        proc = run(*base)
        assert proc.returncode == 0, proc.stderr
        assert f"resuming {out}: {kept} of 28 rows kept, {28 - kept} to generate" in \
            proc.stdout.replace("\n", "")
    assert len(out.read_text().splitlines()) == 28


def test_validate_checks_a_predictions_file_against_its_test_set(tmp_path, testset_path, v1_path):
    proc = run("validate", v1_path, "--testset", testset_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "28 predictions" in proc.stdout and "clean" in proc.stdout
    lines = v1_path.read_text().splitlines()
    first = json.loads(lines[0])
    other = {**json.loads(lines[2]), "model": {"model": "hf/other"}, "prompt": "p2"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([
        json.dumps({**first, "model": {"model": "hf/one"}, "prompt": "p1"}),  # 1: fine
        json.dumps(first),                                                     # 2: duplicate
        json.dumps({"id": "nope", "output": "[]"}),                           # 3: unknown id
        json.dumps({**json.loads(lines[1]), "output": 5}),                    # 4: wrong type
        json.dumps(other),                                                     # 5: other model
    ]) + "\n")
    proc = run("validate", bad, "--testset", testset_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"{bad}:2 [description]: second prediction for description" in out
    assert f"{bad}:3 [id]: id 'nope' matches no row" in out
    assert f"{bad}:4 [output]: wrong type" in out
    assert f"{bad}:5 [model]: generated by" in out
    assert "no prediction for 27 test row(s)" in out
    proc = run("validate", tmp_path / "missing.jsonl", "--testset", testset_path)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_help_shows_defaults_and_no_placeholder_on_flags():
    for cmd in ("evaluate", "generate", "compare", "report", "judge-agreement", "validate",
                "demo", "cache check"):
        proc = subprocess.run([*CLI, *cmd.split(), "--help"], capture_output=True, text=True,
                              timeout=60, env={**__import__("os").environ, "COLUMNS": "200"})
        assert proc.returncode == 0, proc.stderr
        assert "<bool>" not in proc.stdout, cmd
    proc = run("evaluate", "--help")
    for default in ("[default: reference]", "[default: 10000]", "[default: 60]",
                    "[default: 16]", "[default: auto]", "[default: 0.05]"):
        assert default in proc.stdout.replace("\n", ""), default
    proc = run("compare", "--help")
    assert "[default: the first result's]" in proc.stdout.replace("\n", "")
    assert "--install-completion" in run("--help").stdout


def test_print_of_results_and_comparison_is_a_short_summary(testset_path, v1_path, v2_path):
    from domainyours_eval import compare, evaluate

    a = evaluate(v1_path, testset_path, n_resamples=50, model_name="v1")
    b = evaluate(v2_path, testset_path, n_resamples=50, model_name="v2")
    text = str(a)
    assert len(text) < 2000 and "v1: 28 rows of test_set" in text
    assert "safety_fbeta" in text and "missed_inappropriate 2" in text
    cmp = compare(a, b)
    assert len(str(cmp)) < 4000 and cmp.recommendation in str(cmp)
    assert "p (Holm)" in str(cmp) and len(repr(cmp)) < 200


def _received(server):
    return [m["content"] for body in server.bodies for m in body["messages"]]


def test_a_guarded_model_never_sees_what_the_guard_blocks(tmp_path, testset_path):
    from loopback import LoopbackServer

    from domainyours_eval import evaluate, load_testset

    descriptions = [r.description for r in load_testset(testset_path).rows]
    with LoopbackServer() as server:
        proc = run("evaluate", "--testset", testset_path, "--model", "openai/m", "--base-url",
                   server.base_url, "--guard", "reference", "--out", tmp_path / "cli",
                   "--resamples", "50")
        assert proc.returncode == 0, proc.stderr
        res = json.loads((tmp_path / "cli" / "results.json").read_text())
        blocked = res["guardrail"]["blocked"]
        assert len(blocked) >= 4
        seen = "\n".join(_received(server))
        for i, d in enumerate(descriptions):
            assert (d in seen) == (i not in blocked), d
        assert all(res["rows"][i]["raw_output"] == "[]" for i in blocked)
        assert len(server.bodies) == len(descriptions) - len(blocked)
        # The predictions file holds only what the model was shown; a rerun asks nothing.
        written = (tmp_path / "cli" / "predictions.jsonl").read_text().splitlines()
        assert len(written) == len(descriptions) - len(blocked)
        proc = run("evaluate", "--testset", testset_path, "--model", "openai/m", "--base-url",
                   server.base_url, "--guard", "reference", "--out", tmp_path / "cli",
                   "--resamples", "50")
        assert proc.returncode == 0 and len(server.bodies) == len(descriptions) - len(blocked)
        # The same through Python.
        calls = len(server.bodies)
        py = evaluate("openai/m", testset_path, guard="reference", n_resamples=50,
                      predictions_out=tmp_path / "py.jsonl",
                      generate_options={"base_url": server.base_url, "max_tokens": 150})
        fresh = "\n".join(_received(server)[calls:])
        assert py.guardrail.blocked == blocked
        assert not any(descriptions[i] in fresh for i in blocked)
        assert py.model.name == "openai/m"


def test_a_former_model_spec_works_and_says_how_to_write_it(tmp_path, testset_path):
    from loopback import LoopbackServer

    with LoopbackServer() as server:
        proc = run("generate", "--model", "openai:m", "--base-url", server.base_url, "--testset",
                   testset_path, "--out", tmp_path / "p.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert "warning: model spec 'openai:m': write openai/m" in proc.stderr.replace("\n", " ")
    record = json.loads((tmp_path / "p.jsonl").read_text().splitlines()[0])
    assert record["model"]["model"] == "openai/m"
