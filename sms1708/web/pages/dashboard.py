"""Dasbor: modems, today's replies against the budget, the queue per state and destination,
oldest undelivered, last delivery, alarms with what to do, a 30-day chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sms1708.core.routing import DEFAULT_DESTINATION
from sms1708.status import running_daemon
from sms1708.web.app import Ctx
from sms1708.web.http import Response

if TYPE_CHECKING:
    from sms1708.web.app import App

QUEUE_STATES = ("queued", "sending", "retry", "ambiguous", "dead", "delivered", "local")
PENDING = ("queued", "sending", "retry", "ambiguous")


@dataclass(frozen=True)
class Destination:
    """One upstream destination and its queue (``[upstream] url`` or each
    ``[[upstream.destination]]``, and any the queue still holds rows for)."""

    name: str
    url: str
    counts: dict[str, int]


def signal_bars(dbm: int | None) -> int:
    """0-4 bars like a phone shows, from the signal in dBm."""
    if dbm is None:
        return 0
    return sum(dbm >= limit for limit in (-107, -97, -87, -77))


def destinations(ctx: Ctx, outbox: dict[str, int]) -> list[Destination]:
    """The queue per destination: with several, each one's deliveries by state."""
    up = ctx.app.cfg.upstream
    per = ctx.store.queries.destination_counts()
    if not up.destinations and set(per) <= {DEFAULT_DESTINATION}:
        host = urlsplit(up.url).netloc if up.url else ""
        return [Destination(host or "upstream", up.url, outbox)]
    configured = up.destinations or (up,)
    out = [Destination(d.name, d.url, per.get(d.name, {})) for d in configured]
    names = {d.name for d in configured}
    out += [Destination(n, "", c) for n, c in sorted(per.items()) if n not in names]
    return out


def overview(ctx: Ctx) -> dict[str, Any]:
    cfg = ctx.app.cfg
    store = ctx.store
    counts = store.queries.counts()
    midnight = dt.datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    today = store.queries.replies_since(midnight.timestamp())
    running, daemon = running_daemon(cfg)
    modems: dict[str, Any] = daemon.get("modems", {})
    upstream = daemon.get("upstream", {})
    alarms = alarm_list(ctx, counts, today, running, modems, upstream)
    for m in modems.values():
        m["bars"] = signal_bars(m.get("signal_dbm"))
    return {
        "running": running,
        "modems": modems,
        "configured_modems": [m.name for m in cfg.modems],
        "replies_today": {name: today.get(name, 0) for name in [m.name for m in cfg.modems]},
        "budget": cfg.replies.daily_budget,
        "destinations": destinations(ctx, counts["outbox"]),
        "states": QUEUE_STATES,
        "total": counts["messages"]["total"],
        "oldest": store.queries.oldest_pending(),
        "last": store.queries.last_delivery(),
        "alarms": alarms,
    }


def alarm_list(
    ctx: Ctx,
    counts: dict[str, dict[str, int]],
    today: dict[str, int],
    running: bool,
    modems: dict[str, Any],
    upstream: dict[str, Any],
) -> list[tuple[str, str]]:
    """(what is wrong, what to do), in Bahasa Indonesia or English."""
    en = ctx.lang == "en"
    out: list[tuple[str, str]] = []

    def add(id_: tuple[str, str], en_: tuple[str, str]) -> None:
        out.append(en_ if en else id_)

    q = counts["outbox"]
    if not running:
        add(
            ("Layanan gateway tidak berjalan.", "Jalankan: sudo systemctl start sms1708"),
            ("The gateway daemon is not running.", "Run: sudo systemctl start sms1708"),
        )
    for name, m in sorted(modems.items()):
        if not m.get("connected"):
            problem = m.get("problem") or "starting"
            add(
                (
                    f"Modem {name} terputus: {problem}",
                    "Periksa kabel USB dan SIM; lihat Kesehatan.",
                ),
                (f"Modem {name} is down: {problem}", "Check the USB cable and SIM; see Health."),
            )
        for mem, (used, total) in sorted(m.get("storage", {}).items()):
            if total and used >= total:
                add(
                    (f"Memori SIM {mem} penuh ({used}/{total}).", "Periksa log sms1708."),
                    (f"SIM storage {mem} full ({used}/{total}).", "Check the sms1708 journal."),
                )
    budget = ctx.app.cfg.replies.daily_budget
    for name, n in sorted(today.items()):
        if n >= budget:
            add(
                (f"Anggaran balasan harian {name} habis ({n}).", "Balasan lanjut besok."),
                (f"Daily reply budget of {name} used up ({n}).", "Replies resume tomorrow."),
            )
    if q.get("dead"):
        add(
            (f"{q['dead']} laporan gagal (dead).", "Buka Laporan, status dead, lalu Kirim ulang."),
            (f"{q['dead']} report(s) dead.", "Open Reports, state dead, then Replay."),
        )
    if q.get("ambiguous"):
        add(
            (f"{q['ambiguous']} laporan hasilnya tidak pasti.", "Dikirim ulang otomatis."),
            (f"{q['ambiguous']} report(s) with unknown outcome.", "Retried automatically."),
        )
    if counts["parts"].get("quarantined"):
        n = counts["parts"]["quarantined"]
        add(
            (f"{n} bagian SMS dikarantina.", "Lihat: sms1708 queue list / log."),
            (f"{n} SMS part(s) quarantined.", "See: sms1708 queue list / the journal."),
        )
    if upstream.get("circuit_open_until"):
        problem = upstream.get("problem") or ""
        add(
            (f"Tujuan tidak terjangkau: {problem}", "Periksa koneksi internet kantor."),
            (f"Upstream unreachable: {problem}", "Check the office's internet link."),
        )
    return out


def dashboard(ctx: Ctx) -> Response:
    return ctx.render("dashboard.html", **overview(ctx))


def register(app: App) -> None:
    app.page("GET", "/", dashboard)
