import sys
import textwrap

import pytest

from domainyours_eval import ConfigError, get_judge, list_judges, register_judge


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A third-party judge installed through the entry-point group, as pip would."""
    (tmp_path / "my_judges.py").write_text(textwrap.dedent("""
        from domainyours_eval.judges.reference import ReferenceJudge

        class ConstantJudge(ReferenceJudge):
            name = "constant"

            def __init__(self, model="x", **options):
                super().__init__(**options)
                self.name = f"constant/{model}"
    """))
    dist = tmp_path / "my_judges-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-judges\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[domainyours_eval.judges]\nconstant = my_judges:ConstantJudge\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("my_judges", None)


def test_entry_point_judges_are_found(plugin):
    assert "constant" in list_judges()
    judge = get_judge("constant/v2")
    assert judge.name == "constant/v2"


def test_duplicate_registration_raises():
    with pytest.raises(ConfigError, match="already registered"):
        register_judge("reference")(lambda: None)
