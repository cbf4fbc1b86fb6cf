"""How a config key is declared: once, as a dataclass field made by :func:`key`, which carries
its default, its check and its words for the example file. The validation
(:mod:`sms1708.config.loader`) and the example file (:mod:`sms1708.config.example`) both read
the declaration (:mod:`sms1708.config.sections`); nothing lists the keys a second time."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
Check = Callable[[str, Any], T]


@dataclass(frozen=True)
class Key:
    """What the declaration says about one key, besides its type and default."""

    check: Callable[[str, Any], Any]
    #: the explanation written after the key in the example file
    doc: str = ""
    #: comment lines written above the key in the example file
    before: str = ""
    #: TOML text shown in the example file instead of the default
    shown: str | None = None
    #: shown as a comment (an example to copy, not a value in force)
    commented: bool = False
    #: left out of the example file, e.g. keys that belong to a destination entry only
    in_file: bool = True


def key(
    default: T,
    check: Check[T],
    doc: str = "",
    *,
    before: str = "",
    shown: str | None = None,
    commented: bool = False,
    in_file: bool = True,
) -> T:
    """Declare a config key: a dataclass field with its default, its check and its words."""
    info = Key(check, doc, before, shown, commented, in_file)
    return field(default=default, metadata={"key": info})


@dataclass(frozen=True)
class Section:
    """A ``[name]`` table of the file and the words around its keys in the example file."""

    name: str
    #: the comment on the ``[name]`` line
    header: str = ""
    #: comment lines between the ``[name]`` line and the first key
    intro: str = ""
    #: comment lines after the last key
    after: str = ""


def keys_of(cls: type) -> dict[str, tuple[dataclasses.Field[Any], Key]]:
    """The declared keys of a section class, in order: name -> (field, declaration).
    Fields without a declaration (``destinations``, ``source``) are not keys of the file."""
    return {f.name: (f, f.metadata["key"]) for f in dataclasses.fields(cls) if "key" in f.metadata}


def section_of(cls: type) -> Section:
    """The :class:`Section` a section class declares (its ``SECTION``)."""
    found = vars(cls).get("SECTION")
    if not isinstance(found, Section):
        raise TypeError(f"{cls.__name__} declares no SECTION")
    return found
