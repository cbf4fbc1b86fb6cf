"""The console in a real browser (Debian's headless Chromium through Selenium), on the demo's
citizens' SMS: the daemon runs on the emulated modem and forwards to the upstream stand-in
while the console serves the same store. One browser for all the scenarios (in order).

Screenshots go to a temporary folder; the ones used by the README and docs/console.md are
refreshed with ``SMS1708_SCREENSHOTS=docs/screenshots`` (``make screenshots``), so that a plain
``make test`` leaves the tree as it found it."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sms1708.demo import BEFORE_OUTAGE, DURING_OUTAGE, GATEWAY_NUMBER
from sms1708.modem.emulator import EmulatedModem
from sms1708.store.store import Store
from sms1708.upstream.standin import StandIn
from tests.conftest import ROOT, DaemonProcess, wait_until, write_config
from tests.faults import sent_replies
from tests.web.browser import chromium_paths, start_chromium
from tests.web.conftest import PASSWORD, WebServer, add_user, free_port, run_cli

#: where shot() writes: set by the world fixture (SMS1708_SCREENSHOTS, else a temporary folder)
SHOTS = ROOT / "build" / "screenshots"
PHONE = (390, 844)
DESKTOP = (1366, 768)
POISON = "pungli"  # the stand-in refuses this report (422) until the operator replays it


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    chromium_paths()
    folder = tmp_path_factory.mktemp("console")
    with contextlib.ExitStack() as cleanup:  # everything started is stopped, even mid set-up
        upstream = StandIn().up()
        cleanup.callback(upstream.stop)
        upstream.reject_if = lambda body: POISON in str(body.get("text", ""))
        modem = EmulatedModem(str(folder / "modem"), own_number=GATEWAY_NUMBER)
        modem.start()
        cleanup.callback(modem.stop)
        port = free_port()
        cfg = write_config(
            folder / "sms1708.toml",
            {
                "modem": {"port": modem.port, "poll_interval": 1.0},
                "store": {"path": str(folder / "sms1708.db")},
                "upstream": {
                    "url": upstream.url,
                    "token_env": "",
                    "timeout": 3.0,
                    "connect_timeout": 1.0,
                    "retry_base": 0.5,
                    "retry_cap": 1.0,
                },
                "replies": {"own_number": GATEWAY_NUMBER},
                "web": {"listen": f"127.0.0.1:{port}"},
                "log": {"format": "json"},
            },
        )
        daemon = DaemonProcess(cfg).start()
        cleanup.callback(daemon.terminate)  # SIGTERM, then kill if it does not stop
        store = Store.open(folder / "sms1708.db")
        cleanup.callback(store.close)
        texts = BEFORE_OUTAGE + DURING_OUTAGE
        for sender, text in texts:
            modem.receive_sms(sender, text)
        assert wait_until(lambda: store.queries.counts()["messages"]["total"] == len(texts), 60)
        people = sum(1 for s, _ in texts if s.startswith("+"))
        assert wait_until(lambda: len(upstream.tracking) >= people - 1, 60)
        assert wait_until(lambda: store.queries.counts()["outbox"].get("dead") == 1, 60)
        for name, role in (("ada", "admin"), ("omar", "operator"), ("vera", "viewer")):
            add_user(cfg, name, role)
        web = WebServer(cfg, port)
        cleanup.callback(web.stop)
        downloads = folder / "downloads"
        downloads.mkdir()
        driver: Any = start_chromium(folder / "profile", downloads)
        cleanup.callback(driver.quit)
        global SHOTS
        SHOTS = screenshot_folder(folder)
        yield {
            "driver": driver,
            "url": web.url,
            "store": store,
            "modem": modem,
            "upstream": upstream,
            "downloads": downloads,
            "texts": texts,
            "config": cfg,
        }


def screenshot_folder(temporary: Path) -> Path:
    """``SMS1708_SCREENSHOTS`` (relative to the repository) when set, else ``temporary``."""
    wanted = os.environ.get("SMS1708_SCREENSHOTS", "").strip()
    folder = ROOT / wanted if wanted else temporary / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def go(w: dict[str, Any], path: str) -> Any:
    d = w["driver"]
    d.get(w["url"] + path)
    return d


def find(d: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return d.find_element(By.CSS_SELECTOR, css)


def finds(d: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(d.find_elements(By.CSS_SELECTOR, css))


def click_and_load(d: Any, css: str) -> None:
    """Click what submits a form or follows a link, and wait until the next page replaced this
    one (a click may return before the navigation; reading then would see the old page)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    html = find(d, "html")
    find(d, css).click()

    def replaced(_d: Any) -> bool:
        try:
            html.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            # Chromium under load may say this instead of "stale": the same fact
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    WebDriverWait(d, 60).until(replaced)  # a hang guard


