"""What ``sms1708 status`` reports: the facts read from the Store and the daemon's status file,
the alarms they raise (what needs an operator), the report (its JSON) and the report as text.

:func:`alarms` is a function of the facts alone (the site's zone aside, for the dates it
names), so every alarm is tested without a daemon, a modem or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sms1708 import config, sitetime
from sms1708.core.cells import printable
from sms1708.core.routing import DEFAULT_DESTINATION
from sms1708.destinations import PENDING, destination_status
from sms1708.timetext import ago, when


@dataclass(frozen=True)
class Facts:
    """Everything the status report is made of."""

    database: str
    #: the daemon's latest status, ``{}`` when it does not run (a stale file says nothing)
    daemon: dict[str, Any]
    running: bool
    #: ``store.queries.counts()``: messages, outbox, replies and parts by state
    counts: dict[str, dict[str, int]]
    #: replies sent today per modem, from the site's midnight (the send gate's count)
    today: dict[str, int]
    daily_budget: int
    #: replies whose outcome is unknown, by state
    unconfirmed: dict[str, int]
    #: each destination: configured, primary, its queue, what the daemon knows of it
    destinations: dict[str, dict[str, Any]]
    oldest_pending: float | None = None
    last_delivery: float | None = None
    reply_backlog: int = 0
    reply_backlog_oldest: float | None = None
    site_timezone: str = field(default="")


def running_daemon(cfg: config.Config) -> tuple[bool, dict[str, Any]]:
    """Whether the daemon runs (its status file names a live process), and that status
    (``{}`` when it does not run)."""
    from sms1708.health import latest_status, pid_alive

    daemon = latest_status(cfg.daemon.status_file, cfg.store.path)
    running = daemon is not None and pid_alive(int(daemon.get("pid") or 0))
    return running, (daemon or {}) if running else {}


def gather(cfg: config.Config, store: Any) -> Facts:
    """Read the facts from ``store`` and the daemon's status file."""
    from sms1708.store.sendgate import day_start

    counts = store.queries.counts()
    oldest = store.queries.oldest_pending()
    last = store.queries.last_delivery()
    # the same count, from the same midnight, as the gate that enforces the budget
    today = store.queries.replies_since(day_start(sitetime.now()))
    running, daemon = running_daemon(cfg)
    unconfirmed = store.replies.unconfirmed()
    dests = destination_status(cfg, store, daemon)
    backlog, backlog_oldest = store.queries.reply_backlog()
    return Facts(
        database=store.path,
        daemon=daemon,
        running=running,
        counts=counts,
        today=today,
        daily_budget=cfg.replies.daily_budget,
        unconfirmed=unconfirmed,
        destinations=dests,
        oldest_pending=oldest,
        last_delivery=last,
        reply_backlog=backlog,
        reply_backlog_oldest=backlog_oldest,
        site_timezone=cfg.site.timezone,
    )


def alarms(f: Facts) -> list[str]:
    """What needs an operator, one line each, with what to do where there is something."""
    out: list[str] = []
    q = f.counts["outbox"]
    if not f.running:
        out.append("the daemon is not running (`sms1708 run` / systemctl start sms1708)")
    out += _modem_alarms(f.daemon.get("modems", {}))
    for name, n in sorted(f.today.items()):
        if n >= f.daily_budget:
            out.append(f"modem {name}: daily reply budget used up ({n})")
    if q.get("dead"):
        out.append(f"{q['dead']} complaint(s) dead: see `sms1708 queue list --state dead`")
    if q.get("ambiguous"):
        out.append(f"{q['ambiguous']} complaint(s) with unknown outcome (ambiguous)")
    if f.counts["parts"].get("quarantined"):
        out.append(f"{f.counts['parts']['quarantined']} undecodable SMS part(s) in quarantine")
    if f.counts["replies"].get("dead"):
        out.append(f"{f.counts['replies']['dead']} reply SMS could not be sent")
    if f.unconfirmed.get("dead"):
        out.append(
            f"{f.unconfirmed['dead']} reply SMS gave up with an unknown outcome (the modem lost "
            "the link after taking them: they may have reached the citizen, so they are not "
            "sent again; see `sms1708 queue show` of their complaint)"
        )
    for name, t in sorted(f.daemon.get("loops", {}).items()):
        if t.get("alarm"):
            out.append(
                f"loop {name} keeps failing: {t.get('failures')} time(s) in a row since"
                f" {when(t.get('since'))}, backing off (next try in {t.get('retry_in')} s);"
                f" last error: {t.get('last_error')}"
            )
    clock = f.daemon.get("clock", {})
    if clock.get("warn"):
        from sms1708.clock import describe_offset

        off = float(clock.get("off_by") or 0)
        out.append(
            f"box clock off by {describe_offset(off)} ({'behind' if off > 0 else 'ahead of'}"
            f" {'network time' if clock.get('network') else 'the newest stored time'}); the"
            " gateway uses the corrected time. Fix the clock: README, troubleshooting, wrong clock"
        )
    out += _destination_alarms(f.destinations)
    upstream = f.daemon.get("upstream", {})
    if upstream.get("circuit_open_until"):
        out.append(f"upstream unreachable: {printable(str(upstream.get('problem') or 'paused'))}")
    elif upstream.get("not_acknowledged_at"):
        problem = printable(str(upstream.get("problem") or "see the log"))
        out.append(
            f"upstream answered with something that is not an acknowledgement ({problem});"
            " open the upstream URL in a browser on the box: a captive portal or an exhausted"
            " data quota answers like this"
        )
    return out


