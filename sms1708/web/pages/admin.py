"""Kesehatan (what the daemon reports about modems, upstream and store) and the audit log
(admin only, exportable)."""

from __future__ import annotations

import csv
import io
import os
import shutil
from typing import TYPE_CHECKING, Any

from sms1708.core.cells import spreadsheet_safe
from sms1708.health import latest_status, pid_alive
from sms1708.web.app import Ctx
from sms1708.web.http import Response
from sms1708.web.pages.dashboard import destinations, signal_bars

if TYPE_CHECKING:
    from sms1708.web.app import App

AUDIT_FIELDS = ("id", "at", "actor", "action", "target", "detail", "address")


def checks(ctx: Ctx) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) like `sms1708 check`, from the running daemon's own report."""
    cfg = ctx.app.cfg
    out: list[tuple[str, bool, str]] = []
    daemon = latest_status(cfg.daemon.status_file, cfg.store.path)
    running = daemon is not None and pid_alive(int(daemon.get("pid") or 0))
    out.append(
        ("daemon", running, f"pid {daemon.get('pid')}" if running and daemon else "not running")
    )
    modems: dict[str, Any] = (daemon or {}).get("modems", {}) if running else {}
    for m in cfg.modems:
        h = modems.get(m.name)
        if h is None:
            out.append((f"modem {m.name}", False, f"{m.port or '(no port)'}: no report"))
            continue
        sig = "-" if h.get("signal_dbm") is None else f"{h['signal_dbm']} dBm"
        mem = ", ".join(f"{k} {u}/{t}" for k, (u, t) in sorted(h.get("storage", {}).items()))
        out.append(
            (
                f"modem {m.name}",
                bool(h.get("connected")),
                f"{h.get('port') or m.port}; {h.get('family') or '?'}; signal {sig} "
                f"({signal_bars(h.get('signal_dbm'))}/4); storage {mem or '-'}"
                + (f"; {h['problem']}" if h.get("problem") else ""),
            )
        )
    up_all = (daemon or {}).get("upstream", {}) if running else {}
    per = (daemon or {}).get("destinations", {}) if running else {}
    for d in destinations(ctx, {}):
        if not d.url:
            out.append((f"upstream {d.name}", False, "no url: everything stays queued"))
            continue
        up = per.get(d.name) or (up_all if len(per) <= 1 else {})
        ok = not up.get("circuit_open_until") and not up.get("problem")
        last = ctx.app.when(up.get("last_success_at"))
        out.append((f"upstream {d.name}", ok, f"last success {last}; {up.get('problem') or 'ok'}"))
    store = ctx.store
    out.append(("database", store.journal_mode() == "wal", f"{store.path}, {store.journal_mode()}"))
    free = shutil.disk_usage(os.path.dirname(store.path) or ".").free
    out.append(("disk", free > 100 * 2**20, f"{free / 2**20:.0f} MiB free"))
    return out


def health(ctx: Ctx) -> Response:
    return ctx.render("health.html", checks=checks(ctx))


def audit_page(ctx: Ctx) -> Response:
    ctx.require("admin")
    before = ctx.req.query.get("before", "")
    rows = ctx.store.accounts.audit_log(
        limit=101, before_id=int(before) if before.isdigit() else None
    )
    more = len(rows) > 100
    rows = rows[:100]
    return ctx.render("audit.html", rows=rows, next_id=rows[-1]["id"] if more and rows else None)


def audit_export(ctx: Ctx) -> Response:
    ctx.require("admin")
    rows = ctx.store.accounts.audit_log(limit=None)
    ctx.audit("export", target="audit.csv", detail=f"{len(rows)} rows")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=AUDIT_FIELDS, extrasaction="ignore")
    w.writeheader()
    for r in reversed(rows):
        row = {**r, "at": ctx.app.when(r["at"]) if r["at"] else ""}
        w.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return Response(
        buf.getvalue().encode("utf-8"),
        200,
        [("Content-Disposition", 'attachment; filename="sms1708-audit.csv"')],
        "text/csv; charset=utf-8",
    )


def register(app: App) -> None:
    app.page("GET", "/kesehatan", health)
    app.page("GET", "/audit", audit_page)
    app.page("GET", "/audit.csv", audit_export)
