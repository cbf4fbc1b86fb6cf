"""Statistik: the `stats` figures and charts per day or week (by kind, category and kecamatan);
CSV/JSON exports (audited)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from sms1708 import chart, reports, sitetime
from sms1708.core.mask import mask_number
from sms1708.export import write_csv
from sms1708.web.app import Ctx
from sms1708.web.http import Response
from sms1708.web.pages.complaints import day_start

if TYPE_CHECKING:
    from sms1708.web.app import App


def _load(ctx: Ctx) -> reports.Stats:
    q = ctx.req.query
    period: reports.Period = "week" if q.get("period") == "week" else "day"
    since = day_start(q.get("from"))
    if since is None and not q.get("from"):
        since = ctx.now - 30 * 86400 if period == "day" else ctx.now - 26 * 7 * 86400
    return reports.load(
        ctx.store,
        period=period,
        since=since,
        until=day_start(q.get("to"), plus_days=1),
        tz=sitetime.zone(),
    )


def stats_page(ctx: Ctx) -> Response:
    data = _load(ctx)
    q = ctx.req.query
    return ctx.render(
        "stats.html",
        s=data,
        period=data.period,
        query={k: q.get(k, "") for k in ("period", "from", "to")},
        duration=reports.duration,
        charts=chart.BY,
    )


def chart_svg(ctx: Ctx) -> Response:
    wanted = ctx.req.query.get("by")
    by: chart.By = next((b for b in chart.BY if b == wanted), "kind")
    body = chart.svg(chart.layout(_load(ctx), by=by)).encode("utf-8")
    return Response(body, 200, [], "image/svg+xml; charset=utf-8")


def export(ctx: Ctx) -> Response:
    fmt = ctx.req.params["fmt"]
    q = ctx.req.query
    rows = ctx.store.queries.export_rows(
        state=q.get("state") or None,
        kind=q.get("kind") or None,
        since=day_start(q.get("from")),
        until=day_start(q.get("to"), plus_days=1),
    )
    for r in rows:
        r["sender"] = mask_number(r["sender"])
    ctx.audit("export", target=f"laporan.{fmt}", detail=f"{len(rows)} rows")
    stamp = sitetime.local(ctx.now).strftime("%Y%m%d")
    if fmt == "json":
        body = json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")
        ctype = "application/json; charset=utf-8"
    else:
        buf = io.StringIO()
        write_csv(buf, rows)
        body = buf.getvalue().encode("utf-8")
        ctype = "text/csv; charset=utf-8"
    disposition = f'attachment; filename="sms1708-laporan-{stamp}.{fmt}"'
    return Response(body, 200, [("Content-Disposition", disposition)], ctype)


def register(app: App) -> None:
    app.page("GET", "/statistik", stats_page)
    app.page("GET", "/statistik/grafik.svg", chart_svg)
    app.page("GET", "/ekspor/laporan.<fmt>", export)
