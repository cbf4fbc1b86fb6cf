"""`sms1708 web` and `sms1708 user ...`: the console's commands (registered in sms1708/cli/)."""

from __future__ import annotations

import getpass
import os
import sys
import time

import click

from sms1708.errors import StoreDamagedError, StoreError
from sms1708.store.accounts import ROLES


def _actor() -> str:
    try:
        who = getpass.getuser()
    except Exception:  # no passwd entry (a container)
        who = str(os.getuid())
    return f"cli:{who}"


@click.command()
@click.option("--listen", default=None, help="HOST:PORT (default: web.listen, 127.0.0.1:8708).")
@click.pass_context
def web(ctx: click.Context, listen: str | None) -> None:
    """Serve the operator console (its own process; the daemon keeps the modem).

    Open http://127.0.0.1:8708/ on the box, or put it behind a TLS reverse proxy for the
    office LAN (deploy/README.md). Create an account first: sms1708 user add NAME --role admin
    """
    from sms1708.cli import common as cli
    from sms1708.web.server import serve

    cfg = cli.get_config(ctx)
    cli.setup_logging(ctx)
    try:
        code = serve(cfg, listen)
    except StoreDamagedError as e:
        cli.fail(f"{e}. Refusing to start; the file was left untouched.", cli.EXIT_STORE)
    except StoreError as e:
        cli.fail(f"cannot open the database: {e}", cli.EXIT_STORE)
    except OSError as e:
        cli.fail(f"cannot listen on {listen or cfg.web.listen}: {e}", cli.EXIT_CONFIG)
    sys.exit(code)


@click.group()
def user() -> None:
    """Console accounts: add, passwd, disable, enable, list."""


def read_password(from_stdin: bool) -> str:
    from sms1708.cli import common as cli
    from sms1708.web.passwords import weakness

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    why = weakness(password)
    if why:
        cli.fail(f"password refused: {why}", cli.EXIT_CONFIG)
    return password


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create a console account NAME.

    \b
    viewer:   sees pages (numbers masked), downloads exports
    operator: also replays, replies, corrects, reveals numbers, blocks numbers
    admin:    also reads the audit log
    """
    from sms1708.cli import common as cli
    from sms1708.web.passwords import hash_password

    if (
        not name
        or len(name) > 64
        or not name.replace("-", "").replace(".", "").replace("_", "").isalnum()
    ):
        cli.fail("a name is letters, digits, '.', '-' or '_' (at most 64)", cli.EXIT_CONFIG)
    password = read_password(password_stdin)
    store = cli.open_store(ctx, create=True)
    now = time.time()
    try:
        store.accounts.create_user(name, role, hash_password(password), now=now)
    except StoreError as e:
        cli.fail(str(e), cli.EXIT_ATTENTION)
    store.accounts.audit(_actor(), "user_add", now=now, target=name, detail=f"role {role}")
    click.echo(f"account {name} created ({role})")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (its open sessions end)."""
    from sms1708.cli import common as cli
    from sms1708.web.passwords import hash_password

    store = cli.open_store(ctx)
    if store.accounts.user(name) is None:
        cli.fail(f"no account named {name!r}", cli.EXIT_ATTENTION)
    password = read_password(password_stdin)
    now = time.time()
    store.accounts.set_password(name, hash_password(password), now=now)
    store.accounts.audit(_actor(), "user_passwd", now=now, target=name)
    click.echo(f"password of {name} changed; its sessions ended")


def _set_disabled(ctx: click.Context, name: str, disabled: bool) -> None:
    from sms1708.cli import common as cli

    store = cli.open_store(ctx)
    now = time.time()
    if not store.accounts.set_disabled(name, disabled, now=now):
        cli.fail(f"no account named {name!r}", cli.EXIT_ATTENTION)
    store.accounts.audit(
        _actor(), "user_disable" if disabled else "user_enable", now=now, target=name
    )
    click.echo(f"account {name} {'disabled; its sessions ended' if disabled else 'enabled'}")


@user.command("disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str) -> None:
    """Disable NAME: it can no longer log in, its sessions end at once."""
    _set_disabled(ctx, name, True)


@user.command("enable")
@click.argument("name")
@click.pass_context
def user_enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled account again."""
    _set_disabled(ctx, name, False)


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List console accounts (never their password hashes)."""
    from sms1708.cli import common as cli

    users = cli.open_store(ctx).accounts.users()
    rows = [
        {"name": u.name, "role": u.role, "disabled": u.disabled, "created_at": u.created_at}
        for u in users
    ]
    if as_json:
        cli.emit_json(rows)
        return
    if not rows:
        click.echo("no accounts; create one: sms1708 user add NAME --role admin")
    for r in rows:
        click.echo(f"{r['name']:<20} {r['role']:<9} {'DISABLED' if r['disabled'] else ''}")
