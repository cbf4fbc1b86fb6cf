"""SQL lives in ``sms1708/store/`` only: no other module of the package runs a statement on a
connection, opens one, or reaches into the Store's connection.

Allowed exceptions are listed in ``ALLOWED`` with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sms1708"
STORE = PACKAGE / "store"

#: module (relative to the package) -> why it may run SQL itself
ALLOWED: dict[str, str] = {
    "testing.py": "the store fault seam overrides Store.transaction(): sqlite3 names its type;"
    " it runs no SQL",
}

EXECUTES = frozenset({"execute", "executemany", "executescript"})


def offences(source: str) -> list[str]:
    """What in ``source`` runs SQL outside the Store (one line each)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in EXECUTES:
                found.append(f"line {node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append(f"line {node.lineno}: .conn (the Store's connection)")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in {"sqlite3", "sqlite_utils"}:
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {
            "sqlite3",
            "sqlite_utils",
        }:
            found.append(f"line {node.lineno}: from {node.module} import ...")
    return found


def modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if STORE not in p.parents]


def test_no_module_outside_the_store_runs_sql() -> None:
    bad = {}
    for path in modules():
        name = str(path.relative_to(PACKAGE))
        if name in ALLOWED:
            continue
        if found := offences(path.read_text()):
            bad[name] = found
    assert not bad, f"SQL outside sms1708/store/ (move it into a store query): {bad}"


def test_every_allowed_exception_still_exists_and_says_why() -> None:
    for name, why in ALLOWED.items():
        assert (PACKAGE / name).exists(), name
        assert why.strip(), name


@pytest.mark.parametrize(
    "source",
    [
        "store.conn.execute('SELECT 1')",
        "c.executemany('INSERT INTO t VALUES (?)', rows)",
        "import sqlite3",
        "from sqlite3 import connect",
        "rows = store.conn",
    ],
)
def test_the_check_catches_sql_outside_the_store(source: str) -> None:
    assert offences(source)


def test_the_check_passes_store_calls() -> None:
    assert not offences("store.queries.counts()\nstore.outbox.claim(now=1, lease=2, limit=3)")
