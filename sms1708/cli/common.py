"""What every command shares: the exit codes, one-line failures, the config and the Store of
this invocation, JSON output, dates as the site reads them, the operator's name."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any, NoReturn

import click

from sms1708 import config, logsetup, sitetime
from sms1708.errors import ConfigError, StoreDamagedError, StoreError
from sms1708.timetext import ago, when

__all__ = [
    "EXIT_ATTENTION",
    "EXIT_CONFIG",
    "EXIT_STORE",
    "KIND_CHOICE",
    "WHEN",
    "ago",
    "emit_json",
    "fail",
    "get_config",
    "open_store",
    "operator_name",
    "phone_number_arg",
    "require_destination",
    "setup_logging",
    "when",
]

EXIT_ATTENTION = 1
EXIT_CONFIG = 2
EXIT_STORE = 3


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"sms1708: {message}", err=True)
    sys.exit(code)


def get_config(ctx: click.Context) -> config.Config:
    obj = ctx.find_root().obj
    if "config" not in obj:
        try:
            obj["config"] = config.load(obj["config_path"])
        except ConfigError as e:
            fail(str(e), EXIT_CONFIG)
    cfg: config.Config = obj["config"]
    if "site" not in obj:  # the site's zone, and the daemon's clock correction
        from sms1708.health import latest_status

        obj["site"] = True
        sitetime.use(cfg, latest_status(cfg.daemon.status_file, cfg.store.path))
    return cfg


def open_store(ctx: click.Context, *, create: bool = False) -> Any:
    from sms1708.store.store import Store

    cfg = get_config(ctx)
    try:
        return Store.open(cfg.store.path, create=create)
    except StoreDamagedError as e:
        fail(f"{e}. The file was left untouched; restore a backup or move it aside.", EXIT_STORE)
    except StoreError as e:
        fail(str(e), EXIT_STORE)


def require_destination(store: Any, destination: str | None) -> None:
    """Refuse (exit 2) a --destination no complaint goes to: a typo, named with the known ones."""
    from sms1708.destinations import unknown_destination

    if destination is not None and (problem := unknown_destination(store, destination)):
        fail(problem, EXIT_CONFIG)


def setup_logging(ctx: click.Context) -> None:
    cfg = get_config(ctx)
    logsetup.setup(ctx.find_root().obj.get("log_format") or cfg.log.format, cfg.log.level)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


class When(click.ParamType[float]):
    """A point in time: ``2026-11-01``, ``2026-11-01T08:00``, or an age like ``7d``, ``12h``."""

    name = "when"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        if ctx is not None and ctx.find_root().obj is not None:
            get_config(ctx)  # the site's zone and clock before a date is read
        text = str(value).strip()
        units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
        if text[:-1].isdigit() and text[-1:] in units:
            return sitetime.now() - int(text[:-1]) * units[text[-1]]
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is not a date (2026-11-01), a time (2026-11-01T08:00) "
                "or an age (7d, 12h)",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=sitetime.zone())  # the site's time
        return moment.timestamp()


WHEN = When()
KIND_CHOICE = click.Choice(["pengaduan", "aspirasi", "informasi", "status", "bantuan"])


def operator_name() -> str:
    """Who runs this command, for the record (the sudo caller where there is one)."""
    import getpass
    import os

    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def phone_number_arg(number: str) -> str:
    number = number.strip()
    digits = sum(c.isdigit() for c in number)
    if digits < 6 or any(c not in "+0123456789 -.()/" for c in number):
        fail(f"{number!r} is not a phone number (e.g. +6281234567890 or 081234567890)", EXIT_CONFIG)
    return number
