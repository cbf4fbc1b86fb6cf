"""``sms1708 status``: the gateway at a glance, and its alarms (exit code 1 on any)."""

from __future__ import annotations

import sys

import click

from sms1708 import sitetime
from sms1708.cli.common import (
    EXIT_ATTENTION,
    ago,
    emit_json,
    get_config,
    open_store,
    when,
)
from sms1708.core.cells import printable
from sms1708.core.routing import DEFAULT_DESTINATION
from sms1708.destinations import PENDING, destination_status


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Modems, queue counts, oldest undelivered complaint, last delivery, today's replies,
    alarms.

    Exit code 1 when something needs attention (daemon not running, a modem down or full, dead
    or ambiguous complaints, quarantined SMS, the reply budget used up), so it can drive a
    monitoring check.
    """
    from sms1708.health import latest_status, pid_alive
    from sms1708.store.sendgate import day_start

    cfg = get_config(ctx)
    store = open_store(ctx)
    counts = store.counts()
    oldest = store.oldest_pending()
    last = store.last_delivery()
    # the same count, from the same midnight, as the gate that enforces the budget
    today = store.replies_since(day_start(sitetime.now()))
    q = counts["outbox"]
    alarms = []
    daemon = latest_status(cfg.daemon.status_file, cfg.store.path)
    running = daemon is not None and pid_alive(int(daemon.get("pid") or 0))
    if not running:
        alarms.append("the daemon is not running (`sms1708 run` / systemctl start sms1708)")
    modems = (daemon or {}).get("modems", {}) if running else {}
    for name, m in sorted(modems.items()):
        if not m.get("connected"):
            problem = printable(str(m.get("problem") or "starting"))
            alarms.append(f"modem {name} is not connected: {problem}")
        for mem, (used, total) in sorted(m.get("storage", {}).items()):
            if total and used >= total:
                alarms.append(f"modem {name}: storage {mem} full ({used}/{total})")
        for slot, n in sorted((m.get("stuck_slots") or {}).items()):
            alarms.append(
                f"modem {name}: SIM slot {slot} refused deletion {n} time(s); the SMS is stored,"
                " deleting is retried on every poll"
            )
    for name, n in sorted(today.items()):
        if n >= cfg.replies.daily_budget:
            alarms.append(f"modem {name}: daily reply budget used up ({n})")
    if q.get("dead"):
        alarms.append(f"{q['dead']} complaint(s) dead: see `sms1708 queue list --state dead`")
    if q.get("ambiguous"):
        alarms.append(f"{q['ambiguous']} complaint(s) with unknown outcome (ambiguous)")
    if counts["parts"].get("quarantined"):
        alarms.append(f"{counts['parts']['quarantined']} undecodable SMS part(s) in quarantine")
    if counts["replies"].get("dead"):
        alarms.append(f"{counts['replies']['dead']} reply SMS could not be sent")
    unconfirmed = store.unconfirmed_replies()
    if unconfirmed.get("dead"):
        alarms.append(
            f"{unconfirmed['dead']} reply SMS gave up with an unknown outcome (the modem lost "
            "the link after taking them: they may have reached the citizen, so they are not "
            "sent again; see `sms1708 queue show` of their complaint)"
        )
    loops = (daemon or {}).get("loops", {}) if running else {}
    for name, t in sorted(loops.items()):
        if t.get("alarm"):
            alarms.append(
                f"loop {name} keeps failing: {t.get('failures')} time(s) in a row since"
                f" {when(t.get('since'))}, backing off (next try in {t.get('retry_in')} s);"
                f" last error: {t.get('last_error')}"
            )
    clock = (daemon or {}).get("clock", {}) if running else {}
    if clock.get("warn"):
        from sms1708.clock import describe_offset

        off = float(clock.get("off_by") or 0)
        alarms.append(
            f"box clock off by {describe_offset(off)} ({'behind' if off > 0 else 'ahead of'}"
            f" {'network time' if clock.get('network') else 'the newest stored time'}); the"
            " gateway uses the corrected time. Fix the clock: README, troubleshooting, wrong clock"
        )
    dests = destination_status(cfg, store, (daemon or {}) if running else {})
    for name, d in dests.items():
        if not d["configured"] and any(d["queue"].get(s) for s in PENDING):
            alarms.append(
                f"destination {name} is not configured any more: its"
                f" {sum(d['queue'].get(s, 0) for s in PENDING)} pending complaint(s) wait"
                " (configure it again, or see the README: several destinations)"
            )
        if d["primary"] or len(dests) == 1:
            continue  # the primary's trouble is the upstream's, below
        if d.get("circuit_open_until"):
            alarms.append(
                f"destination {name} unreachable: {printable(str(d.get('problem') or 'paused'))}"
            )
        if d["queue"].get("dead"):
            alarms.append(
                f"destination {name}: {d['queue']['dead']} complaint(s) dead"
                f" (`sms1708 queue list --destination {name} --state dead`)"
            )
    upstream = (daemon or {}).get("upstream", {}) if running else {}
    if upstream.get("circuit_open_until"):
        alarms.append(
            f"upstream unreachable: {printable(str(upstream.get('problem') or 'paused'))}"
        )
    elif upstream.get("not_acknowledged_at"):
        problem = printable(str(upstream.get("problem") or "see the log"))
        alarms.append(
            f"upstream answered with something that is not an acknowledgement ({problem});"
            " open the upstream URL in a browser on the box: a captive portal or an exhausted"
            " data quota answers like this"
        )
    backlog, backlog_oldest = store.reply_backlog()
    data = {
        "database": store.path,
        "daemon_running": running,
        "modems": modems,
        "messages": counts["messages"]["total"],
        "upstream_queue": q,
        "destinations": dests,
        "replies": counts["replies"],
        "replies_unconfirmed": unconfirmed,
        "reply_queue": {"waiting": backlog, "oldest_queued_at": backlog_oldest},
        "replies_today": today,
        "daily_budget": cfg.replies.daily_budget,
        "parts": counts["parts"],
        "oldest_undelivered_at": oldest,
        "last_delivery_at": last,
        "loops": loops,
        "clock": clock,
        "site_timezone": cfg.site.timezone,
        "alarms": alarms,
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(f"database        {store.path}")
        click.echo(f"daemon          {'running' if running else 'NOT RUNNING'}")
        for name, m in sorted(modems.items()):
            sig = "-" if m.get("signal_dbm") is None else f"{m['signal_dbm']} dBm"
            storage = ", ".join(
                f"{mem} {u}/{t}" for mem, (u, t) in sorted(m.get("storage", {}).items())
            )
            missing = "".join(f", no {mem} memory" for mem in m.get("unsupported_memories") or [])
            click.echo(
                f"modem {name:<9} {'connected' if m.get('connected') else 'DOWN'}, "
                f"{m.get('family') or '?'}, signal {sig}, operator {m.get('operator') or '?'}, "
                f"storage {storage or '-'}{missing}, "
                f"last SMS {ago(m.get('last_sms_at'))}"
            )
        click.echo(f"messages        {data['messages']}")
        click.echo(
            "upstream queue  " + (", ".join(f"{k}={v}" for k, v in sorted(q.items())) or "empty")
        )
        if len(dests) > 1 or any(n != DEFAULT_DESTINATION for n in dests):
            for name, d in dests.items():
                counts_text = ", ".join(f"{k}={v}" for k, v in sorted(d["queue"].items()))
                flags = " (primary)" if d["primary"] else ""
                if not d["configured"]:
                    flags = " (NOT CONFIGURED)"
                elif d.get("circuit_open_until"):
                    flags += " (CIRCUIT OPEN)"
                click.echo(
                    f"  -> {name:<12} {counts_text or 'empty'}{flags},"
                    f" last delivery {ago(d.get('last_delivery_at'))}"
                )
        r = counts["replies"]
        click.echo(
            "replies         " + (", ".join(f"{k}={v}" for k, v in sorted(r.items())) or "none")
        )
        click.echo(
            f"reply queue     {backlog} waiting"
            + (f", oldest queued {ago(backlog_oldest)}" if backlog_oldest is not None else "")
        )
        used = ", ".join(f"{k} {v}/{cfg.replies.daily_budget}" for k, v in sorted(today.items()))
        click.echo(f"replies today   {used or '0'}")
        click.echo(f"oldest pending  {when(oldest)} ({ago(oldest)})")
        click.echo(f"last delivery   {when(last)} ({ago(last)})")
        click.echo("alarms          " + ("none" if not alarms else ""))
        for a in alarms:
            click.echo(f"  ! {a}")
    sys.exit(EXIT_ATTENTION if alarms else 0)
