"""``sms1708 detach``: make a wrongly attached follow-up SMS a report of its own."""

from __future__ import annotations

import click

from sms1708 import logsetup, sitetime
from sms1708.cli.common import (
    EXIT_ATTENTION,
    EXIT_CONFIG,
    fail,
    get_config,
    open_store,
    operator_name,
    setup_logging,
)
from sms1708.errors import ConfigError


@click.command("detach")
@click.argument("message_id", type=int)
@click.option("--yes", is_flag=True, help="Really detach it (default: dry run, show only).")
@click.pass_context
def detach(ctx: click.Context, message_id: int, yes: bool) -> None:
    """Detach a follow-up SMS from the report it joined: it becomes a report of its own.

    Its whole SMS is read again by the grammar; it gets a fresh idempotency key and goes
    upstream as a new report (not as an update) on the normal queue. The report it was
    attached to is not changed upstream. Without --yes nothing changes (dry run). The action
    is written to the audit log (the console's `/audit`) and the log, with the operator's name.
    """
    from sms1708.daemon import grammar_tables

    try:
        cfg = get_config(ctx)
        tables = grammar_tables(cfg)
        routing = cfg.upstream.routing()
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    store = open_store(ctx)
    try:
        d = store.followups.detach(
            message_id, tables=tables, routing=routing, now=sitetime.now(), dry_run=not yes
        )
    except (LookupError, ValueError) as e:
        fail(str(e.args[0]), EXIT_ATTENTION)
    what = f"a report of its own ({d.kind})" + ("" if d.forwarded else ", handled locally")
    if not yes:
        click.echo(
            f"would detach SMS #{d.message_id} from report #{d.report_id}: it would become "
            f"{what}, forwarded with a new key. Add --yes to do it."
        )
        return
    by = operator_name()
    store.accounts.audit(
        f"cli:{by}",
        "detach",
        now=sitetime.now(),
        target=f"laporan {d.message_id}",
        detail=f"from laporan {d.report_id}, now {d.kind}",
    )
    setup_logging(ctx)
    logsetup.get_logger("sms1708.cli").warning(
        "operator_detached_followup",
        message_id=d.message_id,
        report_id=d.report_id,
        kind=d.kind,
        forwarded=d.forwarded,
        by=by,
    )
    tail = "; `sms1708 run` forwards it" if d.forwarded else ""
    click.echo(f"detached SMS #{d.message_id} from report #{d.report_id}: now {what}{tail}")
