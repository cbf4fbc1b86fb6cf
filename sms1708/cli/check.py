"""``sms1708 check``: the configuration, and the modem and SIM where one is attached."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from sms1708 import config
from sms1708.cli.common import (
    EXIT_ATTENTION,
    get_config,
)
from sms1708.core.cells import printable
from sms1708.errors import StoreError


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
    import dataclasses

    from sms1708.diagnose import run_checks

    cfg = get_config(ctx)
    if port:
        first = dataclasses.replace(cfg.modem, port=port, baudrate=baudrate or cfg.modem.baudrate)
        cfg = dataclasses.replace(cfg, modems=(first,))
    pins = _pin_book(cfg) if probe else None
    try:
        results = run_checks(cfg, probe_modem=probe, pins=pins)
    finally:
        if pins is not None and pins.store is not None:
            pins.store.close()
    failed = False
    for r in results:
        # details quote the modem's and the upstream's own answers: printed without controls
        click.echo(f"{'PASS' if r.ok else 'FAIL'}  {r.name}: {printable(r.detail)}")
        if not r.ok:
            failed = True
            if r.hint:
                click.echo(f"      -> {printable(r.hint)}")
    sys.exit(EXIT_ATTENTION if failed else 0)


def _pin_book(cfg: config.Config) -> Any:
    """The store where refused SIM PINs are recorded (shared with the daemon).

    A missing database is created (as the daemon would); created by root, it is handed to the
    owner of its folder (the daemon's user owns /var/lib/sms1708), so a `sudo sms1708 check`
    never locks the daemon out. SQLite gives its -wal/-shm files the database's owner. Without
    a database, `check` enters no PIN at all (see diagnose.PinBook).
    """
    from sms1708.diagnose import PinBook
    from sms1708.store.store import Store

    path = Path(cfg.store.path)
    created = not path.exists()
    try:
        store = Store.open(path, create=True)
        if created and os.geteuid() == 0:
            folder = path.parent.stat()
            os.chown(path, folder.st_uid, folder.st_gid)
        return PinBook(store)
    except (StoreError, OSError) as e:
        return PinBook(None, f"cannot open {path}: {e}")
