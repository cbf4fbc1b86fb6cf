"""The ``sms1708`` command: a thin click layer over the library, one module per command group.

Exit codes: 0 fine; 1 something needs attention (or a command failed); 2 bad usage or bad
configuration (one line naming the key and the problem); 3 the database cannot be used.
"""

from __future__ import annotations

import click

from sms1708 import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (TOML). Default: $SMS1708_CONFIG, else /etc/sms1708/sms1708.toml, "
    "else built-in defaults.",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default=None,
    help="Log format (default: from the config; auto = console on a terminal).",
)
@click.version_option(__version__, prog_name="sms1708")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_format: str | None) -> None:
    """sms1708: an SMS complaint gateway for SP4N-LAPOR! and regional complaint systems.

    Citizens text a GSM modem; every SMS is stored in SQLite before it leaves the SIM, turned
    into a complaint record, answered, and forwarded upstream when the link is up.

    Start with `sms1708 demo` to see the whole pipeline on an emulated modem.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["log_format"] = log_format


def _register_commands() -> None:
    """Every command, from the module of its group."""
    from sms1708.cli import (
        block,
        check,
        export,
        followups,
        lapor,
        maintenance,
        places,
        queue,
        reparse,
        replay,
        run,
        send,
        status,
    )
    from sms1708.web.cli import user, web

    for command in (
        run.run,
        run.demo,
        run.simulate,
        reparse.parse,
        status.status,
        queue.queue,
        replay.replay,
        export.export,
        reparse.reparse,
        export.stats,
        maintenance.backup,
        maintenance.purge,
        check.check,
        block.block,
        block.unblock,
        block.blocked,
        send.send,
        places.places,
        lapor.lapor,
        followups.detach,
        web,
        user,
    ):
        main.add_command(command)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
