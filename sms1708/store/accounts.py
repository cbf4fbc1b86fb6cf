"""The console's accounts, sessions, login failures and audit log (SQL only here).

Passwords arrive already hashed (Argon2id, by ``sms1708.web.passwords``); a session is found by
the SHA-256 of its cookie token, so a copy of the database gives no working session.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sms1708.errors import StoreError
from sms1708.store.base import Concern

ROLES = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    password_hash: str
    disabled: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Session:
    token_hash: str
    user: User
    csrf: str
    created_at: float
    seen_at: float
    expires_at: float


def _user(r: sqlite3.Row) -> User:
    return User(
        int(r["id"]),
        str(r["name"]),
        str(r["role"]),
        str(r["password_hash"]),
        bool(r["disabled"]),
        float(r["created_at"]),
        float(r["updated_at"]),
    )


class Accounts(Concern):
    # ---------------------------------------------------------------- users

    def create_user(self, name: str, role: str, password_hash: str, *, now: float) -> int:
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"an account named {name!r} exists already")
            cur = c.execute(
                "INSERT INTO users (name, role, password_hash, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, role, password_hash, now, now),
            )
            return int(cur.lastrowid or 0)

    def user(self, name: str) -> User | None:
        r = self.conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return None if r is None else _user(r)

    def users(self) -> list[User]:
        return [_user(r) for r in self.conn.execute("SELECT * FROM users ORDER BY name")]

    def set_password(self, name: str, password_hash: str, *, now: float) -> bool:
        """New hash; every session of the account ends. False: no such account."""
        return self._update_user(name, "password_hash = ?", password_hash, now)

    def set_disabled(self, name: str, disabled: bool, *, now: float) -> bool:
        """Disable (or enable) an account; every session of it ends."""
        return self._update_user(name, "disabled = ?", int(disabled), now)

    def set_role(self, name: str, role: str, *, now: float) -> bool:
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        return self._update_user(name, "role = ?", role, now)

    def _update_user(self, name: str, assignment: str, value: Any, now: float) -> bool:
        with self.transaction() as c:
            row = c.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            c.execute(
                f"UPDATE users SET {assignment}, updated_at = ? WHERE id = ?",
                (value, now, row[0]),
            )
            c.execute("DELETE FROM sessions WHERE user_id = ?", (row[0],))
            return True

    # ---------------------------------------------------------------- sessions

    def create_session(
        self,
        token_hash: str,
        user_id: int,
        csrf: str,
        *,
        now: float,
        expires_at: float,
        address: str,
    ) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, seen_at,"
                " expires_at, address) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token_hash, user_id, csrf, now, now, expires_at, address),
            )

    def session(self, token_hash: str) -> Session | None:
        r = self.conn.execute(
            "SELECT s.token_hash, s.csrf, s.created_at AS s_created, s.seen_at, s.expires_at,"
            " u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (token_hash,),
        ).fetchone()
        if r is None:
            return None
        return Session(
            str(r["token_hash"]),
            _user(r),
            str(r["csrf"]),
            float(r["s_created"]),
            float(r["seen_at"]),
            float(r["expires_at"]),
        )

    def touch_session(self, token_hash: str, *, now: float, expires_at: float) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE sessions SET seen_at = ?, expires_at = ? WHERE token_hash = ?",
                (now, expires_at, token_hash),
            )

    def end_session(self, token_hash: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    # ---------------------------------------------------------------- login throttling

    def record_login_failure(self, account: str, address: str, *, now: float) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM login_failures WHERE at < ?", (now - 86400,))
            c.execute(
                "INSERT INTO login_failures (at, account, address) VALUES (?, ?, ?)",
                (now, account, address),
            )

    def login_failures(
        self, *, since: float, account: str | None = None, address: str | None = None
    ) -> list[float]:
        """Times of failed logins since ``since`` for an account or an address, oldest first."""
        if account is not None:
            sql, arg = "account = ?", account
        elif address is not None:
            sql, arg = "address = ?", address
        else:
            raise ValueError("give account or address")
        return [
            float(r[0])
            for r in self.conn.execute(
                f"SELECT at FROM login_failures WHERE {sql} AND at >= ? ORDER BY at",
                (arg, since),
            )
        ]

    def clear_login_failures(self, account: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM login_failures WHERE account = ?", (account,))

    # ---------------------------------------------------------------- audit log

    def audit(
        self,
        actor: str,
        action: str,
        *,
        now: float,
        target: str | None = None,
        detail: str | None = None,
        address: str | None = None,
    ) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO audit (at, actor, action, target, detail, address)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (now, actor, action, target, detail, address),
            )
            return int(cur.lastrowid or 0)

    def audit_log(
        self,
        *,
        limit: int | None = 100,
        before_id: int | None = None,
        action: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; ``before_id`` pages back (keyset)."""
        where: list[str] = []
        args: list[Any] = []
        if before_id is not None:
            where.append("id < ?")
            args.append(before_id)
        if action:
            where.append("action = ?")
            args.append(action)
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [dict(r) for r in self.conn.execute(sql, args)]
