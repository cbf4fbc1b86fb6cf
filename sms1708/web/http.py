"""A small WSGI layer: requests, responses, routes, and the headers every answer carries.

Small on purpose (a Raspberry Pi's memory, few dependencies): the console has a dozen routes,
all server-rendered, so a framework would add more than it saves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote

MAX_BODY = 64 * 1024  # forms only: no upload in the console

#: a strict policy: nothing but the box itself, no inline script or style, no framing
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


class HTTPError(Exception):
    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message or HTTPStatus(status).phrase)
        self.status = status
        self.message = message or HTTPStatus(status).phrase


@dataclass
class Request:
    environ: dict[str, Any]
    method: str
    path: str
    query: dict[str, str]
    cookies: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    _form: dict[str, str] | None = None

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        raw_path = environ.get("PATH_INFO", "/") or "/"
        path = raw_path.encode("latin-1").decode("utf-8", "replace")
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # a malformed Cookie header is just no cookies
            cookie = SimpleCookie()
        return cls(
            environ,
            str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path,
            _first(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            {k: v.value for k, v in cookie.items()},
        )

    @property
    def form(self) -> dict[str, str]:
        if self._form is None:
            try:
                length = int(self.environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > MAX_BODY:
                raise HTTPError(413)
            body = self.environ["wsgi.input"].read(length) if length > 0 else b""
            ctype = str(self.environ.get("CONTENT_TYPE", ""))
            if body and not ctype.startswith("application/x-www-form-urlencoded"):
                raise HTTPError(415)
            self._form = _first(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
        return self._form

    @property
    def address(self) -> str:
        return str(self.environ.get("REMOTE_ADDR") or "-")

    @property
    def https(self) -> bool:
        return self.environ.get("wsgi.url_scheme") == "https"


def _first(d: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in d.items() if v}


@dataclass
class Response:
    body: bytes | Iterable[bytes] = b""
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "text/html; charset=utf-8"

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        secure: bool,
        max_age: int | None = None,
        path: str = "/",
        http_only: bool = True,
    ) -> None:
        parts = [f"{name}={value}", f"Path={path}", "SameSite=Strict"]
        if http_only:
            parts.append("HttpOnly")
        if secure:
            parts.append("Secure")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        self.headers.append(("Set-Cookie", "; ".join(parts)))


def redirect(location: str, status: int = 303) -> Response:
    return Response(b"", status, [("Location", location)])


def url(path: str, **query: Any) -> str:
    q = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items() if v not in (None, ""))
    return f"{path}?{q}" if q else path


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        def group(m: re.Match[str]) -> str:
            allowed = "[0-9]{1,18}" if m.group(1) else "[A-Za-z0-9._-]+"
            return f"(?P<{m.group(2)}>{allowed})"

        regex = re.sub(r"<(int:)?(\w+)>", group, path)
        self.routes.append(Route(method, re.compile(f"^{regex}$"), handler))

    def match(self, req: Request) -> Handler:
        allowed = False
        for r in self.routes:
            m = r.pattern.match(req.path)
            if m is None:
                continue
            if r.method != req.method and not (r.method == "GET" and req.method == "HEAD"):
                allowed = True
                continue
            req.params = m.groupdict()
            return r.handler
        raise HTTPError(405 if allowed else 404)


def finish(resp: Response, start_response: Callable[..., Any], *, cache: bool = False) -> Any:
    headers = [("Content-Type", resp.content_type), *SECURITY_HEADERS, *resp.headers]
    if not cache:
        headers.append(("Cache-Control", "no-store"))
    body = resp.body
    if isinstance(body, bytes):
        headers.append(("Content-Length", str(len(body))))
        body = [body]
    start_response(f"{resp.status} {HTTPStatus(resp.status).phrase}", headers)
    return body
