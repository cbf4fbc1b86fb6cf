"""The annotated example file (``config/sms1708.example.toml``), written from the declaration:
every key with its default (or the value ``shown``) and what it means, section by section.

``python -m sms1708.config --example > config/sms1708.example.toml`` rewrites it; a test keeps
the file in step with the declaration.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import Field
from typing import Any

from sms1708.config.checks import Choice
from sms1708.config.keys import Key, keys_of, section_of
from sms1708.config.sections import FILE_HEADER, SECTIONS

#: where the explanations start, and the widest line
COLUMN, WIDTH = 28, 98
#: a note that would get less room than this beside a long value goes under it
NARROWEST = 24


def toml_value(value: Any) -> str:
    """A default as TOML text: ``"auto"``, ``true``, ``10.0``, ``["SM", "ME"]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML text for a default of {value!r}; declare it with shown=")


def comments(text: str) -> list[str]:
    """A block of prose, line by line, as comment lines."""
    lines = textwrap.dedent(text).strip("\n").splitlines()
    return [f"# {line}".rstrip() if line.strip() else "#" for line in lines]


def _wrap(text: str, first: int, rest: int) -> list[str]:
    lines: list[str] = []
    line, width = "", first
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line, width = word, rest
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def annotated(head: str, note: str) -> list[str]:
    """``head`` with ``note`` as a comment beside it, wrapped under it from :data:`COLUMN`."""
    if not note:
        return [head]
    pad = COLUMN - len(head) if len(head) < COLUMN - 1 else 2
    start = len(head) + pad + 2
    if WIDTH - start < NARROWEST:
        return [
            head,
            *(f"{' ' * COLUMN}# {x}" for x in _wrap(note, WIDTH - COLUMN - 2, WIDTH - COLUMN - 2)),
        ]
    lines = _wrap(note, WIDTH - start, WIDTH - COLUMN - 2)
    return [f"{head}{' ' * pad}# {lines[0]}", *(f"{' ' * COLUMN}# {x}" for x in lines[1:])]


def explanation(info: Key) -> str:
    """What a key means; for a choice, its choices first (``id | en: ...``)."""
    if isinstance(info.check, Choice):
        choices = info.check.describe()
        return f"{choices}: {info.doc}" if info.doc else choices
    return info.doc


def key_lines(name: str, spec: Field[Any], info: Key) -> list[str]:
    value = info.shown if info.shown is not None else toml_value(spec.default)
    head = f"{'# ' if info.commented else ''}{name} = {value}"
    before = comments(info.before) if info.before else []
    return [*before, *annotated(head, explanation(info))]


def section_lines(cls: type) -> list[str]:
    sec = section_of(cls)
    lines = annotated(f"[{sec.name}]", sec.header)
    if sec.intro:
        lines += comments(sec.intro)
    for name, (spec, info) in keys_of(cls).items():
        if info.in_file:
            lines += key_lines(name, spec, info)
    if sec.after:
        lines += ["", *comments(sec.after)]
    return lines


def example_text() -> str:
    """The whole example file."""
    lines = comments(FILE_HEADER)
    for cls in SECTIONS:
        lines += ["", *section_lines(cls)]
    return "\n".join(lines) + "\n"
