"""``sms1708 replay``: dead or ambiguous complaints sent again, with the same key."""

from __future__ import annotations

import click

from sms1708 import sitetime
from sms1708.cli import audit as cliaudit
from sms1708.cli.common import (
    EXIT_CONFIG,
    WHEN,
    fail,
    open_store,
    require_destination,
)
from sms1708.core.states import REPLAYABLE


@click.command()
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
    require_destination(store, destination)
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
