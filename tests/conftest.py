import pytest

from domainyours_eval.tasks import data_path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # Secrets and settings from the developer's shell must not leak into tests.
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def testset_path():
    return data_path("test_set.csv")


@pytest.fixture
def v1_path():
    return data_path("predictions_v1.jsonl")


@pytest.fixture
def v2_path():
    return data_path("predictions_v2.jsonl")