def shot(d: Any, name: str, size: tuple[int, int] = DESKTOP) -> None:
    d.set_window_size(*size)
    height = d.execute_script("return document.documentElement.scrollHeight")
    frame = d.execute_script("return window.outerHeight - window.innerHeight")  # the window's own
    d.set_window_size(size[0], max(size[1], min(int(height) + max(0, int(frame)), 2400)))
    d.save_screenshot(str(SHOTS / f"{name}.png"))
    d.set_window_size(*DESKTOP)


def login(w: dict[str, Any], name: str, password: str = PASSWORD) -> Any:
    d = go(w, "/login")
    if not finds(d, "input[name=username]"):  # still logged in: log out first
        click_and_load(d, "form[action='/logout'] button")
        d.get(w["url"] + "/login")
    find(d, "input[name=username]").send_keys(name)
    find(d, "input[name=password]").send_keys(password)
    click_and_load(d, "form[action='/login'] button")
    return d


def test_log_in_and_the_dashboard_shows_the_demos_numbers(world: dict[str, Any]) -> None:
    d = go(world, "/")
    assert "/login" in d.current_url
    shot(d, "login", PHONE)
    login(world, "ada")
    assert d.current_url.rstrip("/") == world["url"]
    total = world["store"].queries.counts()["messages"]["total"]
    assert find(d, "#total").text == str(total) == str(len(world["texts"]))
    dead = find(d, "a[data-state=dead]")
    assert dead.text == "1"
    assert "modem0" in d.page_source and "terhubung" in d.page_source
    assert find(d, ".modem .operator").text == "TELKOMSEL"  # the network, read with AT+COPS?
    shot(d, "dasbor")
    shot(d, "dasbor-ponsel", PHONE)


def test_filter_the_list_and_open_a_complaint(world: dict[str, Any]) -> None:
    d = go(world, "/laporan")
    rows = finds(d, "table.list tbody tr")
    assert len(rows) == len(world["texts"])
    assert "+6281234560001" not in d.page_source  # masked
    shot(d, "laporan")
    from selenium.webdriver.support.ui import Select

    Select(find(d, "select[name=kind]")).select_by_visible_text("aspirasi")
    click_and_load(d, ".filters button[type=submit]")
    rows = finds(d, "table.list tbody tr")
    assert len(rows) == 1 and "jembatan" in rows[0].text
    shot(d, "laporan-ponsel", PHONE)
    click_and_load(d, "table.list tbody tr td a")
    assert "/laporan/" in d.current_url
    assert "jembatan gantung" in find(d, "dd.sms").text
    assert "delivered" in find(d, "h1 .state").text
    mid = int(d.current_url.rsplit("/", 1)[-1])
    now = time.time()
    for i, status in enumerate(("Verifikasi", "Diteruskan ke Dinas PU", "Selesai")):
        world["store"].outbox.record_status(mid, status, now=now + i, notify_text=None)
    d.refresh()
    history = [li.text for li in finds(d, ".timeline li.status")]
    assert len(history) == 3 and "Selesai" in history[-1] and "Verifikasi" in history[0]
    shot(d, "detail")


def test_replay_a_dead_one_and_see_it_delivered(world: dict[str, Any]) -> None:
    d = go(world, "/laporan?state=dead")
    rows = finds(d, "table.list tbody tr")
    assert len(rows) == 1 and POISON in rows[0].text
    click_and_load(d, "table.list tbody tr td a")
    click_and_load(d, "#replay")  # the dry run first
    assert finds(d, "#replay-confirm")
    assert "Uji dulu" in d.page_source
    world["upstream"].reject_if = None  # the upstream takes it now
    click_and_load(d, "#replay-confirm")
    assert "kembali ke antrean" in d.page_source
    store: Store = world["store"]
    mid = int(d.current_url.split("?")[0].rsplit("/", 1)[-1])
    # delivered, not merely out of the queue ("sending" while the upstream answers)
    assert wait_until(lambda: (store.console.timeline(mid) or {}).get("state") == "delivered", 60)
    d.refresh()
    assert find(d, "h1 .state").text == "delivered"
    assert any(POISON in str(r.body.get("text")) for r in world["upstream"].requests[-1:])


