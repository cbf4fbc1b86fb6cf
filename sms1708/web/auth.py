"""Logging in and out, sessions, login throttling, roles.

A session is a random token in an HttpOnly, SameSite=Strict cookie (Secure behind HTTPS);
the store keeps only its SHA-256. A session ends after ``web.session_minutes`` without a
request and after ``web.session_max_hours`` in any case, on logout, on a password change and
when the account is disabled.

Throttling: after ``ACCOUNT_LIMIT`` failed logins for one account name within
``WINDOW`` seconds, or ``ADDRESS_LIMIT`` from one address, further logins for it are refused
(without checking the password) until the oldest failure leaves the window.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sms1708.config import WebConfig
from sms1708.store.accounts import ROLES, Session, User
from sms1708.store.store import Store
from sms1708.web import passwords

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = 15 * 60.0
COOKIE = "sms1708_session"
PRE_COOKIE = "sms1708_login"  # the login form's own CSRF token (double-submit)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def role_at_least(user: User, role: str) -> bool:
    return ROLES.index(user.role) >= ROLES.index(role)


@dataclass(frozen=True)
class LoginResult:
    user: User | None = None
    token: str | None = None
    throttled_until: float | None = None  # set when refused by throttling

    @property
    def ok(self) -> bool:
        return self.user is not None and self.token is not None


def throttled_until(store: Store, name: str, address: str, *, now: float) -> float | None:
    since = now - WINDOW
    for failures, limit in (
        (store.accounts.login_failures(since=since, account=name), ACCOUNT_LIMIT),
        (store.accounts.login_failures(since=since, address=address), ADDRESS_LIMIT),
    ):
        if len(failures) >= limit:
            return failures[-limit] + WINDOW
    return None


def login(
    store: Store, cfg: WebConfig, name: str, password: str, *, address: str, now: float
) -> LoginResult:
    """Check a login; on success start a session. Every outcome is audited."""
    name = name.strip()[:64]
    until = throttled_until(store, name, address, now=now)
    if until is not None:
        store.accounts.audit(name or "-", "login_throttled", now=now, address=address)
        return LoginResult(throttled_until=until)
    user = store.accounts.user(name) if name else None
    good = passwords.verify(user.password_hash if user else None, password)
    if user is None or not good or user.disabled:
        store.accounts.record_login_failure(name, address, now=now)
        why = "disabled" if user is not None and good else "wrong name or password"
        store.accounts.audit(name or "-", "login_failed", now=now, detail=why, address=address)
        return LoginResult()
    if passwords.needs_rehash(user.password_hash):
        store.accounts.set_password(user.name, passwords.hash_password(password), now=now)
    store.accounts.clear_login_failures(name)
    token = new_token()
    store.accounts.create_session(
        token_hash(token),
        user.id,
        secrets.token_urlsafe(24),
        now=now,
        expires_at=expiry(cfg, created=now, now=now),
        address=address,
    )
    store.accounts.audit(user.name, "login", now=now, address=address)
    return LoginResult(user=user, token=token)


def expiry(cfg: WebConfig, *, created: float, now: float) -> float:
    return min(now + cfg.session_minutes * 60, created + cfg.session_max_hours * 3600)


def current(store: Store, cfg: WebConfig, token: str | None, *, now: float) -> Session | None:
    """The live session for a cookie's token, its idle timer reset; None when there is none,
    it expired, or its account was disabled."""
    if not token:
        return None
    h = token_hash(token)
    s = store.accounts.session(h)
    if s is None:
        return None
    if s.expires_at <= now or s.user.disabled:
        store.accounts.end_session(h)
        return None
    if now - s.seen_at > 30:  # spare the SD card a write on every click
        store.accounts.touch_session(
            h, now=now, expires_at=expiry(cfg, created=s.created_at, now=now)
        )
    return s


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), (given or "").encode())
