"""Laporan (the filtered list), one complaint's detail, Percakapan (one number's thread)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sms1708 import sitetime
from sms1708.core.pdu import gsm7_septets, segments
from sms1708.store.console import ComplaintFilter
from sms1708.web.app import Ctx
from sms1708.web.http import HTTPError, Response

if TYPE_CHECKING:
    from sms1708.web.app import App

KINDS = ("pengaduan", "aspirasi", "informasi", "status", "bantuan")
STATES = ("queued", "sending", "retry", "ambiguous", "dead", "delivered", "local")
PAGE = 50


def day_start(text: str | None, *, plus_days: int = 0) -> float | None:
    """Midnight (the site's zone) of an ``YYYY-MM-DD`` date; None for an empty or bad date."""
    if not text:
        return None
    try:
        d = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    moment = dt.datetime.combine(d + dt.timedelta(days=plus_days), dt.time(), sitetime.zone())
    return moment.timestamp()


def parse_filter(q: dict[str, str]) -> ComplaintFilter:
    return ComplaintFilter(
        state=q.get("state") if q.get("state") in STATES else None,
        kind=q.get("kind") if q.get("kind") in KINDS else None,
        category=(q.get("category") or "").strip()[:64] or None,
        kecamatan=(q.get("kecamatan") or "").strip()[:64] or None,
        since=day_start(q.get("from")),
        until=day_start(q.get("to"), plus_days=1),
        text=(q.get("q") or "").strip()[:200] or None,
        destination=(q.get("destination") or "").strip()[:32] or None,
    )


FILTER_KEYS = ("state", "kind", "category", "kecamatan", "from", "to", "q", "destination")


def complaint_list(ctx: Ctx) -> Response:
    q = ctx.req.query
    f = parse_filter(q)
    before = q.get("before", "")
    rows, next_id = ctx.store.console.complaints(
        f, before_id=int(before) if before.isdigit() else None, limit=PAGE
    )
    return ctx.render(
        "complaints.html",
        rows=rows,
        next_id=next_id,
        filters={k: q.get(k, "") for k in FILTER_KEYS},
        paged=bool(before),
        kinds=KINDS,
        states=STATES,
        categories=ctx.store.console.categories(),
    )


def sms_counter(text: str) -> dict[str, Any]:
    septets = gsm7_septets(text)
    return {
        "chars": len(text),
        "encoding": "GSM-7" if septets is not None else "UCS-2",
        "parts": segments(text) if text else 0,
    }


def load(ctx: Ctx) -> dict[str, Any]:
    m = ctx.store.console.timeline(int(ctx.req.params["id"]))
    if m is None:
        raise HTTPError(404, ctx.t("not_found"))
    return m


def detail_page(
    ctx: Ctx,
    *,
    status: int = 200,
    revealed: str | None = None,
    draft: str = "",
    replay_ids: list[int] | None = None,
) -> Response:
    m = load(ctx)
    blocked = ctx.store.blocked.is_blocked(m["sender"])
    return ctx.render(
        "detail.html",
        status,
        m=m,
        revealed=revealed,
        draft=draft,
        counter=sms_counter(draft),
        replay_ids=replay_ids,
        blocked=blocked,
    )


def detail(ctx: Ctx) -> Response:
    return detail_page(ctx)


def conversation(ctx: Ctx) -> Response:
    mid = int(ctx.req.params["id"])
    sender = ctx.store.console.sender_of(mid)
    if sender is None:
        raise HTTPError(404, ctx.t("not_found"))
    return ctx.render(
        "conversation.html", mid=mid, sender=sender, items=ctx.store.console.conversation(mid)
    )


def register(app: App) -> None:
    app.page("GET", "/laporan", complaint_list)
    app.page("GET", "/laporan/<int:id>", detail)
    app.page("GET", "/percakapan/<int:id>", conversation)
