"""What an emulated AT command answers: information lines, then a final result code."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_CME_TEXT = {3: "operation not allowed", 10: "SIM not inserted", 11: "SIM PIN required",
             12: "SIM PUK required", 16: "incorrect password"}  # fmt: skip


@dataclass
class Reply:
    lines: list[str] = field(default_factory=list)
    final: str = "OK"
    prompt: int | None = None  # AT+CMGS: expected TPDU length


Handler = Callable[[re.Match[str]], Reply]


def cme(cmee: int, code: int) -> Reply:
    """``+CME ERROR`` as AT+CMEE asks for it (0: plain ERROR, 1: numeric, 2: verbose)."""
    if cmee == 0:
        return Reply(final="ERROR")
    text = _CME_TEXT.get(code, str(code)) if cmee == 2 else str(code)
    return Reply(final=f"+CME ERROR: {text}")


def cms(code: int) -> Reply:
    return Reply(final=f"+CMS ERROR: {code}")


def ok(m: re.Match[str]) -> Reply:
    return Reply()


def info(value: Callable[[], str]) -> Handler:
    """A handler answering one information line."""
    return lambda m: Reply([value()])
