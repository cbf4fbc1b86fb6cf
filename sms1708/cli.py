"""The ``sms1708`` command: a thin click layer over the library.

Exit codes: 0 fine; 1 something needs attention (or a command failed); 2 bad usage or bad
configuration (one line naming the key and the problem); 3 the database cannot be used.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from sms1708 import __version__, cliaudit, config, logsetup, reports, sitetime
from sms1708.core.cells import printable, spreadsheet_safe
from sms1708.core.gate import COUNTED_GUARDS
from sms1708.core.grammar import parse as parse_text
from sms1708.core.mask import mask_number
from sms1708.core.routing import DEFAULT_DESTINATION
from sms1708.core.states import REPLAYABLE
from sms1708.destinations import PENDING, destination_status, unknown_destination
from sms1708.errors import ConfigError, StoreDamagedError, StoreError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ATTENTION = 1
EXIT_CONFIG = 2
EXIT_STORE = 3

PDU_HIDDEN = "(hidden: holds the sender's number; --show-numbers shows it)"


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"sms1708: {message}", err=True)
    sys.exit(code)


def get_config(ctx: click.Context) -> config.Config:
    obj = ctx.find_root().obj
    if "config" not in obj:
        try:
            obj["config"] = config.load(obj["config_path"])
        except ConfigError as e:
            fail(str(e), EXIT_CONFIG)
    cfg: config.Config = obj["config"]
    if "site" not in obj:  # the site's zone, and the daemon's clock correction
        from sms1708.health import latest_status

        obj["site"] = True
        sitetime.use(cfg, latest_status(cfg.daemon.status_file, cfg.store.path))
    return cfg


def open_store(ctx: click.Context, *, create: bool = False) -> Any:
    from sms1708.store.store import Store

    cfg = get_config(ctx)
    try:
        return Store.open(cfg.store.path, create=create)
    except StoreDamagedError as e:
        fail(f"{e}. The file was left untouched; restore a backup or move it aside.", EXIT_STORE)
    except StoreError as e:
        fail(str(e), EXIT_STORE)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return sitetime.local(ts).strftime("%Y-%m-%d %H:%M:%S")


def ago(ts: float | None) -> str:
    if ts is None:
        return "-"
    s = int(sitetime.now() - ts)
    if s < 120:
        return f"{s}s ago"
    if s < 7200:
        return f"{s // 60}m ago"
    if s < 172800:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"


class When(click.ParamType[float]):
    """A point in time: ``2026-11-01``, ``2026-11-01T08:00``, or an age like ``7d``, ``12h``."""

    name = "when"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        if ctx is not None and ctx.find_root().obj is not None:
            get_config(ctx)  # the site's zone and clock before a date is read
        text = str(value).strip()
        units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
        if text[:-1].isdigit() and text[-1:] in units:
            return sitetime.now() - int(text[:-1]) * units[text[-1]]
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is not a date (2026-11-01), a time (2026-11-01T08:00) "
                "or an age (7d, 12h)",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=sitetime.zone())  # the site's time
        return moment.timestamp()


WHEN = When()
KIND_CHOICE = click.Choice(["pengaduan", "aspirasi", "informasi", "status", "bantuan"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (TOML). Default: $SMS1708_CONFIG, else /etc/sms1708/sms1708.toml, "
    "else built-in defaults.",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default=None,
    help="Log format (default: from the config; auto = console on a terminal).",
)
@click.version_option(__version__, prog_name="sms1708")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_format: str | None) -> None:
    """sms1708: an SMS complaint gateway for SP4N-LAPOR! and regional complaint systems.

    Citizens text a GSM modem; every SMS is stored in SQLite before it leaves the SIM, turned
    into a complaint record, answered, and forwarded upstream when the link is up.

    Start with `sms1708 demo` to see the whole pipeline on an emulated modem.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["log_format"] = log_format


def setup_logging(ctx: click.Context) -> None:
    cfg = get_config(ctx)
    logsetup.setup(ctx.find_root().obj.get("log_format") or cfg.log.format, cfg.log.level)


