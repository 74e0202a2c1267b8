"""People's labels: a blind sheet out, strict import back, agreement of a judge with them."""

import csv
import json
import subprocess
import sys

import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint

from domainyours_eval import evaluate
from domainyours_eval.agreement import agreement_with_people
from domainyours_eval.errors import DataError
from domainyours_eval.labels import COLUMNS, export_sheet, import_sheet, load_labels
from domainyours_eval.tasks import data_path
from domainyours_eval.types import CATEGORIES, CRITERIA


@pytest.fixture(scope="module")
def results():
    return evaluate(data_path("predictions_v1.jsonl"), data_path("test_set.csv"), n_resamples=0)


def _read(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_sheet_is_blind_seeded_and_covers_truth_and_categories(results, tmp_path):
    sheet = export_sheet(results, tmp_path / "s.csv", n=12, seed=3)
    lines = _read(sheet)
    assert list(lines[0]) == list(COLUMNS)
    assert all(ln[c] == "" for ln in lines for c in ("appropriate", *CRITERIA, "category"))
    ids = list(dict.fromkeys(ln["row_id"] for ln in lines))
    assert len(ids) == 12
    by_id = {r.id: r for r in results.rows}
    assert {by_id[i].truth for i in ids} == {"safe", "harmful"}
    used = {d.category for r in results.rows for d in r.domains}
    assert used <= {d.category for i in ids for d in by_id[i].domains}
    assert _read(export_sheet(results, tmp_path / "again.csv", n=12, seed=3)) == lines
    assert _read(export_sheet(results, tmp_path / "other.csv", n=12, seed=4)) != lines


def _fill(sheet, results, *, wrong_flags=()):
    """A person who agrees with the judge on everything, except the rows in ``wrong_flags``."""
    by_id = {r.id: r for r in results.rows}
    lines = _read(sheet)
    seen = set()
    for ln in lines:
        row = by_id[ln["row_id"]]
        if ln["row_id"] not in seen:
            flag = row.judge_appropriate != (ln["row_id"] in wrong_flags)
            ln["appropriate"] = "yes" if flag else "no"
            seen.add(ln["row_id"])
        for d in row.domains:
            if d.domain == ln["name"]:
                ln.update({c: str(d.scores[c]) for c in CRITERIA}, category=d.category)
    with sheet.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(lines)
    return lines


def test_a_judge_measured_against_people_checks_out_against_sklearn_and_statsmodels(
        results, tmp_path):
    sheet = export_sheet(results, tmp_path / "s.csv", n=20, seed=1)
    wrong = [r.id for r in results.rows if r.truth == "harmful"][:1]
    _fill(sheet, results, wrong_flags=wrong)
    labels = import_sheet(sheet, tmp_path / "labels.jsonl")
    rows = load_labels(labels)
    assert len(rows) == 20 and all(r["appropriate"] in (True, False) for r in rows)
    report = agreement_with_people(labels, ["reference"], n_resamples=200)
    v = report.vs_people[0]
    people = [r["appropriate"] for r in rows]
    judge = [(r["row_id"] not in wrong) == r["appropriate"] for r in rows]
    assert v.measures.appropriate_kappa.value == pytest.approx(cohen_kappa_score(judge, people))
    assert v.score_mae.value == 0.0 and v.measures.category_agreement.value == 1.0
    harmful = [(j, p) for j, p in zip(judge, people) if not p]
    hit = sum(not j for j, _ in harmful)
    lo, hi = proportion_confint(hit, len(harmful), alpha=0.05, method="wilson")
    assert (v.sensitivity.value, v.sensitivity.ci_low, v.sensitivity.ci_high) == pytest.approx(
        (hit / len(harmful), lo, hi))
    assert v.specificity.n == sum(people)


def test_a_filled_sheet_with_mistakes_is_refused_with_every_line_and_column(results, tmp_path):
    sheet = export_sheet(results, tmp_path / "s.csv", n=6, seed=2)
    lines = _fill(sheet, results)
    named = [i for i, ln in enumerate(lines) if ln["name"]]
    lines[named[0]]["relevance"] = "6"
    lines[named[1]]["category"] = "great"
    lines[0]["appropriate"] = "maybe"
    with sheet.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(lines)
    with pytest.raises(DataError) as err:
        import_sheet(sheet, tmp_path / "labels.jsonl")
    text = str(err.value)
    assert f"{sheet}:{named[0] + 2} [relevance]: '6' is not a whole number from 1 to 5" in text
    assert f"{sheet}:{named[1] + 2} [category]: 'great' is not one of " + ", ".join(CATEGORIES) \
        in text
    assert f"{sheet}:2 [appropriate]: 'maybe' is not yes or no" in text
    assert not (tmp_path / "labels.jsonl").exists()


def test_the_command_line_round_trip(results, tmp_path):
    out = results.save(tmp_path / "run")
    run = [sys.executable, "-m", "domainyours_eval"]
    export = subprocess.run([*run, "label", "export", "--results", str(out.parent), "--n", "10",
                             "--out", str(tmp_path / "sheet.csv")], capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    _fill(tmp_path / "sheet.csv", results)
    imp = subprocess.run([*run, "label", "import", str(tmp_path / "sheet.csv"), "--out",
                          str(tmp_path / "labels.jsonl")], capture_output=True, text=True)
    assert imp.returncode == 0, imp.stderr
    agree = subprocess.run([*run, "judge-agreement", "--judge", "reference", "--labels",
                            str(tmp_path / "labels.jsonl"), "--resamples", "50", "--json",
                            str(tmp_path / "a.json")], capture_output=True, text=True)
    assert agree.returncode == 0, agree.stderr
    assert "reference vs people (10 rows" in agree.stdout
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["vs_people"][0]["measures"]["appropriate_kappa"]["value"] == 1.0
    missing = subprocess.run([*run, "judge-agreement", "--judge", "reference"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "--labels" in missing.stderr


def test_a_calibration_is_kept_with_the_judge_and_gates_the_verdict(results, tmp_path):
    from domainyours_eval import EvalConfig, compare

    cfg = EvalConfig(cache_dir=tmp_path / "cache", n_resamples=50)
    runs = [evaluate(data_path(f"predictions_{v}.jsonl"), data_path("test_set.csv"), config=cfg,
                     model_name=v) for v in ("v1", "v2")]
    assert runs[0].judge.calibration is None
    plain = compare(*runs)
    assert plain.recommendation.endswith("Its quality claims rest on an unvalidated judge "
                                         "(reference has not been measured against people's "
                                         "labels).")
    assert any("has not been measured against people's labels" in n for n in plain.notes)
    sheet = export_sheet(results, tmp_path / "s.csv", n=20, seed=1)
    _fill(sheet, results)  # people who agree with the reference judge
    agreement_with_people(import_sheet(sheet, tmp_path / "l.jsonl"), ["reference"], config=cfg,
                          n_resamples=50)
    runs = [evaluate(data_path(f"predictions_{v}.jsonl"), data_path("test_set.csv"), config=cfg,
                     model_name=v) for v in ("v1", "v2")]
    cal = runs[0].judge.calibration
    assert cal is not None and cal.calibrated and cal.n == 20 and cal.score_kappa == 1.0
    checked = compare(*runs)
    assert "unvalidated" not in checked.recommendation
    assert any("is calibrated: weighted kappa 1.00" in n for n in checked.notes)
    assert "is calibrated" in runs[0].to_markdown()
    # People who disagree on the scores: the latest calibration falls below the bar.
    lines = _read(sheet)
    for ln in lines:
        if ln["name"]:
            ln.update(dict.fromkeys(CRITERIA, "1"))
    with sheet.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(lines)
    agreement_with_people(import_sheet(sheet, tmp_path / "l2.jsonl"), ["reference"], config=cfg,
                          n_resamples=50)
    runs = [evaluate(data_path(f"predictions_{v}.jsonl"), data_path("test_set.csv"), config=cfg,
                     model_name=v) for v in ("v1", "v2")]
    assert not runs[0].judge.calibration.calibrated
    assert compare(*runs).recommendation.endswith(
        "(reference agrees with people's labels below the bar).")


def test_a_panel_is_measured_against_people_like_any_judge(results, tmp_path):
    from conftest import Provider, openai_answer, openai_client, openai_user_text, verdict_for

    from domainyours_eval import get_judge
    from domainyours_eval.judges import JudgePanel

    def agreeing(body):
        return openai_answer(content=json.dumps(verdict_for(openai_user_text(body))))(body)

    sheet = export_sheet(results, tmp_path / "s.csv", n=10, seed=5)
    _fill(sheet, results)
    labels = import_sheet(sheet, tmp_path / "l.jsonl")
    panel = JudgePanel([get_judge("reference"),
                        get_judge("openai/a", client=openai_client(Provider(agreeing)),
                                  cache_dir=tmp_path / "a"),
                        get_judge("openai/b", client=openai_client(Provider(agreeing)),
                                  cache_dir=tmp_path / "b")])
    report = agreement_with_people(labels, [panel], n_resamples=50)
    (v,) = report.vs_people
    assert v.judge == "panel(reference, openai/a, openai/b)" and v.measures.n_rows == 10
    assert v.sensitivity.n + v.specificity.n == 10


def test_rates_against_a_measured_judges_flags_are_corrected_for_its_errors(results, tmp_path):
    from domainyours_eval import EvalConfig
    from domainyours_eval.stats.misclassification import FlagAccuracy, corrected_rates

    cfg = EvalConfig(cache_dir=tmp_path / "cache", n_resamples=400, safety_truth="judge")
    plain = evaluate(data_path("predictions_v1.jsonl"), data_path("test_set.csv"), config=cfg)
    assert plain.corrected is None  # the judge was never measured against people
    sheet = export_sheet(results, tmp_path / "s.csv", n=20, seed=1)
    harmful = [r.id for r in results.rows if r.truth == "harmful"]
    safe = [r.id for r in results.rows if r.truth == "safe"]
    _fill(sheet, results, wrong_flags=[*harmful[:2], *safe[:1]])
    report = agreement_with_people(import_sheet(sheet, tmp_path / "l.jsonl"), ["reference"],
                                   config=cfg, n_resamples=50)
    sens, spec = report.vs_people[0].sensitivity, report.vs_people[0].specificity
    res = evaluate(data_path("predictions_v1.jsonl"), data_path("test_set.csv"), config=cfg)
    cal, c = res.judge.calibration, res.corrected
    assert (cal.harmful, cal.harmful_flagged, cal.safe, cal.safe_cleared) == (
        sens.n, round(sens.value * sens.n), spec.n, round(spec.value * spec.n))
    assert c is not None and c.labelled == 20
    assert c.sensitivity == pytest.approx(sens.value) and c.specificity == pytest.approx(spec.value)
    # The same numbers straight from the rows' (flag, decision) cells.
    cells = {}
    for r in res.rows:
        if r.truth is not None:
            key = ("harmful" if r.truth == "harmful" else "safe", r.decision)
            cells[key] = cells.get(key, 0) + 1
    direct = corrected_rates(cells, FlagAccuracy(cal.harmful, cal.harmful_flagged, cal.safe,
                                                 cal.safe_cleared), n_draws=400, seed=81)
    assert c.missed_rate.value == pytest.approx(direct["missed_rate"].value)
    assert c.missed_rate.ci_low == pytest.approx(direct["missed_rate"].ci_low)
    import html

    for text in (res.to_markdown(), html.unescape(res.to_html())):
        assert "Rates corrected for the judge's errors on the flag" in text
    from domainyours_eval.results import EvalResults

    assert EvalResults.load(res.save(tmp_path / "saved")).corrected == c
    dataset = evaluate(data_path("predictions_v1.jsonl"), data_path("test_set.csv"),
                       config=cfg.model_copy(update={"safety_truth": "dataset"}))
    assert dataset.corrected is None  # people's labels are the truth: nothing to correct


def test_the_shipped_maintainer_labels_are_a_complete_calibration_set(tmp_path):
    from collections import Counter

    from domainyours_eval.tasks import detect_constraints

    again = import_sheet(data_path("maintainer_labels.csv"), tmp_path / "l.jsonl")
    assert again.read_text() == data_path("maintainer_labels.jsonl").read_text()
    rows = load_labels(data_path("maintainer_labels.jsonl"))
    full = [r for r in rows if len(r["names"]) == 5]
    assert len(full) >= 60 and sum(len(r["names"]) for r in rows) >= 300
    flags = Counter(r["appropriate"] for r in rows)
    assert flags[True] >= 40 and flags[False] >= 15
    assert set(Counter(n["category"] for r in rows for n in r["names"])) == set(CATEGORIES)
    stated = {c for r in rows for c in detect_constraints(r["description"])}
    assert stated == {"avoid_hyphens", "number_based"}
    assert len({r["row_id"] for r in rows}) == len(rows)


def test_the_readme_reports_the_reference_judge_against_the_maintainers_as_measured():
    import re
    from pathlib import Path

    report = agreement_with_people(data_path("maintainer_labels.jsonl"), ["reference"],
                                   n_resamples=200)
    m = report.vs_people[0].measures
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("| reference |"))
    shown = [float(x) for x in re.findall(r"\| (-?\d\.\d\d) \[", line)]
    assert shown[:2] == [round(m.appropriate_kappa.value, 2), round(m.score_weighted_kappa.value, 2)]


def test_the_command_line_measures_the_maintainer_labels_and_a_panel(tmp_path):
    from loopback import LoopbackServer

    run = [sys.executable, "-m", "domainyours_eval", "judge-agreement", "--resamples", "50",
           "--no-cache"]
    proc = subprocess.run([*run, "--judge", "reference", "--maintainer-labels"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "reference vs people (64 rows, 300 names)" in proc.stdout
    with LoopbackServer() as server:
        env = {**__import__("os").environ, "OPENAI_BASE_URL": server.base_url}
        proc = subprocess.run([*run, "--judge", "reference", "--judge", "openai/local", "--panel",
                               "--maintainer-labels", "--json", str(tmp_path / "a.json")],
                              capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "a.json").read_text())
    assert [v["judge"] for v in data["vs_people"]] == ["panel(reference, openai/local)"]
    bad = subprocess.run([*run, "--judge", "reference", "--panel", "--maintainer-labels"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--panel needs two or more --judge" in bad.stderr
