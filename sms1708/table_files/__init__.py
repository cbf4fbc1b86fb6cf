"""The grammar's table files (keywords, category lexicon, gazetteer): read and checked.

The shipped defaults are ``sms1708/data/keywords.toml``, ``categories.toml`` and
``places-muara-enim.toml`` (each file documents its own format). An operator may give their own
file for any of the three; a given file replaces the shipped one whole (nothing is merged), so a
district starts from a copy of the shipped file. Bad content raises
:class:`~sms1708.errors.ConfigError` naming the file, the key and the problem.

Reading files is I/O and checking them is the loader's job, so both live here, outside
:mod:`sms1708.core`: :mod:`.keywords`, :mod:`.categories` and :mod:`.places` turn each parsed
file into the core's plain objects, and the core receives
:class:`~sms1708.core.grammar_tables.GrammarTables` ready made.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sms1708.core.grammar_tables import GrammarTables
from sms1708.core.places import Gazetteer
from sms1708.errors import ConfigError
from sms1708.table_files.categories import lexicon_from_dict
from sms1708.table_files.keywords import keywords_from_dict
from sms1708.table_files.places import gazetteer_from_dict

__all__ = ["SHIPPED", "default_tables", "load_tables", "places_from_text", "read_table"]

#: the shipped files, inside the package (``sms1708/data``)
SHIPPED = {
    "keywords": "keywords.toml",
    "categories": "categories.toml",
    "places": "places-muara-enim.toml",
}

T = TypeVar("T")


def _read_shipped(name: str) -> tuple[str, str]:
    ref = resources.files("sms1708").joinpath("data", name)
    return f"sms1708/data/{name}", ref.read_text(encoding="utf-8")


def _read_file(path: str) -> tuple[str, str]:
    p = Path(path).expanduser()
    try:
        return str(p), p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), "file not found") from None
    except IsADirectoryError:
        raise ConfigError(str(p), "is a directory, not a TOML file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(str(p), f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise ConfigError(str(p), f"cannot be read: {e.strerror or e}") from None


def _build(source: str, text: str, build: Callable[[Mapping[str, Any]], T]) -> T:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(source, f"not valid TOML: {e}") from None
    try:
        return build(data)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e.key}", e.problem) from None


def read_table(path: str | None, shipped: str, build: Callable[[Mapping[str, Any]], T]) -> T:
    """A table file, checked by ``build``: the file at ``path``, else the shipped
    ``sms1708/data/<shipped>``. Every problem is a :class:`ConfigError` naming the file."""
    source, text = _read_file(path) if path else _read_shipped(shipped)
    return _build(source, text, build)


def load_tables(
    keywords: str | None = None, categories: str | None = None, places: str | None = None
) -> GrammarTables:
    """Grammar tables from the given TOML files; ``None`` for a file means the shipped one."""
    base = read_table(keywords, SHIPPED["keywords"], keywords_from_dict)
    lexicon = read_table(categories, SHIPPED["categories"], lexicon_from_dict)
    gazetteer = read_table(places, SHIPPED["places"], gazetteer_from_dict)
    return dataclasses.replace(base, lexicon=lexicon, gazetteer=gazetteer)


def places_from_text(source: str, text: str) -> Gazetteer:
    """A gazetteer from the text of a places file (``source`` names it in errors)."""
    return _build(source, text, gazetteer_from_dict)


@functools.cache
def default_tables() -> GrammarTables:
    """The shipped tables (read once, then shared: :class:`GrammarTables` is immutable)."""
    return load_tables()