def test_reply_to_a_citizen_and_the_modem_sends_it(world: dict[str, Any]) -> None:
    sender, _ = world["texts"][0]
    d = go(world, "/laporan?q=Tanjung")
    click_and_load(d, "table.list tbody tr td a")
    box = find(d, "#reply-text")
    text = "Terima kasih, laporan jalan rusak sudah diteruskan ke Dinas PU. Petugas datang Senin."
    box.send_keys(text)
    counter = find(d, "#reply-counter").text
    assert f"{len(text)} karakter" in counter and "GSM-7" in counter and "1 bagian" in counter
    shot(d, "balas")
    click_and_load(d, "#reply-send")
    assert "Balasan masuk antrean" in d.page_source
    assert wait_until(lambda: (sender, text) in sent_replies(world["modem"]), 60)
    d.refresh()
    assert text in find(d, ".timeline").text
    click_and_load(d, "a[href^='/percakapan/']")
    bubbles = finds(d, ".bubble")
    assert len(bubbles) >= 3 and text in bubbles[-1].text
    shot(d, "percakapan", PHONE)


def test_download_a_csv(world: dict[str, Any]) -> None:
    d = go(world, "/laporan")
    find(d, "#export-csv").click()
    folder: Path = world["downloads"]
    assert wait_until(lambda: any(p.suffix == ".csv" for p in folder.iterdir()), 30)
    csv_file = next(p for p in folder.iterdir() if p.suffix == ".csv")
    assert wait_until(lambda: csv_file.read_text().count("\n") == len(world["texts"]) + 1, 10)
    content = csv_file.read_text()
    assert content.startswith("id,key,received_at,sender,kind")
    assert "+6281234560001" not in content
    go(world, "/statistik")
    charts = finds(d, "img.chart")
    assert [c.get_attribute("id") for c in charts] == [
        "chart-kind",
        "chart-category",
        "chart-kecamatan",
    ]
    assert all(d.execute_script("return arguments[0].naturalWidth", c) > 0 for c in charts)
    shot(d, "statistik")
    go(world, "/kesehatan")
    assert "PASS" in d.page_source
    shot(d, "kesehatan")
    r = run_cli(world["config"], "export", "--format", "json", env={"SUDO_USER": "teknisi"})
    assert r.returncode == 0, r.stderr
    go(world, "/audit")
    actions = d.page_source
    for action in ("login", "replay", "reply", "export"):
        assert f'<span class="action">{action}</span>' in actions
    assert "cli:teknisi" in find(d, "table.list tbody tr").text  # the command line, newest
    shot(d, "audit")


def test_a_viewer_cannot_replay(world: dict[str, Any]) -> None:
    d = login(world, "vera")
    go(world, "/laporan")
    click_and_load(d, "table.list tbody tr td a")
    assert not finds(d, "#replay") and not finds(d, "#reply-send")
    mid = d.current_url.rsplit("/", 1)[-1]
    go(world, f"/laporan/{mid}/kirim-ulang")
    assert "403" in find(d, "h1").text
    assert "tidak boleh" in d.page_source


def test_a_form_posted_without_its_csrf_token_is_refused(world: dict[str, Any]) -> None:
    d = login(world, "omar")
    go(world, "/laporan")
    click_and_load(d, "table.list tbody tr td a")
    d.execute_script("document.querySelector('form.reply input[name=csrf]').remove()")
    find(d, "#reply-text").send_keys("tanpa token")
    click_and_load(d, "#reply-send")
    assert "403" in find(d, "h1").text
    assert "Formulir kedaluwarsa" in d.page_source


def test_the_sixth_wrong_password_is_throttled(world: dict[str, Any]) -> None:
    d = go(world, "/")
    click_and_load(d, "form[action='/logout'] button")
    for attempt in range(6):
        find(d, "input[name=username]").send_keys("ada")
        find(d, "input[name=password]").send_keys(f"salah-{attempt}")
        click_and_load(d, "form[action='/login'] button")
        message = find(d, ".error").text
        if attempt < 5:
            assert "salah" in message
    assert "Terlalu banyak percobaan" in message
    shot(d, "login-dibatasi", PHONE)
    go(world, "/bahasa/en?next=/login")
    assert "Log in" in find(d, "form[action='/login'] button").text
    go(world, "/bahasa/id?next=/login")
    time.sleep(0)  # nothing to wait for: the language is a cookie
