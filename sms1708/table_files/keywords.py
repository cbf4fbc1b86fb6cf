"""keywords.toml -> :class:`~sms1708.core.grammar_tables.GrammarTables` (keywords, flags, stop
list, reference words, hints, follow-up words, and the ``[phrases]`` / ``[privacy]`` tables),
checked: every problem raises :class:`~sms1708.errors.ConfigError` naming the key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sms1708.core.grammar_tables import (
    DEFAULT_FLAGS,
    DEFAULT_FOLLOWUP_WORDS,
    KINDS,
    GrammarTables,
)
from sms1708.core.meaning import DEFAULT_PHRASES, DEFAULT_PRIVACY, Phrases, phrase_words
from sms1708.errors import ConfigError
from sms1708.table_files.categories import typo_thresholds


def _word_list(value: Any, key: str, *, letters_only: bool = True) -> tuple[str, ...]:
    pattern = r"[^\W\d_]+" if letters_only else r"[^\W_]+"
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, "must be a list of words")
    for v in value:
        if not re.fullmatch(pattern, v):
            what = "letters" if letters_only else "letters or digits"
            raise ConfigError(key, f"{v!r} must be one word of {what} (no spaces or symbols)")
    return tuple(value)


def keywords_from_dict(data: Mapping[str, Any]) -> GrammarTables:
    """Grammar tables (keywords, flags, stop list, hints; no lexicon, no gazetteer) from a parsed
    keywords.toml. Raises :class:`ConfigError` naming the key and the problem."""
    sections = {"kinds", "flags", "typos", "status", "hints", "phrases", "privacy", "followups"}
    for key, value in data.items():
        if key not in sections:
            raise ConfigError(key, f"unknown section (expected {', '.join(sorted(sections))})")
        if not isinstance(value, Mapping):
            raise ConfigError(key, "must be a table")
    kinds_in = data.get("kinds")
    if not isinstance(kinds_in, Mapping) or not kinds_in:
        raise ConfigError("kinds", "missing: the table of keywords per kind")
    owner: dict[str, str] = {}
    kinds: dict[str, tuple[str, ...]] = {}
    for kind, words in kinds_in.items():
        if kind not in KINDS:
            raise ConfigError(f"kinds.{kind}", f"unknown kind (expected one of {', '.join(KINDS)})")
        kinds[kind] = tuple(w.upper() for w in _word_list(words, f"kinds.{kind}"))
        for w in kinds[kind]:
            if owner.setdefault(w, kind) != kind:
                raise ConfigError(f"kinds.{kind}", f"{w!r} is also a keyword of {owner[w]!r}")
    flags: dict[str, tuple[str, ...]] = {}
    for flag, words in data.get("flags", DEFAULT_FLAGS).items():
        if flag not in ("confidential", "anonymous"):
            raise ConfigError(f"flags.{flag}", "unknown flag (expected confidential, anonymous)")
        flags[flag] = tuple(w.upper() for w in _word_list(list(words), f"flags.{flag}"))
        for w in flags[flag]:
            if owner.setdefault(w, flag) != flag:
                raise ConfigError(f"flags.{flag}", f"{w!r} is also {owner[w]!r}")
    typos = dict(data.get("typos", {}))
    never = frozenset(w.lower() for w in _word_list(typos.pop("never", []), "typos.never"))
    for w in never:
        if w.upper() in owner:
            raise ConfigError("typos.never", f"{w!r} is a keyword or flag, it cannot be in never")
    one, two = typo_thresholds(typos, default_two=8)
    status = data.get("status", {})
    if set(status) - {"reference_words"}:
        raise ConfigError("status", "unknown key (expected reference_words)")
    refs = _word_list(
        status.get("reference_words", []), "status.reference_words", letters_only=False
    )
    hints = data.get("hints", {})
    if set(hints) - {"short_report_words"}:
        raise ConfigError("hints", "unknown key (expected short_report_words)")
    short = hints.get("short_report_words", 3)
    if not isinstance(short, int) or isinstance(short, bool) or not 0 <= short <= 50:
        raise ConfigError("hints.short_report_words", "must be a whole number from 0 to 50")
    followups = data.get("followups", {})
    if set(followups) - {"words"}:
        raise ConfigError("followups", "unknown key (expected words)")
    words = _word_list(followups.get("words", list(DEFAULT_FOLLOWUP_WORDS)), "followups.words")
    for w in words:
        if w.upper() in owner:
            raise ConfigError("followups.words", f"{w!r} is also a keyword or flag")
    return GrammarTables(
        kinds=kinds,
        flags=flags,
        never=never,
        reference_words=tuple(r.upper() for r in refs),
        typo_one_from=one,
        typo_two_from=two,
        short_report_words=short,
        phrases=phrases_from_dict(data.get("phrases"), data.get("privacy")),
        followup_words=tuple(w.upper() for w in words),
    )


def phrases_from_dict(phrases: Any, privacy: Any) -> Phrases:
    """Validate the ``[phrases]`` and ``[privacy]`` sections; a missing key keeps its default."""
    out: list[dict[str, tuple[str, ...]]] = []
    for section, value, defaults in (
        ("phrases", phrases, DEFAULT_PHRASES),
        ("privacy", privacy, DEFAULT_PRIVACY),
    ):
        table = dict(defaults)
        if value is None:
            out.append({k: tuple(v) for k, v in table.items()})
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(section, "must be a table")
        for key, items in value.items():
            if key not in defaults:
                raise ConfigError(
                    f"{section}.{key}", f"unknown key (expected {', '.join(sorted(defaults))})"
                )
            if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                raise ConfigError(f"{section}.{key}", "must be a list of words or phrases")
            for x in items:
                if not phrase_words(x):
                    raise ConfigError(f"{section}.{key}", f"{x!r} has no letters")
            table[key] = tuple(items)
        out.append({k: tuple(v) for k, v in table.items()})
    return Phrases(phrases=out[0], privacy=out[1])
