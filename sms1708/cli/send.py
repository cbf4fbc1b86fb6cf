"""``sms1708 send``: an operator's SMS, through the same guards as every SMS the gateway sends."""

from __future__ import annotations

import click

from sms1708 import logsetup, sitetime
from sms1708.cli import audit as cliaudit
from sms1708.cli.common import (
    EXIT_ATTENTION,
    EXIT_CONFIG,
    fail,
    get_config,
    open_store,
    operator_name,
    setup_logging,
)
from sms1708.core.gate import COUNTED_GUARDS
from sms1708.core.mask import mask_number


@click.command()
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
    queued = store.queue_sms(out, guard=cfg.replies.guard(), now=sitetime.now(), force=force, by=by)
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
