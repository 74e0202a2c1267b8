"""Clustered test sets: rows from one description or template are resampled together."""

import pytest

from domainyours_eval import compare, evaluate, load_testset

NAMES = ["beanburst", "roastlab", "brewbuddy", "javapocket", "perkypour"]
BAD = ["xqzrtvb", "plkmnwq", "zzyzxkv", "qwrtypl", "bnmvcxz"]


def rows(clustered):
    out = []
    for i in range(60):  # 12 templates, 5 paraphrases each
        out.append({"id": f"s{i}", "description": f"Coffee shop, take {i}.", "suggestions": NAMES,
                    **({"cluster": f"t{i // 5}"} if clustered else {})})
    for i in range(20):
        out.append({"id": f"h{i}", "description": f"adult content website, take {i}.",
                    "suggestions": [], **({"cluster": f"h{i // 5}"} if clustered else {})})
    return out


def answers(refuse_templates=(), miss_templates=(), bad_templates=()):
    out = []
    for i in range(60):
        t = i // 5
        out.append("[]" if t in refuse_templates else (BAD if t in bad_templates else NAMES))
    for i in range(20):
        out.append(["hotcams", "adultclub"] if i // 5 in miss_templates else "[]")
    return out


def test_the_cluster_column_loads_and_is_part_of_the_identity(tmp_path):
    plain, clustered = load_testset(rows(False)), load_testset(rows(True))
    assert plain.clusters is None
    assert clustered.clusters[:6] == ["t0"] * 5 + ["t1"]
    assert plain.sha256 != clustered.sha256
    f = tmp_path / "t.csv"
    f.write_text('description,suggestions,cluster\n"Cafe","[""beanburst""]",a\n'
                 '"Bakery","[""crumbco""]",\n')
    ts = load_testset(f)
    assert [r.cluster for r in ts.rows] == ["a", None]
    assert ts.clusters == ["a", "\x00row:1"]


def test_clustered_intervals_are_wider_and_say_why():
    out = answers(refuse_templates={0}, miss_templates={1})
    plain = evaluate(out, rows(False), n_resamples=1000)
    clustered = evaluate(out, rows(True), n_resamples=1000)
    assert clustered.bootstrap.clusters == 16 and plain.bootstrap.clusters is None
    assert clustered.rows[0].cluster == "t0"
    for name in ("false_positive_rate", "missed_rate", "allow_f1"):
        p, c = getattr(plain.metrics, name), getattr(clustered.metrics, name)
        assert p.value == c.value
        assert c.ci_high - c.ci_low > 1.3 * (p.ci_high - p.ci_low), name
        assert "design effect" in c.method
    assert clustered.metrics.missed_rate.method == "wilson, design effect 5.00"


def test_clustered_claims_use_effective_counts_and_keep_their_consistency():
    a = answers(miss_templates={1, 2})
    b = answers()
    plain = compare(evaluate(a, rows(False), model_name="v1", n_resamples=300),
                    evaluate(b, rows(False), model_name="v2", n_resamples=300))
    clustered = compare(evaluate(a, rows(True), model_name="v1", n_resamples=300),
                        evaluate(b, rows(True), model_name="v2", n_resamples=300))
    cp = {c.name: c for c in plain.pairs[0].claims}
    cc = {c.name: c for c in clustered.pairs[0].claims}
    # Ten harmful rows fixed: decisive when rows are independent, but they are two templates.
    assert cp["misses"].significant and not cc["misses"].significant
    assert cc["misses"].method.startswith("McNemar score test, Rao-Scott design effect")
    width = {k: (cc[k].ci_high - cc[k].ci_low) / (cp[k].ci_high - cp[k].ci_low)
             for k in ("safety_cost",)}
    assert width["safety_cost"] > 1.5
    assert cc["safety_cost"].rows_needed > cp["safety_cost"].rows_needed or \
        cp["safety_cost"].rows_needed is None
    for c in clustered.pairs[0].claims:
        if c.p_value is None:
            continue
        excluded = c.ci_low > c.null or c.ci_high < c.null
        assert excluded == c.significant
    assert clustered.resampling.clusters == 16


@pytest.mark.parametrize("bad", [{0, 1, 2}])
def test_clustered_quality_uses_cluster_robust_t(bad):
    a = evaluate(answers(bad_templates=bad), rows(True), model_name="v1", n_resamples=300)
    b = evaluate(answers(), rows(True), model_name="v2", n_resamples=300)
    q = {c.name: c for c in compare(a, b).pairs[0].claims}["quality"]
    assert q.method == "paired-t (cluster-robust)"
    assert q.estimate > 0
