"""The console's security at the HTTP level, against `sms1708 web` on loopback (P17): no
session -> the login page; wrong role -> 403; CSRF; throttling; headers on every page; cookie
flags; masking and audited reveal; the audit log."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sms1708 import config
from sms1708.store.store import Store
from sms1708.web import auth
from sms1708.web.app import App
from tests.web.conftest import PASSWORD, Browserless, WebServer, add_user, run_cli, sms, web_config

CITIZEN = "+6281234567890"
PAGES = [
    "/",
    "/laporan",
    "/laporan/1",
    "/percakapan/1",
    "/statistik",
    "/statistik/grafik.svg",
    "/kesehatan",
    "/audit",
    "/audit.csv",
    "/ekspor/laporan.csv",
    "/ekspor/laporan.json",
    "/laporan/1/kirim-ulang",
]
POSTS = [
    "/laporan/1/kirim-ulang",
    "/laporan/1/balas",
    "/laporan/1/nomor",
    "/laporan/1/koreksi",
    "/laporan/1/baca-ulang",
    "/laporan/1/blokir",
    "/laporan/1/buka-blokir",
    "/logout",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, start_web: Any) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("web")
    cfg = web_config(folder)
    store = Store.open(folder / "sms1708.db")
    first = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja kec. Muara Enim")
    for i in range(60):
        sms(store, f"+62852000{i:05d}", f"aspirasi nomor {i} mohon lampu jalan", index=i + 2)
    for name, role in (("vera", "viewer"), ("omar", "operator"), ("ada", "admin")):
        add_user(cfg, name, role)
    server: WebServer = start_web(cfg)
    yield {"cfg": cfg, "url": server.url, "store": store, "first": first}
    store.close()


def client(site: dict[str, Any], name: str | None = None) -> Browserless:
    c = Browserless(site["url"])
    if name:
        r = c.login(name)
        assert r.status_code == 303, r.text
    return c


def test_without_a_session_every_page_leads_to_the_login_page(site: dict[str, Any]) -> None:
    c = client(site)
    for path in PAGES:
        r = c.http.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next="), path
    for path in POSTS:
        assert c.http.post(path, data={"csrf": "x"}).status_code == 403, path
    assert c.http.get("/login").status_code == 200


def test_every_answer_carries_the_security_headers(site: dict[str, Any]) -> None:
    c = client(site, "ada")
    anonymous = client(site)
    answers = [c.http.get(p) for p in PAGES] + [
        c.http.get("/no-such-page"),
        c.http.get("/static/style.css"),
        anonymous.http.get("/login"),
        anonymous.http.get("/"),
    ]
    for r in answers:
        h = r.headers
        assert "default-src 'self'" in h["content-security-policy"], r.url
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
    assert all(r.status_code in (200, 303, 404) for r in answers)


def test_pages_use_no_asset_from_outside_the_box(site: dict[str, Any]) -> None:
    c = client(site, "ada")
    for path in ("/", "/laporan", "/laporan/1", "/statistik", "/login"):
        html = c.http.get(path).text
        assert "http://" not in html and "https://" not in html, path
        assert "<script>" not in html and " style=" not in html, path


def test_session_cookie_is_httponly_samesite_strict(site: dict[str, Any]) -> None:
    c = Browserless(site["url"])
    r = c.login("ada")
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(auth.COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback, secure_cookies = "auto"
    # behind the TLS proxy (the trusted 127.0.0.1 says https), the cookie is Secure
    c = Browserless(site["url"])
    page = c.http.get("/login")
    r = c.http.post(
        "/login",
        data={"csrf": c.csrf_of(page.text), "username": "ada", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith(auth.COOKIE))
    assert "Secure" in cookie and "HttpOnly" in cookie


def wsgi_login(app: App, name: str) -> list[str]:
    """Log in through the WSGI app itself; returns the Set-Cookie headers."""
    got: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        got["headers"] = headers

    body = f"csrf=t&username={name}&password={PASSWORD}".encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/login",
        "HTTP_COOKIE": f"{auth.PRE_COOKIE}=t",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "127.0.0.1",
    }
    b"".join(app(environ, start))
    return [v for k, v in got["headers"] if k == "Set-Cookie"]


def test_secure_cookies_true_marks_the_cookie_secure_even_on_plain_http(
    site: dict[str, Any],
) -> None:
    cfg = config.load(site["cfg"])
    cfg = config.from_mapping({"store": {"path": cfg.store.path}, "web": {"secure_cookies": True}})
    cookies = wsgi_login(App(cfg), "ada")
    assert any(c.startswith(auth.COOKIE) and "Secure" in c for c in cookies)


def test_a_viewer_may_look_but_not_act(site: dict[str, Any]) -> None:
    c = client(site, "vera")
    assert c.http.get("/laporan/1").status_code == 200
    assert c.http.get("/ekspor/laporan.csv").status_code == 200
    assert c.http.get("/laporan/1/kirim-ulang").status_code == 403
    for path in POSTS[:-1]:
        assert c.post(path, {"text": "halo", "category": "x"}).status_code == 403, path
    assert c.http.get("/audit").status_code == 403
    assert c.http.get("/audit.csv").status_code == 403
    assert 'id="replay' not in c.http.get("/laporan/1").text


def test_an_operator_may_act_but_not_read_the_audit_log(site: dict[str, Any]) -> None:
    c = client(site, "omar")
    assert c.http.get("/audit").status_code == 403
    r = c.post("/laporan/1/koreksi", {"category": "infrastruktur", "location": "Kec. Ujan Mas"})
    assert r.status_code == 303
    page = c.http.get("/laporan/1").text
    assert "Kec. Ujan Mas" in page and "infrastruktur" in page


def test_a_reply_to_a_blocked_number_is_refused_by_the_send_gate(site: dict[str, Any]) -> None:
    c = client(site, "omar")
    assert c.post("/laporan/1/blokir", {"reason": "uji"}).status_code == 303
    try:
        r = c.post("/laporan/1/balas", {"text": "Terima kasih atas laporannya"})
        assert r.status_code == 409 and "Balasan tidak dikirim" in r.text
        entry = site["store"].accounts.audit_log(action="reply_refused", limit=1)[0]
        assert entry["actor"] == "omar" and "blocked" in entry["detail"]
    finally:
        assert c.post("/laporan/1/buka-blokir").status_code == 303
    r = c.post("/laporan/1/balas", {"text": "Terima kasih atas laporannya"})
    assert r.status_code == 303 and "reply_queued" in r.headers["location"]


def test_reparse_reads_the_sms_again_and_is_audited(site: dict[str, Any]) -> None:
    c = client(site, "omar")
    c.post("/laporan/1/koreksi", {"category": "salah", "location": "Kec. Salah"})
    assert "Kec. Salah" in c.http.get("/laporan/1").text
    assert c.post("/laporan/1/baca-ulang").status_code == 303
    page = c.http.get("/laporan/1").text
    assert "Desa Tanjung Raja, Kec. Muara Enim" in page
    entry = site["store"].accounts.audit_log(action="reparse", limit=1)[0]
    assert entry["actor"] == "omar" and "Kec. Salah" in entry["detail"]


def test_a_form_without_its_csrf_token_is_refused_and_audited(site: dict[str, Any]) -> None:
    c = client(site, "omar")
    assert c.post("/laporan/1/balas", {"text": "halo"}, csrf=False).status_code == 403
    assert c.http.post("/laporan/1/balas", data={"text": "x", "csrf": "forged"}).status_code == 403
    # the login form has its own token: a cross-site login post is refused too
    assert (
        Browserless(site["url"])
        .http.post("/login", data={"username": "ada", "password": PASSWORD})
        .status_code
        == 403
    )
    log = site["store"].accounts.audit_log(action="csrf_refused", limit=None)
    assert any(r["actor"] == "omar" and r["target"] == "/laporan/1/balas" for r in log)


def test_numbers_are_masked_and_revealing_one_is_audited(site: dict[str, Any]) -> None:
    c = client(site, "omar")
    for path in ("/laporan", "/laporan/1", "/percakapan/1", "/ekspor/laporan.csv"):
        assert CITIZEN not in c.http.get(path).text, path
    before = len(site["store"].accounts.audit_log(action="reveal_number", limit=None))
    r = c.post("/laporan/1/nomor")
    assert r.status_code == 200 and CITIZEN in r.text
    log = site["store"].accounts.audit_log(action="reveal_number", limit=None)
    assert len(log) == before + 1 and log[0]["actor"] == "omar"
    assert CITIZEN not in (log[0]["detail"] or "")


def test_the_sixth_wrong_password_is_throttled_even_when_right(site: dict[str, Any]) -> None:
    add_user(site["cfg"], "budi", "viewer")
    c = Browserless(site["url"])
    for _ in range(5):
        assert c.login("budi", "salah-salah-salah").status_code == 401
    r = c.login("budi", PASSWORD)
    assert r.status_code == 429
    assert "Terlalu banyak percobaan" in r.text
    assert site["store"].accounts.audit_log(action="login_throttled", limit=1)[0]["actor"] == "budi"


def test_logout_ends_the_session(site: dict[str, Any]) -> None:
    c = client(site, "vera")
    cookie = c.http.cookies[auth.COOKIE]
    assert c.post("/logout").status_code == 303
    again = Browserless(site["url"])
    again.http.cookies.set(auth.COOKIE, cookie)
    assert again.http.get("/").status_code == 303


def test_disabling_an_account_ends_its_sessions(site: dict[str, Any]) -> None:
    add_user(site["cfg"], "sari", "operator")
    c = client(site, "sari")
    assert c.http.get("/").status_code == 200
    assert run_cli(site["cfg"], "user", "disable", "sari").returncode == 0
    assert c.http.get("/").status_code == 303
    assert c.login("sari").status_code == 401
    actions = [
        r["action"] for r in site["store"].accounts.audit_log(limit=None) if r["target"] == "sari"
    ]
    assert "user_add" in actions and "user_disable" in actions


def test_list_pages_with_keyset_and_filters(site: dict[str, Any]) -> None:
    c = client(site, "vera")
    page = c.http.get("/laporan").text
    assert page.count('<tr class="row-') == 50
    assert "before=" in page
    older = c.http.get("/laporan", params={"before": "12"}).text
    assert older.count('<tr class="row-') == 11
    only = c.http.get("/laporan", params={"kind": "pengaduan"}).text
    assert only.count('<tr class="row-') == 1 and "Tanjung Raja" in only
    found = c.http.get("/laporan", params={"q": "nomor 42"}).text
    assert found.count('<tr class="row-') == 1


def test_every_action_lands_in_the_audit_log_and_its_export(site: dict[str, Any]) -> None:
    c = client(site, "ada")
    c.http.get("/ekspor/laporan.csv")
    assert c.post("/laporan/1/blokir", {"reason": "spam"}).status_code == 303
    assert site["store"].blocked.is_blocked(CITIZEN)
    assert c.post("/laporan/1/buka-blokir").status_code == 303
    assert not site["store"].blocked.is_blocked(CITIZEN)
    r = c.http.get("/audit.csv")
    assert r.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    actions = {row["action"] for row in rows}
    assert {"login", "login_failed", "export", "block_number", "unblock_number"} <= actions
    assert all(row["actor"] and row["at"] for row in rows)
    assert CITIZEN not in r.text
    # cells a spreadsheet would run as formulas are quoted, in both exports
    report = c.http.get("/ekspor/laporan.csv").text
    assert "\n1," in report and ",'+62812******90," in report


def test_a_session_expires_when_idle_and_at_its_maximum_age(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db")
    cfg = config.from_mapping({"web": {"session_minutes": 30, "session_max_hours": 2}}).web
    store.accounts.create_user("ada", "admin", "x", now=0)
    user = store.accounts.user("ada")
    assert user is not None
    t0 = 1_000_000.0
    token = "tok"
    store.accounts.create_session(
        auth.token_hash(token),
        user.id,
        "c",
        now=t0,
        expires_at=auth.expiry(cfg, created=t0, now=t0),
        address="-",
    )
    assert auth.current(store, cfg, token, now=t0 + 29 * 60) is not None  # still alive: renewed
    t = t0 + 29 * 60
    while t < t0 + 2 * 3600 - 60:  # kept busy, it still ends at the maximum age
        assert auth.current(store, cfg, token, now=t) is not None
        t += 20 * 60
    assert auth.current(store, cfg, token, now=t0 + 2 * 3600 + 1) is None
    assert store.accounts.session(auth.token_hash(token)) is None
    store.accounts.create_session(
        auth.token_hash("t2"),
        user.id,
        "c",
        now=t0,
        expires_at=auth.expiry(cfg, created=t0, now=t0),
        address="-",
    )
    assert auth.current(store, cfg, "t2", now=t0 + 31 * 60) is None  # idle too long


def test_per_address_throttling(tmp_path: Path) -> None:
    from sms1708.web.passwords import hash_password

    store = Store.open(tmp_path / "db")
    cfg = config.Config().web
    store.accounts.create_user("ada", "admin", hash_password(PASSWORD), now=0)
    now = time.time()
    for i in range(auth.ADDRESS_LIMIT):
        assert not auth.login(store, cfg, f"guess{i}", "x", address="10.0.0.9", now=now).ok
    refused = auth.login(store, cfg, "ada", PASSWORD, address="10.0.0.9", now=now)
    assert refused.throttled_until is not None and not refused.ok
    assert auth.login(store, cfg, "ada", PASSWORD, address="10.0.0.10", now=now).ok
    later = now + auth.WINDOW + 1
    assert auth.login(store, cfg, "ada", PASSWORD, address="10.0.0.9", now=later).ok


def test_every_upstream_status_change_is_kept_and_shown_in_order(site: dict[str, Any]) -> None:
    store: Store = site["store"]
    mid = sms(store, "+6281298765432", "LAPOR lampu jalan mati di desa Tanjung Raja", index=900)
    t0 = time.time()
    for i, status in enumerate(("Diterima", "Diproses", "Diproses", "Selesai")):
        store.outbox.record_status(mid, status, now=t0 + i, notify_text=None)
    history = store.console.timeline(mid)["status_history"]  # type: ignore[index]
    assert [h["status"] for h in history] == ["Diterima", "Diproses", "Selesai"]
    assert all(h["destination"] == "" for h in history)
    page = client(site, "vera").http.get(f"/laporan/{mid}").text
    timeline = page[page.index('class="timeline"') :]
    spots = [timeline.index(f"<strong>{s}</strong>") for s in ("Diterima", "Diproses", "Selesai")]
    assert spots == sorted(spots)


def test_the_statistics_page_charts_by_category_and_kecamatan(site: dict[str, Any]) -> None:
    store: Store = site["store"]
    mid = sms(store, "+6281255554444", "LAPOR pipa air bocor", index=901)
    store.console.correct(mid, "category", "air bersih", by="omar", now=time.time())
    store.console.correct(
        mid, "location", "Desa Sukamaju, Kec. Gelumbang", by="omar", now=time.time()
    )
    c = client(site, "vera")
    page = c.http.get("/statistik", params={"period": "week"}).text
    for by in ("kind", "category", "kecamatan"):
        assert f"/statistik/grafik.svg?period=week&amp;by={by}" in page or (
            f"/statistik/grafik.svg?by={by}&amp;period=week" in page
        ), by
    for by, word in (("category", "kategori"), ("kecamatan", "kecamatan")):
        r = c.http.get("/statistik/grafik.svg", params={"by": by})
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert f"menurut {word}" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
    svg = c.http.get("/statistik/grafik.svg", params={"by": "kecamatan"}).text
    assert "Kec. Gelumbang (1)" in svg and 'class="bar"' in svg
    assert "air bersih (1)" in c.http.get("/statistik/grafik.svg?by=category").text


def test_command_line_actions_land_in_the_audit_log(site: dict[str, Any]) -> None:
    store: Store = site["store"]
    cfg = site["cfg"]
    before = store.accounts.audit_log(limit=1)[0]["id"]
    number = "+6281277776666"
    for args in (
        ("block", number, "--reason", "iseng"),
        ("unblock", number),
        ("replay", "--state", "dead", "--yes"),
        ("reparse", "--yes"),
        ("export", "--format", "json"),
        ("send", "--force", number, "Laporan Anda sudah kami terima"),
        ("purge", "--days", "3650", "--yes"),
    ):
        r = run_cli(cfg, *args, env={"SUDO_USER": "teknisi"})
        assert r.returncode in (0, 1), (args, r.stderr)
    run_cli(cfg, "reparse")  # a dry run changes nothing: not audited
    new = [e for e in store.accounts.audit_log(limit=None) if e["id"] > before]
    actions = [e["action"] for e in reversed(new)]
    assert actions == [
        "block_number",
        "unblock_number",
        "replay",
        "reparse",
        "export",
        "send",
        "purge",
    ]
    assert all(e["actor"] == "cli:teknisi" and not e["address"] for e in new)
    assert not any(number in (e["target"] or "") + (e["detail"] or "") for e in new)
    page = client(site, "ada").http.get("/audit").text
    assert '<span class="action">purge</span>' in page and "cli:teknisi" in page
