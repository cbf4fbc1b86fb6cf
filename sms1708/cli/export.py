"""``sms1708 export`` and ``stats``: complaints for spreadsheets, and figures for reports."""

from __future__ import annotations

import click

from sms1708 import export as writing
from sms1708 import queueview, reports, sitetime
from sms1708.cli import audit as cliaudit
from sms1708.cli.common import (
    EXIT_ATTENTION,
    EXIT_CONFIG,
    KIND_CHOICE,
    WHEN,
    emit_json,
    fail,
    open_store,
)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write to this new file, mode 0600 (default: standard output). An existing file is "
    "not overwritten without --force; a symlink is never followed.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --output file.")
@click.option("--state", default=None, help="Only this state (delivered, dead, local, ...).")
@click.option("--kind", type=KIND_CHOICE, default=None, help="Only this kind of SMS.")
@click.option("--since", type=WHEN, default=None, help="Stored since (2026-11-01, 7d, 12h).")
@click.option("--until", type=WHEN, default=None, help="Stored before this.")
@click.option("--show-numbers", is_flag=True, help="Include senders' numbers unmasked.")
@click.pass_context
def export(
    ctx: click.Context,
    fmt: str,
    output: str,
    force: bool,
    state: str | None,
    kind: str | None,
    since: float | None,
    until: float | None,
    show_numbers: bool,
) -> None:
    """Export complaints as CSV (for spreadsheets) or JSON, optionally filtered.

    In CSV, a cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab
    or a carriage return; senders written +62... too) starts with a single quote, so it stays
    text.
    """
    store = open_store(ctx)
    rows = store.queries.export_rows(state=state, kind=kind, since=since, until=until)
    cliaudit.audit(
        store,
        "export",
        f"laporan.{fmt}",
        f"{len(rows)} rows" + (", numbers shown" if show_numbers else ""),
    )
    if not show_numbers:
        queueview.mask_senders(rows)
    from sms1708.outfile import OutputFileError, private_output

    try:
        with private_output(output, force=force) as out:
            writing.write(out, rows, fmt)
    except OutputFileError as e:
        fail(str(e), EXIT_ATTENTION)


@click.command()
@click.option("--period", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--since", type=WHEN, default=None, help="Received since (2026-11-01, 30d).")
@click.option("--until", type=WHEN, default=None, help="Received before this.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also draw reports per period by kind into FILE.png or FILE.svg.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def stats(
    ctx: click.Context,
    period: str,
    since: float | None,
    until: float | None,
    chart: str | None,
    as_json: bool,
) -> None:
    """Reports per day/week by kind, category and kecamatan; time to upstream delivery;
    replies. For leadership and SP4N-LAPOR! coordinators' reports.
    """
    data = reports.load(
        open_store(ctx),
        period="week" if period == "week" else "day",
        since=since,
        until=until,
        tz=sitetime.zone(),
    )
    if chart:
        from sms1708.chart import write_chart

        try:
            written = write_chart(data, chart)
        except ValueError as e:
            fail(str(e), EXIT_CONFIG)
        if not as_json:
            click.echo(f"chart written: {written}")
    if as_json:
        emit_json(reports.as_dict(data))
    else:
        click.echo(reports.render_text(data))
