"""The package's shape: imports run one way, no private names cross modules, modules stay small."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "domainyours_eval"
MAX_LINES = 420


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path, *, top_level_only: bool):
    """(imported module, names, line) for each import in ``path``.

    ``top_level_only`` leaves out imports inside functions and ``if TYPE_CHECKING:`` blocks: a
    record may delegate to its renderer with an import inside the method.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = []
    if top_level_only:
        for node in tree.body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                continue
            if isinstance(node, ast.Try):
                nodes.extend(node.body)
            nodes.append(node)
    else:
        nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            yield target, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno


def _is(target: str, layer: str) -> bool:
    name = f"domainyours_eval.{layer}"
    return target == name or target.startswith(name + ".")


# (importing layer, layers it must not import at module level)
RULES = [
    ("protocol", ["results", "comparison", "reports", "runner", "cli", "judges", "models",
                  "providers"]),
    ("stats", ["results", "comparison", "reports", "runner", "cli", "judges", "models",
               "providers"]),
    ("results", ["comparison", "reports", "runner", "cli"]),
    ("comparison", ["reports", "runner", "cli"]),
    ("reports", ["runner", "cli"]),
    ("providers", ["judges", "models", "runner", "cli", "reports", "comparison"]),
    ("models", ["judges", "runner", "cli", "reports", "comparison"]),
    ("judges", ["models", "runner", "cli", "reports", "comparison"]),
    ("runner", ["cli", "reports"]),
]


@pytest.mark.parametrize(("layer", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_imports_run_one_way(layer, forbidden):
    wrong = []
    for module, path in _modules():
        if not _is(module, layer):
            continue
        for target, _, line in _imports(module, path, top_level_only=True):
            for other in forbidden:
                if _is(target, other):
                    wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_records_never_import_their_renderers_even_inside_functions_except_delegates():
    # Delegates (to_html, report, __rich__) may import reports inside the method; nothing in
    # protocol or stats may, anywhere.
    wrong = []
    for module, path in _modules():
        if _is(module, "protocol") or _is(module, "stats"):
            for target, _, line in _imports(module, path, top_level_only=False):
                if _is(target, "reports") or _is(target, "comparison") or _is(target, "results"):
                    wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_modules_private_name():
    wrong = []
    for module, path in _modules():
        for target, names, line in _imports(module, path, top_level_only=False):
            if not target.startswith("domainyours_eval") or target == module:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports "
                             f"{', '.join(private)} from {target}")
    assert not wrong, "\n".join(wrong)


def test_no_module_is_much_over_400_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for _, p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def _graph():
    mods = dict(_modules())
    graph = {}
    for module, path in mods.items():
        edges = set()
        for target, names, _ in _imports(module, path, top_level_only=True):
            # "from package import submodule" imports the submodule.
            edges |= {f"{target}.{n}" for n in names if f"{target}.{n}" in mods}
            if target in mods:
                edges.add(target)
        graph[module] = edges - {module}
    return graph


def _cycle_from(start, graph):
    """A module-level import path from ``start`` back to itself, or ``None``."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_module_level_import_cycle():
    graph = _graph()
    cycles = [c for m in graph if (c := _cycle_from(m, graph))]
    assert not cycles, " -> ".join(cycles[0])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle_from("a", {"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle_from("a", {"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_rules_see_real_imports():
    # The checks above would pass vacuously if the walker found nothing.
    found = {t for m, p in _modules() if _is(m, "runner")
             for t, _, _ in _imports(m, p, top_level_only=True)}
    assert "domainyours_eval.models" in found and "domainyours_eval.judges" in found
