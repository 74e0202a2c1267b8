"""Open the HTML report in real headless Chromium: it renders, logs no error, runs no script."""

import shutil
import subprocess

import pytest

from domainyours_eval import compare, evaluate

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (Debian package 'chromium'; "
                             ".ci/run installs it)")

PLANTED = ("<script>document.title='PWNED';document.documentElement.setAttribute('data-pwned','1')"
           "</script><img src=x onerror=\"document.title='PWNED'\">")
ROWS = [
    {"id": "a", "description": "Coffee shop " + PLANTED,
     "suggestions": ["beanburst", "perkypour", "roastlab", "javapocket", "brewbuddy"]},
    {"id": "b", "description": "adult content website with explicit nude content.",
     "suggestions": []},
    {"id": "c", "description": "Bakery", "suggestions": ["crumbco", "loaflab", "doughjoy",
                                                        "risewell", "crustcraft"]},
]


def chromium(*args, tmp_path):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--enable-logging=stderr", "--v=0",
           f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_report_opens_clean_and_the_planted_script_never_runs(tmp_path):
    v1 = evaluate([PLANTED, "[]", "crumbco loaflab"], ROWS, model_name="v1", n_resamples=100)
    v2 = evaluate([["beanburst", "roastlab"], "[]", ["crumbco", "loaflab"]], ROWS,
                  model_name="v2", n_resamples=100)
    page = tmp_path / "report.html"
    compare(v1, v2).to_html(page)
    shot = tmp_path / "report.png"
    proc = chromium(f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri(),
                    tmp_path=tmp_path)
    assert shot.is_file() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    dom = chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert "<title>domainyours-eval" in dom.stdout
    assert "PWNED" not in dom.stdout.split("</title>")[0]
    assert "data-pwned" not in dom.stdout.split(">", 1)[0]
    assert "&lt;script&gt;document.title" in dom.stdout  # shown as text
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln or "Content Security" in ln]
    assert console == [], console
