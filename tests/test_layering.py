"""The architecture of STYLE.md, checked on the source: dependencies point one way, only
kmscli.crypto touches cryptography, only render.py decides how results look."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kmscli"
MODULES = sorted(PACKAGE.rglob("*.py"))


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def resolved_imports(path: Path) -> set[str]:
    """Every kmscli module ``path`` imports, relative imports resolved."""
    package = ["kmscli", *path.relative_to(PACKAGE).parent.parts]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names |= {f"{module}.{a.name}" for a in node.names}
    return names


def calls(path: Path) -> set[str]:
    """Dotted names of everything called in the module (``click.echo``, ``json.dumps``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            f = node.func
            parts = []
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if isinstance(f, ast.Name):
                parts.append(f.id)
                found.add(".".join(reversed(parts)))
    return found


def rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_the_source_tree_is_where_the_tests_expect_it():
    assert {"specs.py", "errors.py", "cli/render.py", "crypto/aead.py", "keyring/store.py"} <= {rel(p) for p in MODULES}


@pytest.mark.parametrize("path", [p for p in MODULES if not rel(p).startswith("cli/")], ids=rel)
def test_the_core_never_imports_click_or_rich(path):
    bad = {m for m in imports(path) if m.split(".")[0] in ("click", "rich")}
    assert not bad, bad


@pytest.mark.parametrize("path", [p for p in MODULES if not rel(p).startswith("crypto/")], ids=rel)
def test_only_kmscli_crypto_imports_cryptography(path):
    bad = {m for m in imports(path) if m.split(".")[0] == "cryptography"}
    assert not bad, bad


@pytest.mark.parametrize("path", [p for p in MODULES if rel(p).startswith(("crypto/", "keyring/", "specs", "errors", "encoding"))], ids=rel)
def test_lower_layers_never_import_the_service_or_the_cli(path):
    bad = {m for m in resolved_imports(path) if m.startswith(("kmscli.service", "kmscli.cli"))}
    assert not bad, bad


# The one renderer: render.py decides the format; tables.py, which only it imports, lays
# tables out (and returns text: render.py prints it).
RENDERER = ("cli/render.py", "cli/tables.py")


@pytest.mark.parametrize("path", [p for p in MODULES if rel(p) not in RENDERER], ids=rel)
def test_results_are_rendered_only_in_render_py(path):
    bad = {c for c in calls(path) if c in ("json.dumps", "print", "console.print")}
    if rel(path) in ("keyring/format.py", "keyring/session.py"):
        bad.discard("json.dumps")  # on-disk encodings (MACs and AAD, session files), not output
    if rel(path) in ("serve/wire.py", "serve/log.py"):
        bad.discard("json.dumps")  # the server's wire protocol and its log lines, not results
    assert not bad, bad
    bad = {m for m in imports(path) if m.split(".")[0] == "rich"}
    assert not bad, bad


def test_only_render_py_uses_the_table_layout():
    users = sorted(rel(p) for p in MODULES if "kmscli.cli.tables" in resolved_imports(p))
    assert users == ["cli/render.py"]


@pytest.mark.parametrize("path", [p for p in MODULES if rel(p) not in ("cli/render.py", "cli/main.py")], ids=rel)
def test_only_render_and_the_error_printer_echo(path):
    assert "click.echo" not in calls(path) and "click.secho" not in calls(path)
