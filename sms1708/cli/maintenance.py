"""``sms1708 backup`` and ``purge``: a safe copy of the database, and retention."""

from __future__ import annotations

import click

from sms1708 import retention, sitetime
from sms1708.cli import audit as cliaudit
from sms1708.cli.common import (
    EXIT_ATTENTION,
    EXIT_CONFIG,
    fail,
    get_config,
    open_store,
)
from sms1708.errors import StoreError


@click.command()
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


@click.command()
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
    try:
        w = retention.window(get_config(ctx).retention, days, dead_days)
    except ValueError as e:
        fail(str(e), EXIT_CONFIG)
    store = open_store(ctx)
    now = sitetime.now()
    if not yes:
        n, dead = retention.preview(store, w, now)
        click.echo(
            f"would purge personal data of {n} complaint(s) ({dead} dead), {w.describe()}"
            " (add --yes)"
        )
        return
    before, dead_before = w.cutoffs(now)
    ids = store.maintenance.purge(before=before, dead_before=dead_before, now=now)
    cliaudit.audit(store, "purge", cliaudit.ids(ids), f"{len(ids)} complaint(s), {w.describe()}")
    click.echo(f"purged personal data of {len(ids)} complaint(s), {w.describe()}")
