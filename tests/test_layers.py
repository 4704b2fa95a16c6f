"""The layering contract: the libraries stay free of the web stack, and verifier stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_STACK = {"flask", "sqlalchemy", "marshmallow", "alembic", "flask_wtf", "werkzeug"}
OURS = {"issuer", "verifier", "keys", "badge_classes"}


def imported_top_levels(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


# badge_classes validates its definition files with marshmallow (the catalogue issue asks for it);
# it still has no web framework, database or HTTP stack.
ALLOWED = {"verifier": set(), "keys": set(), "badge_classes": {"marshmallow"}}


@pytest.mark.parametrize("package", ["verifier", "keys", "badge_classes"])
def test_libraries_import_no_web_stack(package: str) -> None:
    forbidden = WEB_STACK - ALLOWED[package]
    offenders = {f: n & forbidden for f, n in imported_top_levels(package).items() if n & forbidden}
    assert offenders == {}


def test_verifier_imports_nothing_else_of_ours() -> None:
    offenders = {f: n & (OURS - {"verifier"}) for f, n in imported_top_levels("verifier").items() if n & (OURS - {"verifier"})}
    assert offenders == {}


def test_keys_and_badge_classes_do_not_import_the_issuer() -> None:
    for package in ("keys", "badge_classes"):
        for file, names in imported_top_levels(package).items():
            assert "issuer" not in names, file


# --- inside issuer/: the core, the domain packages, the audiences -------------------------------------

CORE = {"config", "db", "runtime", "identity", "errors", "audit", "mail", "extensions", "models", "migrations"}
DOMAINS = {"people", "catalog", "workflow", "credentials", "licensure", "programme"}
AUDIENCES = {"views", "cli"}  # the web's blueprints and the command line; only the app factory imports both


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _issuer_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (ROOT / "issuer").rglob("*.py") if "versions" not in p.parts}


def _imports(path: Path, modules: dict[str, Path], *, lazy: bool) -> set[str]:
    """Modules of issuer that `path` imports when it is loaded (lazy=False) or only inside functions (lazy=True)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = {id(node) for node in tree.body}
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or (id(node) in top) == lazy:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        found.update(t for t in targets if t in modules and t != name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _issuer_modules()
    return {name: _imports(path, modules, lazy=False) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(factory)"


def test_no_import_cycles_inside_issuer() -> None:
    assert _cycles(_graph()) == []


def test_imports_inside_functions_only_where_they_break_a_cycle() -> None:
    """The console script imports the app factory when it runs (the factory registers the commands)."""
    modules = _issuer_modules()
    lazy = {name: found for name, path in modules.items() if (found := _imports(path, modules, lazy=True))}
    assert lazy == {"issuer.cli": {"issuer"}}


def test_the_top_level_of_issuer_holds_only_the_core() -> None:
    top = {p.stem for p in (ROOT / "issuer").glob("*.py")} | {p.name for p in (ROOT / "issuer").iterdir()
                                                              if (p / "__init__.py").exists() or p.name == "migrations"}
    assert top - {"__init__"} == CORE | DOMAINS | AUDIENCES


def test_the_core_imports_no_domain_and_no_audience() -> None:
    offenders = {m: {t for t in targets if _area(t) in DOMAINS | AUDIENCES}
                 for m, targets in _graph().items() if _area(m) in CORE}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_domain_packages_import_no_views_and_no_cli() -> None:
    offenders = {m: {t for t in targets if _area(t) in AUDIENCES}
                 for m, targets in _graph().items() if _area(m) in DOMAINS}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_views_and_the_cli_stay_apart() -> None:
    graph = _graph()
    assert {m: t for m, targets in graph.items() if _area(m) == "views"
            if (t := {x for x in targets if _area(x) == "cli"})} == {}
    assert {m: t for m, targets in graph.items() if _area(m) == "cli"
            if (t := {x for x in targets if _area(x) == "views"})} == {}


def test_every_module_says_what_it_holds() -> None:
    """A docstring whose first line is a sentence of its own (what the module holds); details follow a blank line."""
    def summary_line(path: Path) -> bool:
        lines = (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").splitlines()
        return bool(lines) and lines[0].rstrip().endswith(".") and (len(lines) == 1 or not lines[1].strip())

    assert [name for name, path in _issuer_modules().items() if not summary_line(path)] == []
