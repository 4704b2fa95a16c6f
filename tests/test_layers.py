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
