"""Logging: structlog, one event per line, phone numbers masked (promise P12).

A terminal gets coloured console lines; anything else (journald, a file, a pipe) gets JSON.
Every string value in an event passes through :func:`sms1708.core.mask.mask_text`, so a number
can never reach the log even when it hides inside an error message; an exception (or its
``repr`` in a string) never brings the text it failed on (see :func:`sms1708.errors.describe`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from sms1708.core.mask import mask_number, mask_text
from sms1708.errors import describe, scrub

_NUMBER_KEYS = frozenset({"sender", "recipient", "number", "to", "own_number"})
_SECRET_KEYS = frozenset({"token", "secret", "pin", "authorization", "password"})


def mask_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask numbers in every string value, hide secrets entirely, and
    never let an exception carry the text it was handling (a citizen's SMS) into the line."""
    for key, value in list(event_dict.items()):
        if key in _SECRET_KEYS:
            event_dict[key] = "***" if value else value
            continue
        if isinstance(value, BaseException):
            value = describe(value)
        if isinstance(value, str):
            value = scrub(value)
            event_dict[key] = mask_number(value) if key in _NUMBER_KEYS else mask_text(value)
    return event_dict


def setup(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog for the process. ``fmt``: auto | json | console."""
    out = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if out.isatty() else "json"
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
