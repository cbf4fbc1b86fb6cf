"""``sms1708 queue list`` and ``queue show``: the complaints and one complaint in full."""

from __future__ import annotations

import click

from sms1708 import queueview
from sms1708.cli.common import (
    EXIT_ATTENTION,
    KIND_CHOICE,
    WHEN,
    emit_json,
    fail,
    open_store,
    require_destination,
)


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
    require_destination(store, destination)
    rows = store.queries.list_messages(
        state=state,
        kind=kind,
        since=since,
        until=until,
        sender=sender,
        limit=limit,
        destination=destination,
    )
    if not show_numbers:
        queueview.mask_senders(rows)
    if as_json:
        emit_json(rows)
        return
    for line in queueview.list_lines(rows, state):
        click.echo(line)


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
        queueview.hide_numbers(m)
    if as_json:
        emit_json(m)
        return
    for line in queueview.show_lines(m):
        click.echo(line)
