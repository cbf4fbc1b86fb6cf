"""categories.toml -> :class:`~sms1708.core.lexicon.Lexicon`, checked: every problem raises
:class:`~sms1708.errors.ConfigError` naming the key. Also the ``[typos]`` table that the
keywords and places files share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sms1708.core.lexicon import Lexicon, term_words
from sms1708.errors import ConfigError


def typo_thresholds(typos: Any, default_two: int) -> tuple[int, int]:
    """``(distance_1_from, distance_2_from)`` from a ``[typos]`` table, validated."""
    if not isinstance(typos, Mapping) or set(typos) - {"distance_1_from", "distance_2_from"}:
        raise ConfigError("typos", "must be a table with distance_1_from, distance_2_from")
    one = typos.get("distance_1_from", 5)
    two = typos.get("distance_2_from", default_two)
    for k, v in (("distance_1_from", one), ("distance_2_from", two)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 3:
            raise ConfigError(f"typos.{k}", "must be a whole number >= 3")
    if two <= one:
        raise ConfigError("typos.distance_2_from", "must be greater than distance_1_from")
    return one, two


def lexicon_from_dict(data: Mapping[str, Any]) -> Lexicon:
    """Build a :class:`Lexicon` from parsed categories.toml; :class:`ConfigError` if invalid."""
    unknown = set(data) - {"settings", "categories", "weights"}
    if unknown:
        raise ConfigError(
            sorted(unknown)[0], "unknown section (expected settings, weights, categories)"
        )
    settings = data.get("settings", {})
    if not isinstance(settings, Mapping):
        raise ConfigError("settings", "must be a table")
    min_score = settings.get("min_score", 1)
    if not isinstance(min_score, int) or isinstance(min_score, bool) or min_score < 1:
        raise ConfigError("settings.min_score", "must be a whole number >= 1")
    if set(settings) - {"min_score", "margin"}:
        raise ConfigError("settings", "unknown key (expected min_score, margin)")
    margin = settings.get("margin", 1.5)
    if not isinstance(margin, int | float) or isinstance(margin, bool) or margin < 1:
        raise ConfigError("settings.margin", "must be a number >= 1")
    cats = data.get("categories", {})
    if not isinstance(cats, Mapping) or not cats:
        raise ConfigError("categories", "must be a table with at least one category")
    owner: dict[str, str] = {}
    out: dict[str, tuple[str, ...]] = {}
    for name, terms in cats.items():
        key = f"categories.{name}"
        if not term_words(name):
            raise ConfigError(key, "a category name needs at least one letter")
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise ConfigError(key, "must be a list of strings")
        for term in [name.lower(), *terms]:
            words = term_words(term)
            if not words:
                raise ConfigError(key, f"term {term!r} has no letters")
            if term.endswith("*") and (len(words) != 1 or len(words[0]) < 4):
                raise ConfigError(key, f"stem {term!r} must be one word of 4+ letters before *")
            norm = term if len(words) == 1 and words[0].isupper() else " ".join(words).lower()
            norm += "*" if term.endswith("*") else ""
            if owner.get(norm, name) != name:
                raise ConfigError(key, f"term {term!r} is also under {owner[norm]!r}")
            owner[norm] = name
        out[name] = tuple(terms)
    weights = data.get("weights", {})
    if not isinstance(weights, Mapping):
        raise ConfigError("weights", "must be a table: category = whole number")
    for name, w in weights.items():
        if name not in out:
            raise ConfigError(f"weights.{name}", "no such category under [categories]")
        if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= 10:
            raise ConfigError(f"weights.{name}", "must be a whole number from 1 to 10")
    return Lexicon(categories=out, min_score=min_score, margin=float(margin), weights=dict(weights))
