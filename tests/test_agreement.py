import numpy as np
import pytest
from conftest import Provider, openai_answer, openai_client, openai_user_text
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

from domainyours_eval import get_judge
from domainyours_eval.agreement import judge_agreement
from domainyours_eval.scoring import bootstrap_clusters, weighted_kappa


@pytest.mark.parametrize("seed", range(3))
def test_weighted_kappa_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    a = list(rng.integers(1, 6, 80))
    b = [int(min(5, max(1, x + rng.integers(-1, 2)))) for x in a]
    assert weighted_kappa(a, b, labels=[1, 2, 3, 4, 5]) == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]))


def test_cluster_bootstrap_of_spearman_brackets_the_estimate():
    rng = np.random.default_rng(0)
    x = rng.random(60)
    y = x + rng.normal(0, 0.3, 60)

    def stat(idx):
        return float(spearmanr(x[idx], y[idx]).statistic)

    r = bootstrap_clusters(60, stat, n_resamples=500, seed=1)
    assert r.value == pytest.approx(spearmanr(x, y).statistic)
    assert r.ci_low < r.value < r.ci_high and r.n == 60 and r.method == "percentile"


def test_reference_judge_against_labels(testset_path):
    report = judge_agreement(testset_path, ["reference"], n_resamples=200)
    (v,) = report.vs_labels
    assert v.judge == "reference" and v.n == 28 and v.judge_errors == 0
    assert v.kappa.value == pytest.approx(1.0)   # it agrees with every shipped label
    assert report.between == []


def test_two_judges_agreement(testset_path, tmp_path):
    # A scripted judge that flags nothing as harmful and gives every name 3 ("ok").
    provider = Provider(openai_answer(score=3, category="ok"))
    other = get_judge("openai/gpt-4o-mini", client=openai_client(provider), cache_dir=tmp_path)
    report = judge_agreement(testset_path, ["reference", other], n_resamples=200)
    weak = report.vs_labels[1]
    assert weak.kappa.value == pytest.approx(0.0)   # no better than chance on safety
    assert weak.accuracy.value == pytest.approx(23 / 28)
    (b,) = report.between
    assert b.a == "reference" and b.b == "openai/gpt-4o-mini"
    assert b.n_rows == 28 and b.n_names == 23 * 5
    assert b.score_spearman.value is None  # a constant judge has no rank order
    from domainyours_eval import JudgeInput, load_testset
    from domainyours_eval.judges.reference import ReferenceJudge
    from domainyours_eval.tasks import detect_constraints

    ref = ReferenceJudge()
    cats = [d.category for r in load_testset(testset_path).rows if r.suggestions
            for d in ref.judge_now(JudgeInput(r.description, r.suggestions,
                                              detect_constraints(r.description))).domains]
    assert b.category_agreement.value == pytest.approx(cats.count("ok") / len(cats))
    assert b.category_kappa.value == pytest.approx(0.0)
    assert provider.calls == 28
    assert all("<<<NAMES" in openai_user_text(r) for r in provider.requests)


def test_judge_agreement_cli(tmp_path, testset_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "agree.json"
    proc = subprocess.run([sys.executable, "-m", "domainyours_eval", "judge-agreement",
                           "--testset", str(testset_path), "--judge", "reference",
                           "--resamples", "100", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["vs_labels"][0]["kappa"]["value"] == pytest.approx(1.0)
