"""``sms1708 queue list`` and ``queue show``: the complaints and one complaint in full."""

from __future__ import annotations

import click

from sms1708.cli.common import (
    EXIT_ATTENTION,
    EXIT_CONFIG,
    KIND_CHOICE,
    WHEN,
    emit_json,
    fail,
    open_store,
    when,
)
from sms1708.core.cells import printable
from sms1708.core.mask import mask_number
from sms1708.destinations import unknown_destination

PDU_HIDDEN = "(hidden: holds the sender's number; --show-numbers shows it)"


@click.group()
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
    rows = store.list_messages(
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
    m = open_store(ctx).message(message_id)
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
