"""A places file (gazetteer) -> :class:`~sms1708.core.places.Gazetteer`, checked: every problem
raises :class:`~sms1708.errors.ConfigError` naming the key. The format is described in
``sms1708/data/places-muara-enim.toml``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sms1708.core.lexicon import WORD
from sms1708.core.places import (
    DEFAULT_ABBREVIATIONS,
    DEFAULT_PREFIXES,
    KABUPATEN,
    KECAMATAN,
    LEVELS,
    VILLAGE_LEVELS,
    Gazetteer,
    Place,
    name_words,
)
from sms1708.errors import ConfigError
from sms1708.table_files.categories import typo_thresholds


def gazetteer_from_dict(data: Mapping[str, Any]) -> Gazetteer:
    """Build a :class:`Gazetteer` from a parsed places file; :class:`ConfigError` if invalid."""
    known = {
        "kabupaten", "kabupaten_code", "common_words", "prefixes", "typos", "kecamatan",
        "abbreviations", "source",
    }  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise ConfigError(sorted(unknown)[0], f"unknown key (expected {', '.join(sorted(known))})")
    places: list[tuple[Place, tuple[str, ...]]] = []
    kab = data.get("kabupaten")
    kab_code = _code(data.get("kabupaten_code"), "kabupaten_code", 2)
    if kab is not None:
        places.append((Place(KABUPATEN, _name(kab, "kabupaten"), code=kab_code), (kab,)))
    blocks = data.get("kecamatan", [])
    if not isinstance(blocks, list) or not blocks:
        raise ConfigError("kecamatan", "needs at least one [[kecamatan]] block")
    seen: set[str] = set()
    for n, block in enumerate(blocks):
        key = f"kecamatan[{n}]"
        if not isinstance(block, Mapping):
            raise ConfigError(key, "must be a table ([[kecamatan]])")
        extra = set(block) - {"name", "aliases", "desa", "kelurahan", "code"}
        if extra:
            raise ConfigError(f"{key}.{sorted(extra)[0]}", "unknown key")
        kec = _name(block.get("name"), f"{key}.name")
        if kec.lower() in seen:
            raise ConfigError(f"{key}.name", f"kecamatan {kec!r} is listed twice")
        seen.add(kec.lower())
        aliases = _names(block.get("aliases", []), f"{key}.aliases")
        code = _code(block.get("code"), f"{key}.code", 3)
        places.append((Place(KECAMATAN, kec, code=code), (kec, *aliases)))
        villages: set[str] = set()
        for level in VILLAGE_LEVELS:
            for v, v_code, v_aliases in _villages(block.get(level, []), f"{key}.{level}"):
                if v.lower() in villages:
                    raise ConfigError(f"{key}.{level}", f"{v!r} is listed twice in {kec!r}")
                villages.add(v.lower())
                places.append((Place(level, v, kec, code=v_code), (v, *v_aliases)))
    common = _names(data.get("common_words", []), "common_words")
    prefixes = data.get("prefixes", {})
    if not isinstance(prefixes, Mapping) or set(prefixes) - set(LEVELS):
        raise ConfigError("prefixes", f"must be a table with keys among {', '.join(LEVELS)}")
    clean_prefixes = dict(DEFAULT_PREFIXES)  # a level left out keeps its default prefixes
    for level, ps in prefixes.items():
        clean_prefixes[level] = tuple(p.lower() for p in _names(ps, f"prefixes.{level}"))
    abbreviations = data.get("abbreviations", DEFAULT_ABBREVIATIONS)
    if not isinstance(abbreviations, Mapping):
        raise ConfigError("abbreviations", "must be a table: word = [abbreviations]")
    clean_abbr = {
        " ".join(name_words(w)): tuple(
            a.lower() for a in _names(list(v) if isinstance(v, tuple) else v, f"abbreviations.{w}")
        )
        for w, v in abbreviations.items()
    }
    typos = data.get("typos", {})
    one, two = typo_thresholds(typos, default_two=10)
    return Gazetteer(
        places=tuple(places),
        common_words=frozenset("".join(name_words(c)) for c in common),
        prefixes=clean_prefixes,
        typo_one_from=one,
        typo_two_from=two,
        abbreviations=clean_abbr,
    )


def _code(value: Any, key: str, parts: int) -> str | None:
    """A Kemendagri code with ``parts`` dot-separated parts (16.03, 16.03.01, 16.03.01.2001)."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{2}(\.[0-9]{2,4})*", value):
        raise ConfigError(key, 'must be a Kemendagri code such as "16.03.01.2001"')
    if value.count(".") + 1 != parts:
        raise ConfigError(key, f"{value!r} is not a code of this level ({parts} parts)")
    return value


def _villages(value: Any, key: str) -> list[tuple[str, str | None, tuple[str, ...]]]:
    """Desa/kelurahan entries: ``"Name"`` or ``{ name = "Name", code = "...", aliases = [] }``."""
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list of names")
    out: list[tuple[str, str | None, tuple[str, ...]]] = []
    for item in value:
        if isinstance(item, Mapping):
            if set(item) - {"name", "code", "aliases"}:
                raise ConfigError(key, "an entry may have name, code and aliases only")
            name = _name(item.get("name"), key)
            code = _code(item.get("code"), f"{key}.{name}.code", 4)
            out.append((name, code, _names(item.get("aliases", []), f"{key}.{name}.aliases")))
        else:
            out.append((_name(item, key), None, ()))
    return out


def _name(value: Any, key: str) -> str:
    if not isinstance(value, str) or not WORD.search(value):
        raise ConfigError(key, "must be a name with at least one letter")
    return " ".join(value.split())


def _names(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list of names")
    return tuple(_name(v, key) for v in value)
