"""Statistics for coordinators: reports per day or ISO week by kind, category and place, time to
upstream delivery, reply and queue counts.

:func:`compute` is pure: it takes rows (mappings, as SQLite gives them) and returns
:class:`Stats`. :func:`load` reads those rows from a :class:`~sms1708.store.store.Store` with
read-only SELECTs and calls :func:`compute`. :func:`as_dict` makes a JSON-friendly dict and
:func:`render_text` a plain-text table for a terminal.

What counts:

- A *report* is one stored message (any kind: pengaduan, aspirasi, informasi, status, bantuan)
  from a person. Messages from alphanumeric senders (operator promotions, banks) are not reports:
  they are counted apart (``company_senders``). Purged messages still count: retention removes
  the number and the text, never the kind, category, place or dates.
- A report belongs to the day / ISO week of the moment the SMS centre received it
  (``messages.received_at``, ISO 8601 with its offset), seen in the time zone ``tz``; where that
  timestamp cannot be read, or is a wrong clock (more than an hour after the moment it was
  stored, or more than 63 weeks before it), that moment (``messages.stored_at``) stands in.
  ``since`` / ``until`` (unix seconds, ``since <= t < until``) select reports by that moment.
- Time to delivery: ``outbox.delivered_at`` minus that moment, for the selected reports that were
  delivered upstream (a negative difference, from an SMS centre's clock running ahead, counts
  as 0). p90 and the median interpolate linearly between the nearest observations.
- Undelivered: the selected reports whose upstream queue state is not ``delivered``, by state.
  Reports handled locally (status, bantuan, company senders) have no upstream state.
- Replies: the SMS replies created (``replies.created_at``) within ``since`` / ``until``, by
  purpose and state.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sms1708 import periods
from sms1708.core.grammar import KINDS
from sms1708.periods import kecamatan_of, period_key, quantile, received_time, zone_label

#: the columns of a complaints export (CSV and JSON), the same from the CLI and the console
EXPORT_FIELDS = (
    "id",
    "key",
    "received_at",
    "sender",
    "kind",
    "text",
    "anonymous",
    "confidential",
    "category",
    "location",
    "location_code",
    "partial",
    "tracking_id",
    "state",
    "update_of",  # a follow-up SMS: the id of the report it adds to (empty for a report)
)

if TYPE_CHECKING:
    from sms1708.store.store import Store

Period = periods.Period  # "day" | "week"

NO_CATEGORY = "tanpa kategori"
NO_LOCATION = "tanpa lokasi"
NO_KECAMATAN = "tanpa kecamatan"
NO_CODE = "tanpa kode"

#: upstream queue states, in the order an operator reads them
UNDELIVERED_ORDER = ("queued", "sending", "retry", "ambiguous", "dead")


@dataclass(frozen=True)
class Durations:
    """Time from SMS received to upstream delivery, in seconds (``None`` with no deliveries)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class Stats:
    period: Period
    tz: str  # the time zone the days / weeks are cut in, as a label ("UTC+07:00", "Asia/Jakarta")
    since: float | None
    until: float | None
    total: int
    #: the kinds in column order: the five of the grammar, then any other seen
    kinds: tuple[str, ...]
    #: period key ("2026-11-01" or "2026-W44") -> kind -> count; every period from the first
    #: to the last report, empty ones included, oldest first; every kind in each
    by_period: dict[str, dict[str, int]]
    by_kind: dict[str, int]
    by_category: dict[str, int]  # most first; NO_CATEGORY last
    by_location: dict[str, int]  # most first; NO_LOCATION last
    by_kecamatan: dict[str, int]  # most first; NO_KECAMATAN last
    delivery: Durations
    replies: dict[str, dict[str, int]]  # purpose -> state -> count
    undelivered: dict[str, int]  # upstream state -> count
    company_senders: int = 0
    #: Kemendagri code (kode wilayah) of the place -> count; most first; NO_CODE last
    by_location_code: dict[str, int] = field(
        default_factory=dict
    )  # messages from alphanumeric senders, not counted as reports
    first: str | None = field(default=None)  # first and last period key, None without reports
    last: str | None = field(default=None)
    #: since / until as local times in ``tz`` ("2026-11-01 00:00"), for people
    since_local: str | None = field(default=None)
    until_local: str | None = field(default=None)
    #: period key -> category (kecamatan) -> count, the periods of ``by_period``, non-zero only
    by_period_category: dict[str, dict[str, int]] = field(default_factory=dict)
    by_period_kecamatan: dict[str, dict[str, int]] = field(default_factory=dict)


# ------------------------------------------------------------------------------- compute


