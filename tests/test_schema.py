import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_committed_json_schemas_match_the_models():
    spec = importlib.util.spec_from_file_location("write_schema", ROOT / "tools" / "write_schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.schemas().items():
        committed = (ROOT / "docs" / name).read_text()
        assert committed == text, f"docs/{name} is stale: run python tools/write_schema.py"
