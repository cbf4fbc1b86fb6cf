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
    from sms1708 import operator_sms
    from sms1708.core.pdu import segments

    cfg = get_config(ctx)
    try:
        name = operator_sms.modem_name(cfg, modem_name)
        number = operator_sms.dialled(number)
        operator_sms.check(number, text)
    except operator_sms.NotSendable as e:
        fail(str(e), EXIT_CONFIG)
    by = operator_name()
    store = open_store(ctx, create=True)
    queued = operator_sms.queue(
        store, cfg, modem=name, number=number, text=text, now=sitetime.now(), force=force, by=by
    )
    cliaudit.audit(store, "send", mask_number(number), cliaudit.sent(queued))
    if queued.refused:
        fail(
            f"not sent to {mask_number(number)}: {queued.refused} "
            f"(recorded as suppressed reply #{queued.reply_id})"
            + operator_sms.refusal_hint(queued.refused),
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
