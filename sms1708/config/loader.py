"""A parsed TOML document -> :class:`~sms1708.config.sections.Config`, checked against the
declaration: unknown sections and keys, each key's check, then the rules between keys (several
modems, several destinations, plain http://, retention)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sms1708.config.keys import keys_of, section_of
from sms1708.config.sections import SECTIONS, Config
from sms1708.config.upstream import UpstreamConfig
from sms1708.errors import ConfigError

#: section name -> its class, e.g. "modem" -> ModemConfig
CLASSES: dict[str, type] = {section_of(cls).name: cls for cls in SECTIONS}
#: keys of [upstream] that are not defaults for its [[upstream.destination]] entries
_OWN_KEYS = ("url", "status_url", "name", "primary", "route", "destination")


def section(name: str, raw: Any, prefix: str | None = None) -> Any:
    """One table of the file, each key checked as declared; ``prefix`` names it in errors."""
    where = prefix or name
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "must be a table")
    declared = keys_of(CLASSES[name])
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in declared:
            known = ", ".join(sorted(declared))
            raise ConfigError(f"{where}.{key}", f"unknown key (known keys: {known})")
        values[key] = declared[key][1].check(f"{where}.{key}", value)
    return CLASSES[name](**values)


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_insecure(up: UpstreamConfig, where: str = "upstream") -> None:
    """Plain http:// only to this box itself, or where the operator said so."""
    if up.allow_insecure:
        return
    for key, url in ((f"{where}.url", up.url), (f"{where}.status_url", up.status_url)):
        if url.startswith("http://") and not _loopback(url):
            raise ConfigError(
                key,
                "http:// would send the token and citizens' numbers in clear; use https://"
                f" (or set {where}.allow_insecure = true for a closed office network)",
            )


def _destinations(raw: Mapping[str, Any]) -> UpstreamConfig:
    """``[upstream]``, with its ``[[upstream.destination]]`` entries (each inherits the keys
    of ``[upstream]`` that it does not set, except url, status_url, name, primary, route)."""
    for key in ("name", "primary", "route"):
        if key in raw:
            raise ConfigError(
                f"upstream.{key}",
                "belongs in an [[upstream.destination]] entry ([upstream] url is the one"
                " destination named upstream, which takes everything)",
            )
    entries = raw.get("destination")
    base = {k: v for k, v in raw.items() if k != "destination"}
    up: UpstreamConfig = section("upstream", base)
    if entries is None:
        _check_insecure(up)
        return up
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            "upstream.destination", "must be an array of tables ([[upstream.destination]])"
        )
    if up.url or up.status_url:
        key = "upstream.url" if up.url else "upstream.status_url"
        raise ConfigError(
            key, "use either [upstream] url or [[upstream.destination]] entries, not both"
        )
    inherited = {k: v for k, v in base.items() if k not in _OWN_KEYS}
    dests: list[UpstreamConfig] = []
    for i, entry in enumerate(entries):
        where = f"upstream.destination[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(where, "must be a table")
        for key in ("name", "url"):
            if not entry.get(key):
                raise ConfigError(f"{where}.{key}", "is required for every destination")
        if "destination" in entry:
            raise ConfigError(f"{where}.destination", "destinations do not nest")
        d: UpstreamConfig = section("upstream", {**inherited, **entry}, prefix=where)
        _check_insecure(d, where)
        dests.append(d)
    names = [d.name for d in dests]
    for n in names:
        if names.count(n) > 1:
            raise ConfigError("upstream.destination", f"two destinations are named {n!r}")
    primaries = [d.name for d in dests if d.primary]
    if len(primaries) > 1:
        raise ConfigError(
            "upstream.destination",
            f"only one destination may be primary; {', '.join(primaries)} all say primary = true",
        )
    if not primaries:
        dests[0] = replace(dests[0], primary=True)
    for i, d in enumerate(dests):
        if d.status_url and not d.primary:
            raise ConfigError(
                f"upstream.destination[{i}].status_url",
                "only the primary destination is asked for status (its tracking id is the"
                " one the citizen knows)",
            )
    return replace(up, destinations=tuple(dests))


def _modems(data: Mapping[str, Any]) -> tuple[Any, ...]:
    """``[modem]``, or one ``[[modems]]`` table per modem."""
    if "modem" in data and "modems" in data:
        raise ConfigError("modems", "use either [modem] or [[modems]], not both")
    if "modems" not in data:
        return (section("modem", data.get("modem", {})),)
    raw_list = data["modems"]
    if not isinstance(raw_list, list) or not raw_list:
        raise ConfigError("modems", "must be a non-empty array of tables ([[modems]])")
    modems = tuple(section("modem", m, prefix=f"modems[{i}]") for i, m in enumerate(raw_list))
    names = [m.name for m in modems]
    if len(set(names)) != len(names):
        raise ConfigError("modems", f"every modem needs its own name; got {names}")
    return modems


def from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> Config:
    """Validate a parsed TOML document and build the :class:`Config`."""
    known = {*CLASSES, "modems"}
    for key in data:
        if key not in known:
            raise ConfigError(key, f"unknown section (known: {', '.join(sorted(known))})")
    kwargs: dict[str, Any] = {"modems": _modems(data), "source": source}
    up_raw = data.get("upstream", {})
    if not isinstance(up_raw, Mapping):
        raise ConfigError("upstream", "must be a table")
    kwargs["upstream"] = _destinations(up_raw)
    for name in CLASSES:
        if name not in ("modem", "upstream"):
            kwargs[name] = section(name, data.get(name, {}))
    cfg = Config(**kwargs)
    if not cfg.store.path:
        raise ConfigError("store.path", "must not be empty")
    if cfg.retention.dead_days < cfg.retention.days:
        raise ConfigError(
            "retention.dead_days",
            f"must be at least retention.days ({cfg.retention.days:g}): a complaint that never"
            " got through is kept longer than a finished one, for operators to replay",
        )
    return cfg
