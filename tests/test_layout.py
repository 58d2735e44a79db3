"""The shape of the code (issue #11): small modules and functions, Whoosh behind one
module, imports in one direction."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "searchkit"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text("utf-8")) for path in sorted(PACKAGE.glob("*.py"))}


def _imports(tree: ast.Module) -> set[str]:
    """Top-level names of every module imported, `.x` for searchkit's own."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level and node.module:
            found.add(f".{node.module.split('.')[0]}")
        elif isinstance(node, ast.ImportFrom) and node.level:  # from . import x
            found.update(f".{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_modules_and_functions_are_small() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        lines = path.read_text("utf-8").count("\n")
        assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, f"{name}.{node.name} has {length} lines"


def test_only_the_store_imports_whoosh() -> None:
    importers = sorted(name for name, tree in _modules().items() if "whoosh" in _imports(tree))
    assert importers == ["store"]


def test_each_dependency_stays_behind_one_module() -> None:
    owners = {"rjieba": "analysis", "jieba": "analysis", "opencc": "analysis",
              "frontmatter": "documents", "yaml": "documents", "click": "cli",
              "numpy": "arrays", "starlette": "server", "uvicorn": "server", "watchfiles": "watch"}
    for name, tree in _modules().items():
        for dependency in _imports(tree) & set(owners):
            assert owners[dependency] == name, f"{name} imports {dependency}"


def test_no_import_cycles() -> None:
    graph = {
        name: {imported[1:] for imported in _imports(tree) if imported.startswith(".")} - {name}
        for name, tree in _modules().items()
    }
    graph.pop("__init__", None)  # it names every module lazily, for the public API
    for edges in graph.values():
        edges.discard("__init__")

    def visit(name: str, trail: list[str]) -> None:
        assert name not in trail, " → ".join([*trail, name])
        for following in sorted(graph.get(name, ())):
            visit(following, [*trail, name])

    for name in graph:
        visit(name, [])
