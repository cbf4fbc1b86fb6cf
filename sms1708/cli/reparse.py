"""``sms1708 parse`` and ``reparse``: what the grammar makes of an SMS, and of the stored ones
again."""

from __future__ import annotations

from typing import Any

import click

from sms1708.cli import audit as cliaudit
from sms1708.cli.common import (
    EXIT_CONFIG,
    WHEN,
    emit_json,
    fail,
    get_config,
    open_store,
)
from sms1708.core.grammar import parse as parse_text
from sms1708.errors import ConfigError


@click.command()
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


@click.command()
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
    from sms1708 import reparse as rereading
    from sms1708.daemon import grammar_tables

    try:
        tables = grammar_tables(get_config(ctx))
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    store = open_store(ctx)
    changes: dict[int, dict[str, Any]] = {}
    for change in rereading.changes(store.maintenance.records_for_reparse(since=since), tables):
        changes[change.message_id] = change.after
        if not as_json:
            for line in change.lines():
                click.echo(line)
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
