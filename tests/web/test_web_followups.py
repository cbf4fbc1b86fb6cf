"""The console shows a report with its follow-up SMS in order, and an operator may detach a
wrongly attached one (audited), against `sms1708 web` on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sms1708.config import from_mapping
from sms1708.store.store import Store
from sms1708.upstream.forwarder import Forwarder
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import WebhookClient
from tests.web.conftest import Browserless, add_user, sms, web_config

CITIZEN = "+6281234567890"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, start_web: Any) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("web-followups")
    cfg = web_config(folder)
    store = Store.open(folder / "sms1708.db")
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja", minutes_ago=10)
    first = sms(store, CITIZEN, "lubangnya besar dekat SD 5", minutes_ago=8, index=2)
    second = sms(store, CITIZEN, "sudah tiga bulan belum diperbaiki", minutes_ago=5, index=3)
    for name, role in (("vera", "viewer"), ("omar", "operator")):
        add_user(cfg, name, role)
    server = start_web(cfg)
    yield {"url": server.url, "store": store, "ids": (report, first, second)}
    store.close()


def login(site: dict[str, Any], name: str) -> Browserless:
    c = Browserless(site["url"])
    assert c.login(name).status_code == 303
    return c


def test_the_detail_page_lists_the_followups_in_order(site: dict[str, Any]) -> None:
    report, first, second = site["ids"]
    page = login(site, "vera").http.get(f"/laporan/{report}").text
    assert 'id="followups"' in page
    assert page.index("lubangnya besar dekat SD 5") < page.index("sudah tiga bulan belum")
    assert page.index(f'href="/laporan/{first}"') < page.index(f'href="/laporan/{second}"')
    followup = login(site, "vera").http.get(f"/laporan/{first}").text
    assert 'id="followup-of"' in followup and f'href="/laporan/{report}"' in followup


def test_the_console_export_names_the_report_of_a_followup(site: dict[str, Any]) -> None:
    report, first, _second = site["ids"]
    text = login(site, "vera").http.get("/ekspor/laporan.csv").text
    header, *lines = text.splitlines()
    assert header.split(",")[-1] == "update_of"
    assert any(ln.startswith(f"{first},") and ln.endswith(f",{report}") for ln in lines), text


def test_an_operator_detaches_a_followup_and_it_is_audited(site: dict[str, Any]) -> None:
    report, first, second = site["ids"]
    assert login(site, "vera").post(f"/laporan/{second}/pisahkan").status_code == 403
    c = login(site, "omar")
    assert c.post(f"/laporan/{first}/baca-ulang").status_code == 409  # detach it first
    r = c.post(f"/laporan/{second}/pisahkan")
    assert r.status_code == 303, r.text
    row = site["store"].queries.message(second)
    assert row["update_of"] is None and row["detached_at"] is not None
    assert row["state"] == "queued"
    entry = site["store"].accounts.audit_log(action="detach", limit=1)[0]
    assert entry["actor"] == "omar" and f"from laporan {report}" in entry["detail"]
    page = c.http.get(f"/laporan/{report}").text
    assert "lubangnya besar" in page and "sudah tiga bulan belum" not in page
    assert c.post(f"/laporan/{report}/pisahkan").status_code == 409  # a report, not a follow-up


def test_a_correction_of_a_delivered_report_goes_upstream_as_an_update(
    site: dict[str, Any], upstream: StandIn
) -> None:
    """The destination that already has the report gets the operator's correction as an
    update of its own (own key, update_of naming the report); nothing is queued for a
    destination still waiting for the report, which gets the corrected record itself."""
    store: Store = site["store"]
    report = sms(store, "+6285712345678", "LAPOR lampu jalan mati", minutes_ago=20, index=9)
    store.conn.execute(
        "UPDATE deliveries SET state = 'delivered', delivered_at = 1 WHERE message_id = ?",
        (report,),
    )
    c = login(site, "omar")
    r = c.post(f"/laporan/{report}/koreksi", {"category": "kesehatan", "location": ""})
    assert r.status_code == 303, r.text
    [update] = store.conn.execute(
        "SELECT id, key, update_of, category, text FROM messages WHERE update_of = ?",
        (report,),
    ).fetchall()
    assert update["category"] == "kesehatan" and "Koreksi operator (omar)" in update["text"]
    [d] = store.conn.execute(
        "SELECT destination, state FROM deliveries WHERE message_id = ?", (update["id"],)
    ).fetchall()
    assert d["state"] == "queued"
    entry = store.accounts.audit_log(action="correction_forwarded", limit=1)[0]
    assert entry["actor"] == "omar" and d["destination"] in entry["detail"]
    # through the real forwarder to the stand-in: the update names its report's key
    cfg = from_mapping({"store": {"path": store.path}, "upstream": {"url": upstream.url}})
    stop = threading.Event()
    f = Forwarder(cfg, stop, client=WebhookClient(cfg.upstream, immediate_retries=1))
    f.step(store)
    report_key = store.queries.message(report)["key"]  # type: ignore[index]
    [got] = [q for q in upstream.requests if q.key == update["key"]]
    assert got.body["update_of"] == report_key and got.body["category"] == "kesehatan"
    sent = upstream.keys()
    assert report_key not in sent  # the report itself is not sent again
    # a report not yet delivered anywhere: corrected in place, no update
    waiting = sms(store, "+6285712345679", "LAPOR sampah menumpuk", minutes_ago=3, index=10)
    c.post(f"/laporan/{waiting}/koreksi", {"category": "lingkungan", "location": ""})
    assert not store.conn.execute(
        "SELECT 1 FROM messages WHERE update_of = ?", (waiting,)
    ).fetchall()
