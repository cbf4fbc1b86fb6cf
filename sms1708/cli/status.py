"""``sms1708 status``: the gateway at a glance, and its alarms (exit code 1 on any)."""

from __future__ import annotations

import sys

import click

from sms1708.cli.common import (
    EXIT_ATTENTION,
    emit_json,
    get_config,
    open_store,
)


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
    from sms1708 import status as report

    data = report.report(report.gather(get_config(ctx), open_store(ctx)))
    if as_json:
        emit_json(data)
    else:
        for line in report.render_text(data):
            click.echo(line)
    sys.exit(EXIT_ATTENTION if data["alarms"] else 0)
