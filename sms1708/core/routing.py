"""Which destinations a complaint goes to: each destination's routing rule, pure.

A rule names kinds (``pengaduan``, ``aspirasi``, ``informasi``), categories, and places
(kecamatan names, or Kemendagri location-code prefixes such as ``16.03.01``). Within one list
any entry matches; every list that is not empty must match; an empty rule takes everything.
A complaint that no rule takes goes to the primary destination, so none is left behind.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the destination name of the one-destination shorthand (``[upstream] url``), and of every
#: queued row a store had before it knew of several destinations (migration m014)
DEFAULT_DESTINATION = "upstream"


def _fold(s: str | None) -> str:
    return " ".join((s or "").casefold().split())


@dataclass(frozen=True)
class Route:
    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kecamatan: tuple[str, ...] = ()
    location_codes: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not (self.kinds or self.categories or self.kecamatan or self.location_codes)

    def matches(
        self,
        kind: str,
        category: str | None = None,
        location: str | None = None,
        location_code: str | None = None,
    ) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if self.categories and _fold(category) not in {_fold(c) for c in self.categories}:
            return False
        if self.kecamatan or self.location_codes:
            return self._place(location, location_code)
        return True

    def _place(self, location: str | None, location_code: str | None) -> bool:
        code = (location_code or "").strip()
        if code and any(
            code == p or code.startswith(p.rstrip(".") + ".") for p in self.location_codes
        ):
            return True
        words = f" {_fold(location).replace(',', ' ')} "
        return any(f" {_fold(k)} " in words for k in self.kecamatan if _fold(k))


@dataclass(frozen=True)
class Routing:
    """The configured destinations, in order, with their rules; one of them is primary."""

    routes: tuple[tuple[str, Route], ...] = ((DEFAULT_DESTINATION, Route()),)
    primary: str = DEFAULT_DESTINATION

    def select(
        self,
        kind: str,
        category: str | None = None,
        location: str | None = None,
        location_code: str | None = None,
    ) -> tuple[str, ...]:
        """The destinations this complaint goes to (never none), in configured order."""
        names = tuple(
            name for name, r in self.routes if r.matches(kind, category, location, location_code)
        )
        return names or (self.primary,)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.routes)


ROUTE_KEYS = tuple(f for f in Route.__dataclass_fields__)
