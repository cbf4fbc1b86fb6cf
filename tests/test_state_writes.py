"""Every write of a queue's ``state`` goes through ``sms1708/store/transitions.py`` (which asks
``core/states.py`` first): no other SQL in the package may INSERT a row with a state or
``SET state``. The search reads every string in the package's source (f-strings and implicitly
joined literals included), so a write spelled anywhere else fails this test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sms1708"

#: module -> why it may write a state column itself
ALLOWED = {
    "store/transitions.py": "the one writer of each queue's state, checked against the tables",
    "store/schema.py": "migrations copy rows between table layouts (m014 deliveries from outbox)",
}

_INSERT = re.compile(
    r"\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+\w+\s*\(([^)]*)\)", re.IGNORECASE | re.DOTALL
)
_SET = re.compile(r"\bSET\b(.*?)(?:\bWHERE\b|$)", re.IGNORECASE | re.DOTALL)
_STATE = re.compile(r"(?<![\w.])state\s*=", re.IGNORECASE)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal, an f-string as its literal parts joined (``{...}`` as ``?``)."""
    out: list[tuple[int, str]] = []
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                inside.add(id(v))
                if isinstance(v, ast.Constant) and isinstance(v.value, str):
                    parts.append(v.value)
                else:
                    parts.append("?")
            out.append((node.lineno, "".join(parts)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside
        ):
            out.append((node.lineno, node.value))
    return out


def state_writes(source: str) -> list[str]:
    """SQL in ``source`` that writes a ``state`` column."""
    found = []
    for line, s in _strings(ast.parse(source)):
        for m in _INSERT.finditer(s):
            if re.search(r"\bstate\b", m.group(1), re.IGNORECASE):
                found.append(f"line {line}: INSERT with a state: {s[:80]!r}")
        if re.search(r"\bUPDATE\b", s, re.IGNORECASE):
            for m in _SET.finditer(s):
                if _STATE.search(m.group(1)):
                    found.append(f"line {line}: UPDATE ... SET state: {s[:80]!r}")
    return found


def test_no_sql_outside_the_transitions_writes_a_state() -> None:
    bad = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(PACKAGE))
        if name not in ALLOWED and (found := state_writes(path.read_text())):
            bad[name] = found
    assert not bad, f"a state written outside store/transitions.py: {bad}"


def test_the_transitions_module_is_found_writing_states() -> None:
    """The search works on the real code: lifted, the exemption would flag the writers."""
    found = state_writes((PACKAGE / "store" / "transitions.py").read_text())
    assert any("UPDATE" in f for f in found) and any("INSERT" in f for f in found)


def test_every_allowed_exception_exists() -> None:
    for name in ALLOWED:
        assert (PACKAGE / name).exists(), name


@pytest.mark.parametrize(
    "source",
    [
        """c.execute("UPDATE deliveries SET state='queued' WHERE id=?", (1,))""",
        """c.execute("UPDATE replies SET reason='x', state = ? WHERE id=?", (s, 1))""",
        """c.execute(f"UPDATE deliveries SET lease_until=NULL, state={x} WHERE id IN ({m})")""",
        """sql = ("UPDATE replies SET text=?,"\n       " state='suppressed' WHERE id=?")""",
        """c.execute("INSERT INTO replies (id, state) VALUES (?, ?)", r)""",
        """c.executemany("INSERT OR IGNORE INTO deliveries (message_id, state) VALUES (?,?)", r)""",
    ],
)
def test_the_search_catches_a_state_written_elsewhere(source: str) -> None:
    assert state_writes(source)


@pytest.mark.parametrize(
    "source",
    [
        """c.execute("SELECT * FROM replies WHERE state = 'queued'")""",
        """c.execute("UPDATE replies SET text=? WHERE state='queued' AND id=?", r)""",
        """c.execute("INSERT INTO parts (status, pdu) VALUES (?, ?)", r)""",
        """c.execute("UPDATE messages SET upstream_status=? WHERE id=?", r)""",
    ],
)
def test_the_search_lets_other_sql_pass(source: str) -> None:
    assert not state_writes(source)