def _modem_alarms(modems: dict[str, Any]) -> list[str]:
    out = []
    for name, m in sorted(modems.items()):
        if not m.get("connected"):
            problem = printable(str(m.get("problem") or "starting"))
            out.append(f"modem {name} is not connected: {problem}")
        for mem, (used, total) in sorted(m.get("storage", {}).items()):
            if total and used >= total:
                out.append(f"modem {name}: storage {mem} full ({used}/{total})")
        for slot, n in sorted((m.get("stuck_slots") or {}).items()):
            out.append(
                f"modem {name}: SIM slot {slot} refused deletion {n} time(s); the SMS is stored,"
                " deleting is retried on every poll"
            )
    return out


def _destination_alarms(dests: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for name, d in dests.items():
        if not d["configured"] and any(d["queue"].get(s) for s in PENDING):
            out.append(
                f"destination {name} is not configured any more: its"
                f" {sum(d['queue'].get(s, 0) for s in PENDING)} pending complaint(s) wait"
                " (configure it again, or see the README: several destinations)"
            )
        if d["primary"] or len(dests) == 1:
            continue  # the primary's trouble is the upstream's
        if d.get("circuit_open_until"):
            out.append(
                f"destination {name} unreachable: {printable(str(d.get('problem') or 'paused'))}"
            )
        if d["queue"].get("dead"):
            out.append(
                f"destination {name}: {d['queue']['dead']} complaint(s) dead"
                f" (`sms1708 queue list --destination {name} --state dead`)"
            )
    return out


def report(f: Facts) -> dict[str, Any]:
    """The report as ``sms1708 status --json`` prints it (keys in this order)."""
    return {
        "database": f.database,
        "daemon_running": f.running,
        "modems": f.daemon.get("modems", {}),
        "messages": f.counts["messages"]["total"],
        "upstream_queue": f.counts["outbox"],
        "destinations": f.destinations,
        "replies": f.counts["replies"],
        "replies_unconfirmed": f.unconfirmed,
        "reply_queue": {"waiting": f.reply_backlog, "oldest_queued_at": f.reply_backlog_oldest},
        "replies_today": f.today,
        "daily_budget": f.daily_budget,
        "parts": f.counts["parts"],
        "oldest_undelivered_at": f.oldest_pending,
        "last_delivery_at": f.last_delivery,
        "loops": f.daemon.get("loops", {}),
        "clock": f.daemon.get("clock", {}),
        "site_timezone": f.site_timezone,
        "alarms": alarms(f),
    }


def render_text(data: dict[str, Any]) -> list[str]:
    """The report (from :func:`report`) as ``sms1708 status`` prints it, one line each."""
    out = [
        f"database        {data['database']}",
        f"daemon          {'running' if data['daemon_running'] else 'NOT RUNNING'}",
    ]
    for name, m in sorted(data["modems"].items()):
        sig = "-" if m.get("signal_dbm") is None else f"{m['signal_dbm']} dBm"
        storage = ", ".join(
            f"{mem} {u}/{t}" for mem, (u, t) in sorted(m.get("storage", {}).items())
        )
        missing = "".join(f", no {mem} memory" for mem in m.get("unsupported_memories") or [])
        out.append(
            f"modem {name:<9} {'connected' if m.get('connected') else 'DOWN'}, "
            f"{m.get('family') or '?'}, signal {sig}, operator {m.get('operator') or '?'}, "
            f"storage {storage or '-'}{missing}, "
            f"last SMS {ago(m.get('last_sms_at'))}"
        )
    q = data["upstream_queue"]
    out.append(f"messages        {data['messages']}")
    out.append(
        "upstream queue  " + (", ".join(f"{k}={v}" for k, v in sorted(q.items())) or "empty")
    )
    dests = data["destinations"]
    if len(dests) > 1 or any(n != DEFAULT_DESTINATION for n in dests):
        for name, d in dests.items():
            counts_text = ", ".join(f"{k}={v}" for k, v in sorted(d["queue"].items()))
            flags = " (primary)" if d["primary"] else ""
            if not d["configured"]:
                flags = " (NOT CONFIGURED)"
            elif d.get("circuit_open_until"):
                flags += " (CIRCUIT OPEN)"
            out.append(
                f"  -> {name:<12} {counts_text or 'empty'}{flags},"
                f" last delivery {ago(d.get('last_delivery_at'))}"
            )
    r = data["replies"]
    out.append("replies         " + (", ".join(f"{k}={v}" for k, v in sorted(r.items())) or "none"))
    backlog, backlog_oldest = (
        data["reply_queue"]["waiting"],
        data["reply_queue"]["oldest_queued_at"],
    )
    out.append(
        f"reply queue     {backlog} waiting"
        + (f", oldest queued {ago(backlog_oldest)}" if backlog_oldest is not None else "")
    )
    budget = data["daily_budget"]
    used = ", ".join(f"{k} {v}/{budget}" for k, v in sorted(data["replies_today"].items()))
    out.append(f"replies today   {used or '0'}")
    oldest, last = data["oldest_undelivered_at"], data["last_delivery_at"]
    out.append(f"oldest pending  {when(oldest)} ({ago(oldest)})")
    out.append(f"last delivery   {when(last)} ({ago(last)})")
    out.append("alarms          " + ("none" if not data["alarms"] else ""))
    out += [f"  ! {a}" for a in data["alarms"]]
    return out
