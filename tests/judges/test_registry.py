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


def test_a_judge_with_only_the_three_core_members_gets_the_default_session():
    from domainyours_eval import evaluate
    from domainyours_eval.judges import Judge
    from domainyours_eval.judges.reference import ReferenceJudge

    class Minimal:  # what a third-party judge written against the first protocol has
        name = "minimal"
        fingerprint = "f" * 64

        def __init__(self):
            self.inner = ReferenceJudge()

        async def judge(self, item):
            return await self.inner.judge(item)

    rows = [{"description": "Coffee shop in Porto", "suggestions": ["beanport"]},
            {"description": "Sell counterfeit passports", "suggestions": []}]
    judge = get_judge(Minimal())
    assert isinstance(judge, Judge) and judge.name == "minimal"
    res = evaluate([["beanport"], []], rows, judge=Minimal(), n_resamples=20, max_cost=1.0)
    assert res.judge.spec == "minimal" and res.judge.n_errors == 0
    with pytest.raises(ConfigError, match="spec string or a Judge"):
        get_judge(object())


def test_the_run_session_reaches_the_judge():
    from domainyours_eval import evaluate
    from domainyours_eval.judges.reference import ReferenceJudge

    class Recording(ReferenceJudge):
        def __init__(self):
            super().__init__()
            self.events = []

        def start_run(self, *, max_cost=None):
            self.events.append(("start", max_cost))

        async def aclose(self):
            self.events.append(("close",))

    judge = Recording()
    evaluate([["beanport"]], [{"description": "Coffee shop", "suggestions": ["beanport"]}],
             judge=judge, n_resamples=20, max_cost=2.5)
    assert judge.events == [("start", 2.5), ("close",)]
