"""``sms1708 block``, ``unblock`` and ``blocked``: numbers the gateway never sends to."""

from __future__ import annotations

import click

from sms1708 import sitetime
from sms1708.cli import audit as cliaudit
from sms1708.cli.common import (
    EXIT_ATTENTION,
    emit_json,
    fail,
    open_store,
    operator_name,
    phone_number_arg,
    when,
)
from sms1708.core.mask import mask_number


@click.command()
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


@click.command()
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


@click.command()
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
