"""`sms1708 user ...`: accounts for the console, as an administrator types them."""

from __future__ import annotations

import json
from pathlib import Path

from sms1708.store.store import Store
from sms1708.web import auth, passwords
from tests.web.conftest import PASSWORD, add_user, run_cli, web_config


def test_accounts_are_made_changed_disabled_and_listed(tmp_path: Path) -> None:
    cfg = web_config(tmp_path)
    add_user(cfg, "koordinator", "admin")
    again = run_cli(
        cfg, "user", "add", "koordinator", "--role", "viewer", "--password-stdin", stdin=PASSWORD
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    weak = run_cli(cfg, "user", "add", "budi", "--role", "viewer", "--password-stdin", stdin="1234")
    assert weak.returncode == 2 and "password refused" in weak.stderr
    bad = run_cli(cfg, "user", "add", "x y", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert bad.returncode == 2

    store = Store.open(tmp_path / "sms1708.db")
    user = store.accounts.user("koordinator")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    store.accounts.create_session(
        auth.token_hash("t"), user.id, "c", now=0, expires_at=1e12, address="-"
    )

    new = "kata-sandi-baru-456"
    r = run_cli(cfg, "user", "passwd", "koordinator", "--password-stdin", stdin=new)
    assert r.returncode == 0, r.stderr
    user = store.accounts.user("koordinator")
    assert user is not None and passwords.verify(user.password_hash, new)
    assert not passwords.verify(user.password_hash, PASSWORD)
    assert store.accounts.session(auth.token_hash("t")) is None  # the old session ended

    assert run_cli(cfg, "user", "disable", "koordinator").returncode == 0
    listed = json.loads(run_cli(cfg, "user", "list", "--json").stdout)
    assert listed == [
        {
            "name": "koordinator",
            "role": "admin",
            "disabled": True,
            "created_at": listed[0]["created_at"],
        }
    ]
    assert "password" not in run_cli(cfg, "user", "list", "--json").stdout
    assert run_cli(cfg, "user", "enable", "koordinator").returncode == 0
    assert run_cli(cfg, "user", "disable", "nobody").returncode == 1
    actions = [(r["action"], r["target"]) for r in store.accounts.audit_log(limit=None)]
    for action in ("user_add", "user_passwd", "user_disable", "user_enable"):
        assert (action, "koordinator") in actions
