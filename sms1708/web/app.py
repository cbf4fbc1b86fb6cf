"""The console's WSGI application: sessions, roles, CSRF, then the page handlers.

Every request: find the session (else the login page), check the role the route needs
(else 403), check the CSRF token on every POST (else 403), then render. Every answer carries
the security headers of ``http.SECURITY_HEADERS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2
import structlog

from sms1708 import sitetime
from sms1708.config import Config
from sms1708.core.mask import mask_number
from sms1708.health import latest_status
from sms1708.store.accounts import Session
from sms1708.store.store import Store
from sms1708.web import auth
from sms1708.web.http import HTTPError, Request, Response, Router, finish, redirect, url
from sms1708.web.i18n import LANGUAGES, translate

log = structlog.get_logger("sms1708.web")

LANG_COOKIE = "sms1708_lang"


@dataclass
class Ctx:
    """One request as the page handlers see it."""

    app: App
    req: Request
    session: Session | None
    now: float
    lang: str
    notices: list[str] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.app.store()

    @property
    def user(self) -> str:
        return self.session.user.name if self.session else "-"

    def t(self, key: str, **values: object) -> str:
        return translate(key, self.lang, **values)

    def may(self, role: str) -> bool:
        return self.session is not None and auth.role_at_least(self.session.user, role)

    def require(self, role: str) -> None:
        if not self.may(role):
            raise HTTPError(403, self.t("forbidden"))

    def audit(self, action: str, target: str | None = None, detail: str | None = None) -> None:
        self.store.accounts.audit(
            self.user,
            action,
            now=self.now,
            target=target,
            detail=detail,
            address=self.req.address,
        )

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        html = self.app.templates.get_template(template).render(
            t=self.t,
            ctx=self,
            csrf=self.session.csrf if self.session else "",
            user=self.session.user if self.session else None,
            path=self.req.path,
            mask=mask_number,
            when=self.app.when,
            url=url,
            **values,
        )
        return Response(html.encode("utf-8"), status)


Page = Callable[[Ctx], Response]


class App:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        # dates in the site's zone, on the daemon's corrected clock (as status.json says)
        sitetime.use(cfg, latest_status(cfg.daemon.status_file, cfg.store.path))
        self._local = threading.local()
        self.router = Router()
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("sms1708.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.public = {"/login", "/static", "/bahasa"}
        from sms1708.web import pages

        pages.register(self)

    # ---------------------------------------------------------------- plumbing

    def store(self) -> Store:
        s: Store | None = getattr(self._local, "store", None)
        if s is None:
            s = Store.open(self.cfg.store.path)
            s.console.limit_cache(1024)
            self._local.store = s
        return s

    def page(self, method: str, path: str, handler: Page) -> None:
        self.router.add(method, path, lambda req: self._dispatch(req, handler))

    @staticmethod
    def when(ts: float | None) -> str:
        if ts is None:
            return "—"
        return sitetime.local(ts).strftime("%Y-%m-%d %H:%M")

    def secure(self, req: Request) -> bool:
        mode = self.cfg.web.secure_cookies
        return mode == "true" or (mode == "auto" and req.https)

    def language(self, req: Request) -> str:
        lang = req.cookies.get(LANG_COOKIE, "")
        return lang if lang in LANGUAGES else self.cfg.web.language

    # ---------------------------------------------------------------- per request

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        req = Request.from_environ(environ)
        static = req.path.startswith("/static/")
        try:
            resp = self.router.match(req)(req)
        except HTTPError as e:
            resp = self.error(req, e.status, e.message)
        except Exception:
            log.exception("web_error", path=req.path[:200])
            resp = self.error(req, 500, "Internal error; see the journal of sms1708-web.")
        # the server's own time for this answer (read by the benchmark and browser dev tools)
        resp.headers.append(
            ("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}")
        )
        return finish(resp, start_response, cache=static)

    def error(self, req: Request, status: int, message: str) -> Response:
        ctx = Ctx(self, req, None, sitetime.now(), self.language(req))
        try:
            ctx.session = auth.current(
                self.store(), self.cfg.web, req.cookies.get(auth.COOKIE), now=ctx.now
            )
        except Exception:
            ctx.session = None
        return ctx.render("error.html", status, code=status, message=message)

    def _dispatch(self, req: Request, handler: Page) -> Response:
        now = sitetime.now()
        lang = self.language(req)
        public = any(req.path == p or req.path.startswith(p + "/") for p in self.public)
        session = auth.current(self.store(), self.cfg.web, req.cookies.get(auth.COOKIE), now=now)
        if session is None and not public:
            if req.method == "GET":
                return redirect(url("/login", next=req.path))
            raise HTTPError(403, translate("session_ended", lang))
        ctx = Ctx(self, req, session, now, lang)
        if req.method == "POST" and session is not None and req.path != "/login":
            self._check_csrf(ctx, session.csrf)
        return handler(ctx)

    def _check_csrf(self, ctx: Ctx, expected: str) -> None:
        if not auth.csrf_ok(expected, ctx.req.form.get("csrf")):
            ctx.audit("csrf_refused", target=ctx.req.path[:200])
            raise HTTPError(403, ctx.t("csrf"))


def static_file(name: str) -> tuple[bytes, str] | None:
    types = {
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".ico": "image/x-icon",
    }
    ext = name[name.rfind(".") :] if "." in name else ""
    if ext not in types or "/" in name or name.startswith("."):
        return None
    f = resources.files("sms1708.web").joinpath("static", name)
    if not f.is_file():
        return None
    return f.read_bytes(), types[ext]
