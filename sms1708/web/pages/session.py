"""Log in, log out, the language switch, served assets."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sms1708.web import auth
from sms1708.web.app import LANG_COOKIE, Ctx, static_file
from sms1708.web.http import HTTPError, Request, Response, redirect
from sms1708.web.i18n import LANGUAGES

if TYPE_CHECKING:
    from sms1708.web.app import App


def safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may follow a login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_form(ctx: Ctx, status: int = 200, error: str = "") -> Response:
    token = ctx.req.cookies.get(auth.PRE_COOKIE) or auth.new_token()
    resp = ctx.render(
        "login.html", status, error=error, pre=token, next=safe_next(ctx.req.query.get("next"))
    )
    resp.set_cookie(auth.PRE_COOKIE, token, secure=ctx.app.secure(ctx.req), path="/login")
    return resp


def login_page(ctx: Ctx) -> Response:
    if ctx.session is not None:
        return redirect("/")
    return login_form(ctx)


def login_post(ctx: Ctx) -> Response:
    form = ctx.req.form
    pre = ctx.req.cookies.get(auth.PRE_COOKIE, "")
    if not pre or not auth.csrf_ok(pre, form.get("csrf")):
        ctx.audit("csrf_refused", target="/login")
        raise HTTPError(403, ctx.t("csrf"))
    result = auth.login(
        ctx.store,
        ctx.app.cfg.web,
        form.get("username", ""),
        form.get("password", ""),
        address=ctx.req.address,
        now=ctx.now,
    )
    if result.throttled_until is not None:
        minutes = max(1, math.ceil((result.throttled_until - ctx.now) / 60))
        return login_form(ctx, 429, ctx.t("login_throttled", minutes=minutes))
    if not result.ok or result.token is None:
        return login_form(ctx, 401, ctx.t("login_failed"))
    resp = redirect(safe_next(form.get("next")))
    resp.set_cookie(auth.COOKIE, result.token, secure=ctx.app.secure(ctx.req))
    resp.set_cookie(auth.PRE_COOKIE, "", secure=ctx.app.secure(ctx.req), path="/login", max_age=0)
    return resp


def logout(ctx: Ctx) -> Response:
    token = ctx.req.cookies.get(auth.COOKIE)
    if token:
        ctx.store.accounts.end_session(auth.token_hash(token))
        ctx.audit("logout")
    resp = redirect("/login")
    resp.set_cookie(auth.COOKIE, "", secure=ctx.app.secure(ctx.req), max_age=0)
    return resp


def language(ctx: Ctx) -> Response:
    lang = ctx.req.params["lang"]
    if lang not in LANGUAGES:
        raise HTTPError(404)
    resp = redirect(safe_next(ctx.req.query.get("next")))
    resp.set_cookie(
        LANG_COOKIE, lang, secure=ctx.app.secure(ctx.req), max_age=365 * 86400, http_only=True
    )
    return resp


def static(req: Request) -> Response:
    found = static_file(req.params["name"])
    if found is None:
        raise HTTPError(404)
    body, ctype = found
    return Response(body, 200, [("Cache-Control", "max-age=3600")], ctype)


def register(app: App) -> None:
    app.page("GET", "/login", login_page)
    app.page("POST", "/login", login_post)
    app.page("POST", "/logout", logout)
    app.page("GET", "/bahasa/<lang>", language)
    app.router.add("GET", "/static/<name>", static)
