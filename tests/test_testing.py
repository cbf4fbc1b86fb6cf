"""sms1708.testing used as an integrator would: a profile of one's own (a body mapping) tested
against the stand-in, through the daemon with the emulated modem, and under the fault seams."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import serial

from sms1708.config import UpstreamConfig, from_mapping
from sms1708.daemon import Daemon
from sms1708.errors import StoreFullError, UpstreamAmbiguous, UpstreamRejected
from sms1708.testing import (
    FaultyTransport,
    NthCall,
    emulated_modem,
    faulty_store,
    upstream_standin,
)
from sms1708.upstream.webhook import WebhookClient

HANG_GUARD = 60.0


def district_mapper(record: dict[str, Any], key: str) -> dict[str, Any]:
    """An integrator's own upstream profile: the record in the district's field names."""
    return {"ref": key, "judul": record.get("category") or "umum", "isi": record.get("text")}


def read_until(port: serial.Serial, marker: bytes) -> bytes:
    got = b""
    deadline = time.monotonic() + HANG_GUARD
    while marker not in got and time.monotonic() < deadline:
        got += port.read(port.in_waiting or 1)
    return got


def test_the_emulated_modem_helper_gives_a_port_that_pyserial_opens_and_stops_it(
    tmp_path: Path,
) -> None:
    link = tmp_path / "modem"
    with emulated_modem(link, sm_capacity=5) as modem:
        assert modem.port == str(link) and link.is_symlink()
        with serial.Serial(modem.port, 115200, timeout=0.2) as port:
            port.write(b"AT+CPMS?\r")
            assert b'+CPMS: "SM",0,5' in read_until(port, b"OK\r\n")
            modem.receive_sms("+6281234567890", "LAPOR jalan rusak")
            assert b'+CMTI: "SM",1' in read_until(port, b"+CMTI")
    assert not modem.plugged and not link.exists()


def test_the_emulated_modem_helper_stops_the_modem_when_the_test_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), emulated_modem(tmp_path / "modem") as modem:
        raise RuntimeError("the test failed")
    assert not modem.plugged


def test_the_standin_helper_records_what_a_profile_of_ones_own_sends() -> None:
    record = {"text": "Jalan rusak di Desa Sukamaju", "category": "jalan"}
    with upstream_standin() as upstream:
        client = WebhookClient(UpstreamConfig(url=upstream.url), mapper=district_mapper)
        try:
            delivered = client.send(record, "key-1")
        finally:
            client.close()
        assert [r.body for r in upstream.requests] == [
            {"ref": "key-1", "judul": "jalan", "isi": "Jalan rusak di Desa Sukamaju"}
        ]
        assert upstream.requests[0].key == "key-1"
        assert delivered.tracking_id == upstream.tracking["key-1"]
        url = upstream.url
    with pytest.raises(httpx.ConnectError):  # stopped on exit: nothing listens any more
        httpx.post(url, json={}, timeout=5)


def test_the_standin_helper_takes_its_settings_and_refuses_unknown_ones() -> None:
    with upstream_standin(mode="reject") as upstream:
        client = WebhookClient(UpstreamConfig(url=upstream.url), mapper=district_mapper)
        try:
            with pytest.raises(UpstreamRejected):
                client.send({"text": "x"}, "key-2")
        finally:
            client.close()
    with pytest.raises(TypeError, match="no setting 'moed'"), upstream_standin(moed="reject"):
        pass


def test_a_faulty_transport_fails_only_the_nth_request() -> None:
    with upstream_standin() as upstream:
        counter = NthCall(fire_at=1)
        transport = FaultyTransport(counter, "no_answer")
        client = WebhookClient(
            UpstreamConfig(url=upstream.url), mapper=district_mapper, transport=transport
        )
        try:
            with pytest.raises(UpstreamAmbiguous):  # sent, the answer lost: outcome unknown
                client.send({"text": "x"}, "key-3")
            assert [r.key for r in upstream.requests] == ["key-3"]  # it did arrive
            client.send({"text": "x"}, "key-3")  # the retry is acknowledged
        finally:
            client.close()
        assert counter.fired_at == ["no_answer POST key=key-3"] and counter.calls == 2


def test_a_connect_fault_is_retried_at_once_by_the_client() -> None:
    with upstream_standin() as upstream:
        counter = NthCall(fire_at=1)
        client = WebhookClient(
            UpstreamConfig(url=upstream.url),
            mapper=district_mapper,
            transport=FaultyTransport(counter, "connect"),
        )
        try:
            client.send({"text": "x"}, "key-4")
        finally:
            client.close()
        assert counter.fired and len(upstream.requests) == 1


def test_a_faulty_store_refuses_the_begin_of_the_nth_transaction_of_one_method(
    tmp_path: Path,
) -> None:
    """Only ``queue_reply`` is counted (not the migrations of ``open``); its 2nd transaction is
    refused at BEGIN, so nothing of it is written, and the 3rd goes through."""
    db = tmp_path / "x.db"
    counter = NthCall(fire_at=2, where="queue_reply")
    store = faulty_store(counter, StoreFullError, at="begin")(str(db))
    outcomes: list[str] = []
    try:
        for text in ("first", "second", "third"):
            try:
                store.replies.queue_reply(
                    modem="m", recipient="+6281234567890", text=text, purpose="p", now=0.0
                )
                outcomes.append(text)
            except StoreFullError as e:
                outcomes.append(f"refused: {e}")
    finally:
        store.close()
    assert outcomes == [
        "first",
        f"refused: {db}: injected fault at BEGIN of queue_reply",
        "third",
    ]
    with sqlite3.connect(db) as conn:
        texts = [r[0] for r in conn.execute("SELECT text FROM replies ORDER BY id")]
    assert texts == ["first", "third"] and counter.fired_at == ["queue_reply@begin"]


def test_a_profile_of_ones_own_end_to_end_with_the_emulated_modem(tmp_path: Path) -> None:
    """What the README shows: a citizen's SMS on the emulated modem, the daemon in the test's
    process with the integrator's mapping, the mapped record at the stand-in."""
    with emulated_modem(tmp_path / "modem") as modem, upstream_standin() as upstream:
        modem.receive_sms("+6281234567890", "LAPOR jalan rusak di Desa Sukamaju")
        cfg = from_mapping(
            {
                "modem": {"port": modem.port, "poll_interval": 0.5},
                "store": {"path": str(tmp_path / "sms1708.db")},
                "upstream": {"url": upstream.url},
                "replies": {"own_number": "+6281299990000"},
            }
        )
        daemon = Daemon(
            cfg, client_factory=lambda c: WebhookClient(c.upstream, mapper=district_mapper)
        )
        daemon.start()
        try:
            deadline = time.monotonic() + HANG_GUARD
            while not (upstream.requests and not modem.stored()):
                assert time.monotonic() < deadline, "the complaint never reached the stand-in"
                daemon.tick()
                time.sleep(0.1)
        finally:
            daemon.shutdown()
        body = upstream.requests[0].body
        assert set(body) == {"ref", "judul", "isi"} and "jalan rusak" in body["isi"]


def test_the_testing_module_does_not_need_pytest() -> None:
    code = "import sys; import sms1708.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
