"""``sms1708 run``, ``demo`` and ``simulate``: the gateway, the whole pipeline on an emulated
modem, and the emulated modem alone."""

from __future__ import annotations

import os
import sys

import click

from sms1708.cli.common import (
    EXIT_ATTENTION,
    EXIT_CONFIG,
    EXIT_STORE,
    fail,
    get_config,
    setup_logging,
)
from sms1708.errors import ConfigError, StoreDamagedError, StoreError


@click.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the gateway in the foreground (for systemd or a terminal).

    Reads SMS from the configured modem(s), stores them, answers citizens and forwards
    complaints upstream. SIGTERM or Ctrl-C stops it cleanly.
    """
    import signal

    # a stop during start-up (nothing is running yet) is a clean exit too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from sms1708 import daemon

    cfg = get_config(ctx)
    setup_logging(ctx)
    try:
        code = daemon.run(cfg)
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    except StoreDamagedError as e:
        fail(f"{e}. Refusing to start; the file was left untouched.", EXIT_STORE)
    except StoreError as e:
        fail(f"cannot open the database: {e}", EXIT_STORE)
    sys.exit(code)


@click.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the demo's database and config in this folder (default: a temp dir).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the daemon's log lines here instead of hiding them.",
)
@click.pass_context
def demo(ctx: click.Context, keep: str | None, log_file: str | None) -> None:
    """Run the whole pipeline on the built-in emulated modem, then print a summary.

    Scripted citizens text the emulated modem; the daemon stores, answers and forwards to a
    local upstream stand-in on 127.0.0.1, which goes down for a while and comes back. Ends by
    itself in under a minute. Exit code 0 when every SMS was answered and delivered.
    """
    from sms1708.demo import run_demo

    ok = run_demo(keep=keep, log_file=log_file, echo=click.echo)
    sys.exit(0 if ok else EXIT_ATTENTION)


@click.command()
@click.option(
    "--link",
    type=click.Path(dir_okay=False),
    default="/tmp/sms1708-modem",
    show_default=True,
    help="Where to put the symlink to the emulated modem's port.",
)
@click.option(
    "--pin-env",
    metavar="NAME",
    default=None,
    help="Make the emulated SIM ask for a PIN, read from the environment variable NAME "
    "(a PIN on the command line would show in `ps` and the shell history).",
)
@click.option("--pin", "pin_argv", default=None, hidden=True)
@click.option(
    "--baud",
    type=int,
    default=None,
    help="Pace the line like a real serial port at this baud rate.",
)
@click.option(
    "--sms",
    nargs=2,
    metavar="SENDER TEXT",
    default=None,
    help="Do not start a modem: send this SMS to the simulator already running on --link.",
)
def simulate(
    link: str,
    pin_env: str | None,
    pin_argv: str | None,
    baud: int | None,
    sms: tuple[str, str] | None,
) -> None:
    """Start the built-in emulated GSM modem on a pseudo-terminal, for training and trials.

    Point `modem.port` of a config at the printed path and run `sms1708 run` in another
    terminal. Then type here, e.g.:

    \b
      sms +6281234567890 LAPOR jalan rusak di desa Tanjung
      list      (what is stored on the emulated SIM)
      sent      (replies the gateway sent)
      unplug / replug
      help

    From a second terminal: sms1708 simulate --sms +6281234567890 "LAPOR jalan rusak"
    """
    import threading

    from sms1708.modem.emulator import EmulatedModem
    from sms1708.modem.emulator.console import control_path, send_control, serve_control

    if sms is not None:
        try:
            click.echo(send_control(control_path(link), f"sms {sms[0]} {sms[1]}"))
        except OSError as e:
            fail(
                f"no simulator listening on {control_path(link)} ({e}); start one with "
                f"`sms1708 simulate --link {link}`",
                EXIT_ATTENTION,
            )
        return
    if pin_argv is not None:
        fail(
            "--pin is gone: a PIN on the command line shows in `ps` and the shell history. "
            "Put it in an environment variable and name that: "
            "SIM_PIN=1234 sms1708 simulate --pin-env SIM_PIN",
            2,
        )
    pin = None
    if pin_env is not None:
        pin = os.environ.get(pin_env, "")
        if not pin:
            fail(f"--pin-env {pin_env}: the environment variable {pin_env} is not set", 2)
    modem = EmulatedModem(link, pin=pin, baudrate=baud)
    modem.start()
    stop = threading.Event()
    serve_control(modem, control_path(link), stop)
    click.echo(f"emulated modem ready on {modem.port}  (Ctrl-D or 'quit' to stop)")
    if pin_env is not None:
        click.echo(f"the emulated SIM asks for the PIN in ${pin_env}")
    click.echo(f"from another terminal: sms1708 simulate --link {link} --sms SENDER TEXT")
    try:
        for line in sys.stdin:
            line = line.strip()
            if line in ("quit", "exit"):
                break
            if line:
                click.echo(modem.handle_control_line(line))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        modem.stop()
