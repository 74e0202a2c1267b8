import subprocess
import sys

import domainyours_eval

HEAVY = ("torch", "transformers", "peft", "trl", "lm_eval", "anthropic", "openai", "pandas",
         "datasets", "sklearn", "inspect_ai")


def test_import_is_light():
    code = ("import sys, domainyours_eval; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_exported_members():
    # Every public name is exported, and every exported name exists (httpx's check).
    exported = set(domainyours_eval.__all__)
    assert len(exported) == len(domainyours_eval.__all__)
    for name in exported:
        assert hasattr(domainyours_eval, name), name
    lazy = set(domainyours_eval._LAZY)
    assert lazy | {"__version__"} == exported


def test_py_typed_is_shipped():
    from importlib import resources

    assert resources.files("domainyours_eval").joinpath("py.typed").is_file()


def test_the_version_is_written_once():
    import pytest

    tomllib = pytest.importorskip("tomllib")
    from importlib.metadata import version
    from pathlib import Path

    from domainyours_eval import __version__

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert version("domainyours-eval") == __version__
