"""The checks a config key names in its declaration (:func:`key`): each takes ``(key, value)``
and returns the typed value or raises :class:`~sms1708.errors.ConfigError` naming the key."""

from __future__ import annotations

import datetime as dt
import math
import re
import string
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sms1708.core.routing import ROUTE_KEYS, Route
from sms1708.errors import ConfigError


def text(key: str, v: Any) -> str:
    if not isinstance(v, str):
        raise ConfigError(key, f"must be a string, got {v!r}")
    return v


def flag(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(key, f"must be true or false, got {v!r}")
    return v


def pos_int(key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ConfigError(key, f"must be a positive integer, got {v!r}")
    return v


def whole(key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ConfigError(key, f"must be a whole number (0 or more), got {v!r}")
    return v


def nonneg_float(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
        raise ConfigError(key, f"must be a number >= 0 (seconds), got {v!r}")
    return float(v)


def pos_float(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
        raise ConfigError(key, f"must be a positive number (seconds), got {v!r}")
    return float(v)


def minutes(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 7 * 24 * 60:
        raise ConfigError(key, f"must be a number of minutes from 0 to 10080 (a week), got {v!r}")
    return float(v)


def str_tuple(key: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise ConfigError(key, f"must be a non-empty list of strings, got {v!r}")
    return tuple(v)


def str_list(key: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(key, f"must be a list of strings, got {v!r}")
    return tuple(v)


@dataclass(frozen=True)
class Choice:
    """One of a few words; ``notes`` say what some of them mean (in the example file)."""

    options: tuple[str, ...]
    notes: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, key: str, v: Any) -> str:
        if v not in self.options:
            raise ConfigError(key, f"must be one of {', '.join(self.options)}; got {v!r}")
        return str(v)

    def describe(self) -> str:
        """``auto (from AT+CGMI) | huawei | ...``"""
        return " | ".join(f"{o} ({self.notes[o]})" if o in self.notes else o for o in self.options)


def choice(*options: str, **notes: str) -> Choice:
    return Choice(options, notes)


BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


def baud(key: str, v: Any) -> int:
    n = pos_int(key, v)
    if n not in BAUDRATES:
        raise ConfigError(key, f"must be a standard baud rate ({', '.join(map(str, BAUDRATES))})")
    return n


def memories(key: str, v: Any) -> tuple[str, ...]:
    mems = str_tuple(key, v)
    for m in mems:
        if m not in ("SM", "ME", "MT", "SR", "BM"):
            raise ConfigError(key, f"unknown SMS storage {m!r} (use SM and/or ME)")
    return mems


def url(key: str, v: Any) -> str:
    s = text(key, v).strip()
    if s and not (s.startswith("http://") or s.startswith("https://")):
        raise ConfigError(key, f"must start with http:// or https:// (or be empty), got {s!r}")
    return s


STATUS_PLACEHOLDERS = ("tracking_id", "key")


def status_url(key: str, v: Any) -> str:
    s = url(key, v)
    if not s:
        return s
    example = "e.g. https://host/status/{tracking_id}"
    try:
        fields = list(string.Formatter().parse(s))
    except ValueError as e:
        raise ConfigError(key, f"bad braces ({e}); {example}") from None
    names = set()
    for _text, name, spec, conv in fields:
        if name is None:
            continue
        if name not in STATUS_PLACEHOLDERS or spec or conv:
            typed = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            raise ConfigError(
                key, f"unknown placeholder {typed} (use {{tracking_id}} or {{key}}); {example}"
            )
        names.add(name)
    if not names:
        raise ConfigError(key, f"must contain {{tracking_id}} or {{key}}, {example}")
    return s


def topics(key: str, v: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(v, Mapping):
        raise ConfigError(key, "must be a table: category = topic id, e.g. { kesehatan = 12 }")
    return tuple((str(k), whole(f"{key}.{k}", i)) for k, i in v.items())


_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_CODE = re.compile(r"[0-9]{2}(\.[0-9]{2,4}){0,3}\.?")


def name(key: str, v: Any) -> str:
    s = text(key, v)
    if not _NAME.fullmatch(s):
        raise ConfigError(
            key, f"must be a short name of a-z, 0-9, - and _ (e.g. lapor, spikm), got {s!r}"
        )
    return s


def route(key: str, v: Any) -> Route:
    from sms1708.core.grammar import FORWARDED_KINDS

    if not isinstance(v, Mapping):
        raise ConfigError(key, 'must be a table, e.g. { kinds = ["informasi"] }')
    values: dict[str, tuple[str, ...]] = {}
    for k, items in v.items():
        if k not in ROUTE_KEYS:
            raise ConfigError(f"{key}.{k}", f"unknown key (known keys: {', '.join(ROUTE_KEYS)})")
        values[k] = str_list(f"{key}.{k}", items)
    for kind in values.get("kinds", ()):
        if kind not in FORWARDED_KINDS:
            known = ", ".join(sorted(FORWARDED_KINDS))
            raise ConfigError(f"{key}.kinds", f"unknown kind {kind!r} (forwarded kinds: {known})")
    for code in values.get("location_codes", ()):
        if not _CODE.fullmatch(code):
            raise ConfigError(
                f"{key}.location_codes",
                f"{code!r} is not a Kemendagri code prefix (e.g. 16.03 or 16.03.01)",
            )
    return Route(**values)


#: Indonesia's three zones, by the names operators use
ZONE_ALIASES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
_FIXED = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}


def parse_zone(text: str) -> dt.tzinfo:
    """An IANA zone name, WIB/WITA/WIT, or an offset "+07:00" / "+7"."""
    zone = ZONE_ALIASES.get(text.strip().upper(), text.strip())
    m = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", zone)
    if m:
        offset = int(m.group(2)) * 60 + int(m.group(3) or 0)
        if offset > 14 * 60:
            raise ValueError(f"offset out of range: {text!r}")
        sign = -1 if m.group(1) == "-" else 1
        return dt.timezone(dt.timedelta(minutes=sign * offset), zone)
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        if zone in _FIXED:  # no tz database on the box: Indonesia keeps no summer time
            return dt.timezone(dt.timedelta(hours=_FIXED[zone]), zone)
        raise ValueError(f"unknown time zone {text!r}") from e


def timezone(key: str, v: Any) -> str:
    s = text(key, v)
    try:
        parse_zone(s)
    except ValueError as e:
        raise ConfigError(key, f'{e} (e.g. "Asia/Jakarta", "WITA" or "+09:00")') from e
    return s


def listen(key: str, v: Any) -> str:
    s = text(key, v).strip()
    host, sep, port = s.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(key, f"must be HOST:PORT, e.g. 127.0.0.1:8708, got {s!r}")
    return s


def tristate(key: str, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v in ("auto", "true", "false"):
        return str(v)
    raise ConfigError(key, f'must be true, false or "auto", got {v!r}')