# ---------------------------------------------------------------------------------- run


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the gateway in the foreground (for systemd or a terminal).

    Reads SMS from the configured modem(s), stores them, answers citizens and forwards
    complaints upstream. SIGTERM or Ctrl-C stops it cleanly.
    """
    import signal

    # a stop during start-up (nothing is running yet) is a clean exit too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from sms1708 import daemon

    cfg = get_config(ctx)
    setup_logging(ctx)
    try:
        code = daemon.run(cfg)
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    except StoreDamagedError as e:
        fail(f"{e}. Refusing to start; the file was left untouched.", EXIT_STORE)
    except StoreError as e:
        fail(f"cannot open the database: {e}", EXIT_STORE)
    sys.exit(code)


# ---------------------------------------------------------------------------------- demo


@main.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the demo's database and config in this folder (default: a temp dir).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the daemon's log lines here instead of hiding them.",
)
@click.pass_context
def demo(ctx: click.Context, keep: str | None, log_file: str | None) -> None:
    """Run the whole pipeline on the built-in emulated modem, then print a summary.

    Scripted citizens text the emulated modem; the daemon stores, answers and forwards to a
    local upstream stand-in on 127.0.0.1, which goes down for a while and comes back. Ends by
    itself in under a minute. Exit code 0 when every SMS was answered and delivered.
    """
    from sms1708.demo import run_demo

    ok = run_demo(keep=keep, log_file=log_file, echo=click.echo)
    sys.exit(0 if ok else EXIT_ATTENTION)


# ---------------------------------------------------------------------------------- simulate


@main.command()
@click.option(
    "--link",
    type=click.Path(dir_okay=False),
    default="/tmp/sms1708-modem",
    show_default=True,
    help="Where to put the symlink to the emulated modem's port.",
)
@click.option(
    "--pin-env",
    metavar="NAME",
    default=None,
    help="Make the emulated SIM ask for a PIN, read from the environment variable NAME "
    "(a PIN on the command line would show in `ps` and the shell history).",
)
@click.option("--pin", "pin_argv", default=None, hidden=True)
@click.option(
    "--baud",
    type=int,
    default=None,
    help="Pace the line like a real serial port at this baud rate.",
)
@click.option(
    "--sms",
    nargs=2,
    metavar="SENDER TEXT",
    default=None,
    help="Do not start a modem: send this SMS to the simulator already running on --link.",
)
def simulate(
    link: str,
    pin_env: str | None,
    pin_argv: str | None,
    baud: int | None,
    sms: tuple[str, str] | None,
) -> None:
    """Start the built-in emulated GSM modem on a pseudo-terminal, for training and trials.

    Point `modem.port` of a config at the printed path and run `sms1708 run` in another
    terminal. Then type here, e.g.:

    \b
      sms +6281234567890 LAPOR jalan rusak di desa Tanjung
      list      (what is stored on the emulated SIM)
      sent      (replies the gateway sent)
      unplug / replug
      help

    From a second terminal: sms1708 simulate --sms +6281234567890 "LAPOR jalan rusak"
    """
    import threading

    from sms1708.modem.emulator import EmulatedModem
    from sms1708.modem.simulator import control_path, send_control, serve_control

    if sms is not None:
        try:
            click.echo(send_control(control_path(link), f"sms {sms[0]} {sms[1]}"))
        except OSError as e:
            fail(
                f"no simulator listening on {control_path(link)} ({e}); start one with "
                f"`sms1708 simulate --link {link}`",
                EXIT_ATTENTION,
            )
        return
    if pin_argv is not None:
        fail(
            "--pin is gone: a PIN on the command line shows in `ps` and the shell history. "
            "Put it in an environment variable and name that: "
            "SIM_PIN=1234 sms1708 simulate --pin-env SIM_PIN",
            2,
        )
    pin = None
    if pin_env is not None:
        pin = os.environ.get(pin_env, "")
        if not pin:
            fail(f"--pin-env {pin_env}: the environment variable {pin_env} is not set", 2)
    modem = EmulatedModem(link, pin=pin, baudrate=baud)
    modem.start()
    stop = threading.Event()
    serve_control(modem, control_path(link), stop)
    click.echo(f"emulated modem ready on {modem.port}  (Ctrl-D or 'quit' to stop)")
    if pin_env is not None:
        click.echo(f"the emulated SIM asks for the PIN in ${pin_env}")
    click.echo(f"from another terminal: sms1708 simulate --link {link} --sms SENDER TEXT")
    try:
        for line in sys.stdin:
            line = line.strip()
            if line in ("quit", "exit"):
                break
            if line:
                click.echo(modem.handle_control_line(line))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        modem.stop()


# ---------------------------------------------------------------------------------- parse


@main.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@click.pass_context
def parse(ctx: click.Context, text: str, as_json: bool) -> None:
    """Show what the grammar makes of one SMS TEXT (nothing is stored or sent).

    Example: sms1708 parse "LAPOR#RAHASIA jalan rusak di desa Tanjung" --json
    """
    from sms1708.daemon import grammar_tables

    try:
        tables = grammar_tables(get_config(ctx))
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    record = parse_text(text, tables)
    if as_json:
        emit_json(record.as_dict())
        return
    for k, v in record.as_dict().items():
        click.echo(f"{k:>13}: {v if v is not None else '-'}")


# ---------------------------------------------------------------------------------- status


@main.command()
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
    counts = store.queries.counts()
    oldest = store.queries.oldest_pending()
    last = store.queries.last_delivery()
    # the same count, from the same midnight, as the gate that enforces the budget
    today = store.queries.replies_since(day_start(sitetime.now()))
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
    unconfirmed = store.replies.unconfirmed()
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
    backlog, backlog_oldest = store.queries.reply_backlog()
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


# ---------------------------------------------------------------------------------- queue


@main.group()
def queue() -> None:
    """Inspect the complaint queue."""


@queue.command("list")
@click.option(
    "--state",
    default=None,
    help="Only this state: queued, sending, retry, ambiguous, dead, delivered, local.",
)
@click.option("--kind", type=KIND_CHOICE, default=None, help="Only this kind of SMS.")
@click.option("--since", type=WHEN, default=None, help="Stored since (2026-11-01, 7d, 12h).")
@click.option("--until", type=WHEN, default=None, help="Stored before this.")
@click.option("--sender", default=None, help="Only from this number (any spelling: 0812.., +62..).")
@click.option(
    "--destination",
    default=None,
    help="Only complaints going to this destination; --state is then their state there.",
)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--show-numbers", is_flag=True, help="Show senders' numbers unmasked.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def queue_list(
    ctx: click.Context,
    state: str | None,
    kind: str | None,
    since: float | None,
    until: float | None,
    sender: str | None,
    destination: str | None,
    limit: int,
    show_numbers: bool,
    as_json: bool,
) -> None:
    """List complaints, newest first. Senders are masked unless --show-numbers.

    A complaint going to several destinations shows the state that most needs an operator
    (dead, then ambiguous, retry, sending, queued; delivered only when delivered everywhere).
    Follow-up SMS that joined a report are counted on it (+N; `queue show` lists them); with
    --state they are listed too, marked with the report they belong to.
    """
    store = open_store(ctx)
    if destination is not None and (problem := unknown_destination(store, destination)):
        fail(problem, EXIT_CONFIG)
    rows = store.queries.list_messages(
        state=state,
        kind=kind,
        since=since,
        until=until,
        sender=sender,
        limit=limit,
        destination=destination,
    )
    for r in rows:
        if not show_numbers:
            r["sender"] = mask_number(r["sender"])
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no complaints" + (f" in state {state}" if state else ""))
        return
    click.echo(f"{'ID':>6}  {'STATE':<10} {'KIND':<10} {'SENDER':<16} {'RECEIVED':<25} TEXT")
    for r in rows:
        text = printable(r["text"])
        if r.get("update_of") is not None:
            text = f"(tambahan #{r['update_of']}) {text}"
        elif r.get("followups"):
            text = f"(+{r['followups']} tambahan) {text}"
        text = text if len(text) <= 50 else text[:47] + "..."
        click.echo(
            f"{r['id']:>6}  {r['state']:<10} {r['kind']:<10} {r['sender']:<16} "
            f"{r['received_at']:<25} {text}"
        )


@queue.command("show")
@click.argument("message_id", type=int)
@click.option("--show-numbers", is_flag=True, help="Show the sender's number unmasked.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def queue_show(ctx: click.Context, message_id: int, show_numbers: bool, as_json: bool) -> None:
    """Show one complaint: the record, its follow-up SMS in order, its raw SMS parts, every
    upstream attempt, replies.

    The raw PDUs carry the sender's number (in semi-octets): shown only with --show-numbers.
    """
    m = open_store(ctx).queries.message(message_id)
    if m is None:
        fail(f"no complaint with id {message_id}", EXIT_ATTENTION)
    if not show_numbers:
        m["sender"] = mask_number(m["sender"])
        for p in m["parts"]:
            p["pdu"] = PDU_HIDDEN
    if as_json:
        emit_json(m)
        return
    for k in (
        "id",
        "key",
        "state",
        "kind",
        "sender",
        "received_at",
        "anonymous",
        "confidential",
        "category",
        "location",
        "location_code",
        "partial",
        "tracking_id",
        "upstream_status",
        "attempts",
        "last_error",
        "update_of",
        "text",
    ):
        value = m.get(k)
        if k == "update_of" and value is None:
            continue  # a report, not a follow-up
        click.echo(f"{k:>13}: {printable(str(value)) if value is not None else '-'}")
    if m.get("update_of") is not None:
        click.echo(f"    (a follow-up of report #{m['update_of']}: sent upstream after it)")
    if m["followups"]:
        click.echo("    followups:")
    for f in m["followups"]:
        click.echo(f"    #{f['id']} {f['received_at']} {f['state']} {printable(f['text'] or '')}")
    click.echo("        parts:")
    for p in m["parts"]:
        click.echo(
            f"    #{p['id']} {p['memory']}:{p['sim_index']} seq={p['concat_seq'] or 1} {p['pdu']}"
        )
    click.echo("   deliveries:")
    for d in m["deliveries"]:
        due = "" if d["state"] == "delivered" else f" next {when(d['next_attempt_at'])}"
        tracking = f" tracking {printable(d['tracking_id'])}" if d["tracking_id"] else ""
        error = f" {printable(d['last_error'])[:100]}" if d["last_error"] else ""
        click.echo(
            f"    {d['destination']}: {d['state']} attempts={d['attempts']}{tracking}{due}{error}"
        )
    click.echo("     attempts:")
    for a in m["attempts_log"]:
        click.echo(
            f"    {when(a['at'])} {a['destination']} {a['outcome']} {a['http_status'] or ''} "
            f"{printable(a['detail'] or '')[:100]}"
        )
    click.echo("      replies:")
    for r in m["replies"]:
        unknown = f" ({r['unconfirmed']} with unknown outcome)" if r["unconfirmed"] else ""
        why = printable(r["reason"] or r["last_error"] or "")
        line = f"    #{r['id']} {r['purpose']} {r['state']} attempts={r['attempts']}{unknown} {why}"
        click.echo(line.rstrip())


# ---------------------------------------------------------------------------------- replay


@main.command()
@click.argument("message_id", type=int, required=False)
@click.option(
    "--state",
    type=click.Choice(sorted(s.value for s in REPLAYABLE)),
    default=None,
    help="Replay every complaint in this state.",
)
@click.option("--since", type=WHEN, default=None, help="Stored since (2026-11-01, 7d, 12h).")
@click.option("--until", type=WHEN, default=None, help="Stored before this.")
@click.option(
    "--destination",
    default=None,
    help="Only the deliveries to this destination (default: every destination's).",
)
@click.option("--yes", is_flag=True, help="Really move them (default: dry run, list only).")
@click.pass_context
def replay(
    ctx: click.Context,
    message_id: int | None,
    state: str | None,
    since: float | None,
    until: float | None,
    destination: str | None,
    yes: bool,
) -> None:
    """Send dead/ambiguous complaints again: back to `queued`, with the same idempotency key.

    Give one MESSAGE_ID, or --state and/or a time range (--since/--until). Without --yes,
    only lists what would move. With --destination, only the deliveries to that destination
    move (another destination that has the complaint already is not sent it again).
    """
    if message_id is None and state is None and since is None and until is None:
        fail("give a MESSAGE_ID, --state (e.g. --state dead) or --since/--until", EXIT_CONFIG)
    store = open_store(ctx)
    if destination is not None and (problem := unknown_destination(store, destination)):
        fail(problem, EXIT_CONFIG)
    ids = store.outbox.replay(
        state=state,
        message_id=message_id,
        since=since,
        until=until,
        now=sitetime.now(),
        dry_run=not yes,
        destination=destination,
    )
    if yes:
        cliaudit.audit(store, "replay", cliaudit.ids(ids), f"{len(ids)} complaint(s)")
    if not ids:
        click.echo("nothing to replay")
        return
    verb = "replayed" if yes else "would replay (add --yes)"
    where = f" to {destination}" if destination else ""
    click.echo(f"{verb}{where}: {len(ids)} complaint(s): {', '.join(map(str, ids))}")


# ---------------------------------------------------------------------------------- export


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write to this new file, mode 0600 (default: standard output). An existing file is "
    "not overwritten without --force; a symlink is never followed.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
@click.option("--state", default=None, help="Only this state (delivered, dead, local, ...).")
@click.option("--kind", type=KIND_CHOICE, default=None, help="Only this kind of SMS.")
@click.option("--since", type=WHEN, default=None, help="Stored since (2026-11-01, 7d, 12h).")
@click.option("--until", type=WHEN, default=None, help="Stored before this.")
@click.option("--show-numbers", is_flag=True, help="Include senders' numbers unmasked.")
@click.pass_context
def export(
    ctx: click.Context,
    fmt: str,
    output: str,
    force: bool,
    state: str | None,
    kind: str | None,
    since: float | None,
    until: float | None,
    show_numbers: bool,
) -> None:
    """Export complaints as CSV (for spreadsheets) or JSON, optionally filtered.

    In CSV, a cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab
    or a carriage return; senders written +62... too) starts with a single quote, so it stays
    text.
    """
    store = open_store(ctx)
    rows = store.queries.export_rows(state=state, kind=kind, since=since, until=until)
    cliaudit.audit(
        store,
        "export",
        f"laporan.{fmt}",
        f"{len(rows)} rows" + (", numbers shown" if show_numbers else ""),
    )
    for r in rows:
        if not show_numbers:
            r["sender"] = mask_number(r["sender"])
    from sms1708.outfile import OutputFileError, private_output

    try:
        with private_output(output, force=force) as out:
            if fmt == "json":
                out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
                return
            w = csv.DictWriter(out, fieldnames=reports.EXPORT_FIELDS, extrasaction="ignore")
            w.writeheader()
            w.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in rows)
    except OutputFileError as e:
        fail(str(e), EXIT_ATTENTION)


# ---------------------------------------------------------------------------------- reparse


@main.command()
@click.option("--since", type=WHEN, default=None, help="Only SMS stored since (2026-11-01, 30d).")
@click.option("--yes", is_flag=True, help="Write the changes (default: show them only).")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_context
def reparse(ctx: click.Context, since: float | None, yes: bool, as_json: bool) -> None:
    """Run the current grammar and tables again over the stored SMS texts.

    For example after adding place names or category words. Shows what would change
    (kind, text, flags, category, location); --yes writes it. Complaints not yet delivered
    go upstream with the new record; delivered ones change only here.
    """
    from sms1708.daemon import grammar_tables
    from sms1708.store.maintenance import RECORD_FIELDS

    try:
        tables = grammar_tables(get_config(ctx))
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    store = open_store(ctx)
    changes: dict[int, dict[str, Any]] = {}
    for row in store.maintenance.records_for_reparse(since=since):
        new = parse_text(row["raw_text"], tables).as_dict()
        new["anonymous"], new["confidential"] = int(new["anonymous"]), int(new["confidential"])
        diff = {k: new[k] for k in RECORD_FIELDS if new[k] != row[k]}
        if diff:
            changes[row["id"]] = diff
            if not as_json:
                for k, v in diff.items():
                    click.echo(f"#{row['id']:<6} {k:<12} {row[k]!r} -> {v!r}")
    if as_json:
        emit_json({str(k): v for k, v in changes.items()})
    if yes and changes:
        store.maintenance.apply_records(changes)
    if yes:
        cliaudit.audit(
            store, "reparse", cliaudit.ids(changes), f"{len(changes)} complaint(s) updated"
        )
    if not as_json:
        verb = "updated" if yes else "would update (add --yes)"
        click.echo(f"{verb}: {len(changes)} complaint(s)")


# ---------------------------------------------------------------------------------- stats


@main.command()
@click.option("--period", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--since", type=WHEN, default=None, help="Received since (2026-11-01, 30d).")
@click.option("--until", type=WHEN, default=None, help="Received before this.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also draw reports per period by kind into FILE.png or FILE.svg.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def stats(
    ctx: click.Context,
    period: str,
    since: float | None,
    until: float | None,
    chart: str | None,
    as_json: bool,
) -> None:
    """Reports per day/week by kind, category and kecamatan; time to upstream delivery;
    replies. For leadership and SP4N-LAPOR! coordinators' reports.
    """
    from sms1708 import reports

    data = reports.load(
        open_store(ctx),
        period="week" if period == "week" else "day",
        since=since,
        until=until,
        tz=sitetime.zone(),
    )
    if chart:
        from sms1708.chart import write_chart

        try:
            written = write_chart(data, chart)
        except ValueError as e:
            fail(str(e), EXIT_CONFIG)
        if not as_json:
            click.echo(f"chart written: {written}")
    if as_json:
        emit_json(reports.as_dict(data))
    else:
        click.echo(reports.render_text(data))


# ---------------------------------------------------------------------------------- maintenance


@main.command()
@click.argument("dest", type=click.Path(dir_okay=False))
@click.pass_context
def backup(ctx: click.Context, dest: str) -> None:
    """Copy the database to DEST with SQLite's backup API (safe while the daemon runs).

    Never copy the .db file with cp while the daemon runs: the WAL would be missing.
    """
    try:
        size = open_store(ctx).maintenance.backup(dest)
    except StoreError as e:
        fail(str(e), EXIT_ATTENTION)
    click.echo(f"backup written: {dest} ({size} bytes, checked, mode 0600)")


@main.command()
@click.option(
    "--days",
    type=float,
    default=None,
    help="Finished complaints older than this many days (default: retention.days).",
)
@click.option(
    "--dead-days",
    type=float,
    default=None,
    help="Dead complaints (never delivered) older than this many days "
    "(default: retention.dead_days).",
)
@click.option("--yes", is_flag=True, help="Really purge (default: dry run, count only).")
@click.pass_context
def purge(ctx: click.Context, days: float | None, dead_days: float | None, yes: bool) -> None:
    """Remove personal data (numbers, texts, raw SMS, error texts) past the retention period.

    Complaints delivered upstream (or handled locally) older than retention.days; dead
    complaints (never delivered) older than the longer retention.dead_days; SMS operators
    sent, upstream attempt details and error texts of the same age. Kind, category, place,
    dates and states stay for statistics. Dry run unless --yes.
    """
    cfg = get_config(ctx)
    keep = days if days is not None else cfg.retention.days
    keep_dead = dead_days if dead_days is not None else max(cfg.retention.dead_days, keep)
    if keep <= 0 or keep_dead <= 0:
        fail("--days and --dead-days must be positive", EXIT_CONFIG)
    store = open_store(ctx)
    now = sitetime.now()
    before, dead_before = now - keep * 86400, now - keep_dead * 86400
    ages = f"older than {keep:g} days, dead ones older than {keep_dead:g} days"
    if not yes:
        ids = store.maintenance.purge_candidates(before=before, dead_before=dead_before)
        dead = len(ids) - len(store.maintenance.purge_candidates(before=before))
        click.echo(
            f"would purge personal data of {len(ids)} complaint(s) ({dead} dead), {ages}"
            " (add --yes)"
        )
        return
    ids = store.maintenance.purge(before=before, dead_before=dead_before, now=now)
    cliaudit.audit(store, "purge", cliaudit.ids(ids), f"{len(ids)} complaint(s), {ages}")
    click.echo(f"purged personal data of {len(ids)} complaint(s), {ages}")


# ---------------------------------------------------------------------------------- check


@main.command()
@click.option(
    "--modem/--no-modem",
    "probe",
    default=True,
    help="Also talk to the configured modem(s) (default: yes).",
)
@click.option(
    "--port",
    default=None,
    help="Try this serial port instead of modem.port (to find the right ttyUSB of a stick).",
)
@click.option("--baudrate", type=int, default=None, help="With --port: this baud rate.")
@click.pass_context
def check(ctx: click.Context, probe: bool, port: str | None, baudrate: int | None) -> None:
    """Check the configuration and, with a modem attached, the modem and SIM.

    Prints one line per check with PASS or FAIL and what to do. Exit code 1 on any FAIL.
    Stop the daemon first: only one program can use the modem's port.

    \b
    Which port of a Huawei stick is the right one?
      for p in /dev/serial/by-id/*; do sms1708 check --port "$p"; done
    """
    import dataclasses

    from sms1708.diagnose import run_checks

    cfg = get_config(ctx)
    if port:
        first = dataclasses.replace(cfg.modem, port=port, baudrate=baudrate or cfg.modem.baudrate)
        cfg = dataclasses.replace(cfg, modems=(first,))
    pins = _pin_book(cfg) if probe else None
    try:
        results = run_checks(cfg, probe_modem=probe, pins=pins)
    finally:
        if pins is not None and pins.store is not None:
            pins.store.close()
    failed = False
    for r in results:
        # details quote the modem's and the upstream's own answers: printed without controls
        click.echo(f"{'PASS' if r.ok else 'FAIL'}  {r.name}: {printable(r.detail)}")
        if not r.ok:
            failed = True
            if r.hint:
                click.echo(f"      -> {printable(r.hint)}")
    sys.exit(EXIT_ATTENTION if failed else 0)


def _pin_book(cfg: config.Config) -> Any:
    """The store where refused SIM PINs are recorded (shared with the daemon).

    A missing database is created (as the daemon would); created by root, it is handed to the
    owner of its folder (the daemon's user owns /var/lib/sms1708), so a `sudo sms1708 check`
    never locks the daemon out. SQLite gives its -wal/-shm files the database's owner. Without
    a database, `check` enters no PIN at all (see diagnose.PinBook).
    """
    from sms1708.diagnose import PinBook
    from sms1708.store.store import Store

    path = Path(cfg.store.path)
    created = not path.exists()
    try:
        store = Store.open(path, create=True)
        if created and os.geteuid() == 0:
            folder = path.parent.stat()
            os.chown(path, folder.st_uid, folder.st_gid)
        return PinBook(store)
    except (StoreError, OSError) as e:
        return PinBook(None, f"cannot open {path}: {e}")


# ---------------------------------------------------------------------------------- block


def operator_name() -> str:
    """Who runs this command, for the record (the sudo caller where there is one)."""
    import getpass
    import os

    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def phone_number_arg(number: str) -> str:
    number = number.strip()
    digits = sum(c.isdigit() for c in number)
    if digits < 6 or any(c not in "+0123456789 -.()/" for c in number):
        fail(f"{number!r} is not a phone number (e.g. +6281234567890 or 081234567890)", EXIT_CONFIG)
    return number


@main.command()
@click.argument("number")
@click.option("--reason", default="", help="Why (kept with the entry, shown by `blocked`).")
@click.pass_context
def block(ctx: click.Context, number: str, reason: str) -> None:
    """Never send an SMS to NUMBER again (receipts, tracking ids, status texts, `send`).

    The number's own SMS are still received, stored and forwarded: a citizen's report is
    never refused. Any spelling works: +62812..., 62812..., 0812... are one number.
    """
    number = phone_number_arg(number)
    store = open_store(ctx, create=True)
    was = store.blocked.is_blocked(number)
    store.blocked.block(number, by=operator_name(), reason=reason, now=sitetime.now())
    cliaudit.audit(store, "block_number", mask_number(number), reason)
    click.echo(f"{mask_number(number)} {'was already' if was else 'is now'} blocked")


@main.command()
@click.argument("number")
@click.pass_context
def unblock(ctx: click.Context, number: str) -> None:
    """Allow SMS to NUMBER again. Exit code 1 when it was not blocked."""
    number = phone_number_arg(number)
    store = open_store(ctx)
    if not store.blocked.unblock(number, by=operator_name(), now=sitetime.now()):
        fail(f"{mask_number(number)} was not blocked", EXIT_ATTENTION)
    cliaudit.audit(store, "unblock_number", mask_number(number))
    click.echo(f"{mask_number(number)} is no longer blocked")


@main.command()
@click.option("--show-numbers", is_flag=True, help="Show the numbers unmasked.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def blocked(ctx: click.Context, show_numbers: bool, as_json: bool) -> None:
    """List blocked numbers (masked unless --show-numbers), with who blocked them and why."""
    rows = [
        {
            "number": b.number if show_numbers else mask_number(b.number),
            "blocked_at": b.blocked_at,
            "by": b.by,
            "reason": b.reason,
        }
        for b in open_store(ctx).blocked.numbers()
    ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no blocked numbers")
        return
    click.echo(f"{'NUMBER':<18} {'BLOCKED AT':<20} {'BY':<12} REASON")
    for r in rows:
        click.echo(f"{r['number']:<18} {when(r['blocked_at']):<20} {r['by']:<12} {r['reason']}")


# ---------------------------------------------------------------------------------- send


@main.command()
@click.argument("number")
@click.argument("text")
@click.option("--modem", "modem_name", default=None, help="Which modem sends it (default: first).")
@click.option(
    "--force",
    is_flag=True,
    help="Queue it past the per-number limit, the daily budget and the loop guard (recorded "
    "with your name and logged). Never past a blocked number, the block list, the own number.",
)
@click.pass_context
def send(ctx: click.Context, number: str, text: str, modem_name: str | None, force: bool) -> None:
    """Queue an SMS to NUMBER; the running daemon sends it on the next loop.

    It passes the same guards as every SMS the gateway sends (rate limit per number, daily
    budget, loop guard, block list, blocked numbers, the SIM's hourly ceiling). When a guard
    refuses it, nothing is sent, the refusal is recorded, and the exit code is 1.
    """
    from sms1708.core.gate import Outgoing
    from sms1708.core.pdu import encode_submit, segments
    from sms1708.errors import PduEncodeError

    cfg = get_config(ctx)
    names = [m.name for m in cfg.modems]
    name = modem_name or names[0]
    if name not in names:
        fail(f"no modem named {name!r} (configured: {', '.join(names)})", EXIT_CONFIG)
    number = "".join(c for c in number.strip() if c not in " -.()/")
    try:
        encode_submit(number, text)
    except PduEncodeError as e:
        fail(f"cannot send: {e}", EXIT_CONFIG)
    by = operator_name()
    out = Outgoing(name, number, text, "operator")
    store = open_store(ctx, create=True)
    queued = store.replies.queue(
        out, guard=cfg.replies.guard(), now=sitetime.now(), force=force, by=by
    )
    cliaudit.audit(store, "send", mask_number(number), cliaudit.sent(queued))
    if queued.refused:
        hint = ""
        if queued.refused in COUNTED_GUARDS:
            hint = "; add --force to send it anyway (recorded with your name)"
        elif queued.refused == "blocked number":
            hint = "; `sms1708 unblock` it first if it should get SMS again"
        fail(
            f"not sent to {mask_number(number)}: {queued.refused} "
            f"(recorded as suppressed reply #{queued.reply_id}){hint}",
            EXIT_ATTENTION,
        )
    if queued.overridden:
        setup_logging(ctx)
        logsetup.get_logger("sms1708.cli").warning(
            "operator_send_forced",
            reply_id=queued.reply_id,
            recipient=number,
            guard=queued.overridden,
            by=by,
        )
        click.echo(f"past the guard '{queued.overridden}' (--force, recorded)")
    click.echo(
        f"queued reply #{queued.reply_id} to {mask_number(number)} on {name} "
        f"({segments(text)} SMS part(s)); `sms1708 run` sends it"
    )


def _register_commands() -> None:
    """Command groups that live in their own modules."""
    from sms1708.cli_followups import detach
    from sms1708.cli_lapor import lapor
    from sms1708.cli_places import places
    from sms1708.web.cli import user, web

    main.add_command(places)
    main.add_command(lapor)
    main.add_command(detach)
    main.add_command(web)
    main.add_command(user)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