def compute(
    messages: Iterable[Mapping[str, Any]],
    replies: Iterable[Mapping[str, Any]] = (),
    *,
    period: Period = "day",
    since: float | None = None,
    until: float | None = None,
    tz: dt.tzinfo | None = None,
) -> Stats:
    """Statistics over rows.

    ``messages``: mappings with ``received_at`` (ISO text with offset), ``stored_at`` (unix),
    ``kind``, ``category``, ``location``, ``sender_type``, and from the upstream queue ``state``
    and ``delivered_at`` (both None for a message handled locally). ``replies``: mappings with
    ``purpose``, ``state`` and ``created_at`` (unix). ``tz`` None: the machine's time zone
    (as the CLI shows times).
    """
    if period not in ("day", "week"):
        raise ValueError(f"period must be 'day' or 'week', got {period!r}")

    def selected(t: float) -> bool:
        return (since is None or t >= since) and (until is None or t < until)

    per: dict[str, Counter[str]] = {}
    per_category: dict[str, Counter[str]] = {}
    per_kecamatan: dict[str, Counter[str]] = {}
    kinds: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    locations: Counter[str] = Counter()
    kecamatan: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    undelivered: Counter[str] = Counter()
    waits: list[float] = []
    companies = 0
    for m in messages:
        t = received_time(m.get("received_at"), m.get("stored_at"))
        if t is None or not selected(t):
            continue
        if m.get("sender_type") == "alphanumeric":
            companies += 1
            continue
        kind = periods.text(m.get("kind")) or "pengaduan"
        key = period_key(t, period, tz)
        per.setdefault(key, Counter())[kind] += 1
        kinds[kind] += 1
        category = periods.text(m.get("category")) or NO_CATEGORY
        categories[category] += 1
        per_category.setdefault(key, Counter())[category] += 1
        place = periods.text(m.get("location"))
        locations[place or NO_LOCATION] += 1
        kec = kecamatan_of(place) or NO_KECAMATAN
        kecamatan[kec] += 1
        per_kecamatan.setdefault(key, Counter())[kec] += 1
        codes[periods.text(m.get("location_code")) or NO_CODE] += 1
        state = m.get("state")
        delivered_at = m.get("delivered_at")
        if state == "delivered" and delivered_at is not None:
            waits.append(max(0.0, float(delivered_at) - t))
        elif state is not None and state != "delivered":
            undelivered[str(state)] += 1

    order = tuple(KINDS) + tuple(sorted(k for k in kinds if k not in KINDS))
    keys = sorted(per)
    span = periods.span(keys[0], keys[-1], period) if keys else []
    by_period = {p: {k: per.get(p, Counter())[k] for k in order} for p in span}

    reply_counts: dict[str, Counter[str]] = {}
    for r in replies:
        created = r.get("created_at")
        if created is not None and not selected(float(created)):
            continue
        purpose = str(r.get("purpose") or "?")
        reply_counts.setdefault(purpose, Counter())[str(r.get("state") or "?")] += 1

    known = [s for s in UNDELIVERED_ORDER if undelivered.get(s)]
    other = sorted(s for s in undelivered if s not in UNDELIVERED_ORDER)
    return Stats(
        period=period,
        tz=zone_label(tz),
        since=since,
        until=until,
        total=sum(kinds.values()),
        kinds=order,
        by_period=by_period,
        by_kind={k: kinds[k] for k in order},
        by_category=periods.ranked(categories, NO_CATEGORY),
        by_location=periods.ranked(locations, NO_LOCATION),
        by_kecamatan=periods.ranked(kecamatan, NO_KECAMATAN),
        delivery=Durations(len(waits), quantile(waits, 0.5), quantile(waits, 0.9)),
        replies={p: dict(sorted(c.items())) for p, c in sorted(reply_counts.items())},
        undelivered={s: undelivered[s] for s in (*known, *other)},
        company_senders=companies,
        by_location_code=periods.ranked(codes, NO_CODE),
        first=span[0] if span else None,
        last=span[-1] if span else None,
        since_local=periods.local(since, tz),
        until_local=periods.local(until, tz),
        by_period_category={p: dict(per_category.get(p, Counter())) for p in span},
        by_period_kecamatan={p: dict(per_kecamatan.get(p, Counter())) for p in span},
    )


# ------------------------------------------------------------------------------- load


def load(
    store: Store,
    *,
    period: Period = "day",
    since: float | None = None,
    until: float | None = None,
    tz: dt.tzinfo | None = None,
) -> Stats:
    """Read the rows from the store (:meth:`~sms1708.store.queries.Queries.report_rows`,
    SELECTs only) and :func:`compute` the statistics."""
    return compute(
        store.queries.report_rows(),
        store.queries.reply_rows(since=since, until=until),
        period=period,
        since=since,
        until=until,
        tz=tz,
    )


