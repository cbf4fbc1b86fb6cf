"""The README's "where each concern lives" table names files that exist, and every module of the
package is named in it, so a newcomer who follows the table finds what it promises."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sms1708"


def _table_cells() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("Where each concern lives:")
    cells: list[str] = []
    for line in text[start:].splitlines()[1:]:
        if not line.strip():
            if cells:
                break
            continue
        if not line.startswith("|"):
            break
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) >= 2 and not set(parts[1]) <= {"-", " "}:
            cells.append(parts[1])
    return cells


def _path_tokens(cell: str) -> list[str]:
    return [t for t in re.findall(r"`([^`]+)`", cell) if re.search(r"(\.py|\.toml|/)$", t)]


def _resolve(cell: str) -> tuple[list[Path], list[str]]:
    """Every path token of a cell, tried as written, under sms1708/, and under each folder the
    cell named before it (``web/`` (``app.py``, ...))."""
    found: list[Path] = []
    missing: list[str] = []
    bases: list[Path] = [ROOT, PACKAGE]
    for token in _path_tokens(cell):
        hits: list[Path] = []
        for base in bases:
            hits = sorted(base.glob(token.rstrip("/"))) if "*" in token else []
            if not hits and (base / token).exists():
                hits = [base / token]
            if hits:
                break
        if not hits:
            missing.append(token)
            continue
        found.extend(hits)
        for hit in hits:
            folder = hit if hit.is_dir() else hit.parent
            if folder not in bases:
                bases.append(folder)
    return found, missing


def test_the_table_is_found_and_has_rows() -> None:
    assert len(_table_cells()) > 20


def test_every_file_the_table_names_exists() -> None:
    missing = [(cell[:50], token) for cell in _table_cells() for token in _resolve(cell)[1]]
    assert missing == []


def test_every_module_of_the_package_is_in_the_table() -> None:
    named: set[Path] = set()
    for cell in _table_cells():
        for path in _resolve(cell)[0]:
            named.add(path)
    unnamed = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.name in {"__init__.py", "__main__.py"}:
            continue
        if module in named or any(parent in named for parent in module.parents):
            continue
        unnamed.append(str(module.relative_to(ROOT)))
    assert unnamed == []
