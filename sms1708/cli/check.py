"""``sms1708 check``: the configuration, and the modem and SIM where one is attached."""

from __future__ import annotations

import sys

import click

from sms1708.cli.common import (
    EXIT_ATTENTION,
    get_config,
)
from sms1708.core.cells import printable


@click.command()
@click.option(
    "--modem/--no-modem",
    "probe",
    default=True,
    help="Also talk to the configured modem(s) (default: yes).",
)
@click.option(
    "--port",
    default=None,
    help="Try this serial port instead of modem.port (to find the right ttyUSB of a stick).",
)
@click.option("--baudrate", type=int, default=None, help="With --port: this baud rate.")
@click.pass_context
def check(ctx: click.Context, probe: bool, port: str | None, baudrate: int | None) -> None:
    """Check the configuration and, with a modem attached, the modem and SIM.

    Prints one line per check with PASS or FAIL and what to do. Exit code 1 on any FAIL.
    Stop the daemon first: only one program can use the modem's port.

    \b
    Which port of a Huawei stick is the right one?
      for p in /dev/serial/by-id/*; do sms1708 check --port "$p"; done
    """
    from sms1708.diagnose import PinBook, run_checks, with_port

    cfg = get_config(ctx)
    if port:
        cfg = with_port(cfg, port, baudrate)
    pins = PinBook.open(cfg.store.path) if probe else None
    try:
        results = run_checks(cfg, probe_modem=probe, pins=pins)
    finally:
        if pins is not None:
            pins.close()
    failed = False
    for r in results:
        # details quote the modem's and the upstream's own answers: printed without controls
        click.echo(f"{'PASS' if r.ok else 'FAIL'}  {r.name}: {printable(r.detail)}")
        if not r.ok:
            failed = True
            if r.hint:
                click.echo(f"      -> {printable(r.hint)}")
    sys.exit(EXIT_ATTENTION if failed else 0)