# ------------------------------------------------------------------------------- output


def as_dict(stats: Stats) -> dict[str, Any]:
    """A JSON-friendly dict (plain dicts, lists, strings and numbers), order kept."""
    out = asdict(stats)
    out["kinds"] = list(stats.kinds)
    return out


def duration(seconds: float | None) -> str:
    """``"45s"``, ``"3m 20s"``, ``"2h 05m"``, ``"3d 4h"``; ``"-"`` for None."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Columns: the first left-aligned, the others right-aligned (numbers)."""
    cells = [[str(c) for c in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        parts = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells[1:])
    return out


def _top(counts: Mapping[str, int], limit: int | None) -> list[tuple[str, int]]:
    """The ``limit`` largest, one row for the rest, and the "tanpa ..." row (always last)."""
    items = list(counts.items())
    none = [kv for kv in items if kv[0] in (NO_CATEGORY, NO_LOCATION, NO_KECAMATAN)]
    named = [kv for kv in items if kv not in none]
    if limit is not None and len(named) > limit:
        rest = named[limit:]
        named = [*named[:limit], (f"... {len(rest)} lainnya (others)", sum(n for _, n in rest))]
    return named + none


def render_text(stats: Stats, *, limit: int | None = 30) -> str:
    """A plain-text report for a terminal (ASCII headers, Bahasa Indonesia with English).

    Category, kecamatan and location lists show their ``limit`` largest entries and one row
    for the others (None: all); the JSON of :func:`as_dict` always has them all.
    """
    unit = "hari (day)" if stats.period == "day" else "minggu ISO (ISO week)"
    out = [
        "STATISTIK LAPORAN SMS (SMS report statistics)",
        f"periode (period): per {unit}, zona waktu (time zone): {stats.tz}",
    ]
    if stats.since is not None or stats.until is not None:
        out.append(
            f"rentang (range): {stats.since_local or '-'} .. {stats.until_local or '-'}"
            " (sampai, tidak termasuk / until, excluded)"
        )
    if stats.first is not None:
        out.append(f"laporan pertama..terakhir (first..last): {stats.first} .. {stats.last}")
    out.append(f"jumlah laporan (reports): {stats.total}")
    if stats.company_senders:
        out.append(
            f"SMS dari pengirim nama/perusahaan (from company senders, not counted): "
            f"{stats.company_senders}"
        )
    if stats.total == 0:
        out.append("")
        out.append("belum ada data (no data yet)")
    else:
        kinds = [k for k in stats.kinds if stats.by_kind.get(k) or k in KINDS]
        head = "hari (day)" if stats.period == "day" else "minggu (week)"
        rows: list[list[Any]] = [
            [p, *(c[k] for k in kinds), sum(c.values())] for p, c in stats.by_period.items()
        ]
        rows.append(["jumlah (total)", *(stats.by_kind[k] for k in kinds), stats.total])
        out += ["", f"Laporan per {unit} menurut jenis (reports by kind)"]
        out += _table([head, *kinds, "jumlah (total)"], rows)
        for title, col, counts in (
            ("Menurut kategori (by category)", "kategori (category)", stats.by_category),
            ("Menurut kecamatan (by kecamatan)", "kecamatan", stats.by_kecamatan),
            ("Menurut lokasi (by location)", "lokasi (location)", stats.by_location),
            (
                "Menurut kode wilayah Kemendagri (by official place code)",
                "kode wilayah (code)",
                stats.by_location_code,
            ),
        ):
            out += ["", title]
            out += _table([col, "jumlah (count)"], _top(counts, limit))

    d = stats.delivery
    out += ["", "Waktu dari SMS diterima sampai terkirim ke hulu (time to upstream delivery)"]
    out += _table(
        ["terkirim (delivered)", "median", "p90"],
        [[d.count, duration(d.median), duration(d.p90)]],
    )
    out += ["", "Belum terkirim ke hulu menurut status (undelivered upstream, by state)"]
    if stats.undelivered:
        out += _table(["status (state)", "jumlah (count)"], list(stats.undelivered.items()))
    else:
        out.append("tidak ada (none)")
    out += ["", "Balasan SMS menurut tujuan dan status (reply SMS by purpose and state)"]
    if stats.replies:
        states = sorted({s for c in stats.replies.values() for s in c})
        rows = [
            [p, *(c.get(s, 0) for s in states), sum(c.values())] for p, c in stats.replies.items()
        ]
        out += _table(["tujuan (purpose)", *states, "jumlah (total)"], rows)
    else:
        out.append("tidak ada (none)")
    return "\n".join(out) + "\n"
