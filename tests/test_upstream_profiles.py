"""The SP4N-LAPOR! profile, tracking-id notifications and the token file, against a real
loopback server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sms1708.config import ConfigError, from_mapping
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import make_client

RECORD = {
    "id": 7,
    "kind": "pengaduan",
    "text": "jalan rusak parah di desa Tanjung Raja sudah tiga bulan tidak diperbaiki pemerintah",
    "raw_text": "LAPOR RAHASIA jalan rusak parah di desa Tanjung Raja ...",
    "sender": "+6281234567890",
    "received_at": "2026-11-23T09:30:00+07:00",
    "anonymous": 0,
    "confidential": 1,
    "category": "infrastruktur",
    "location": "Desa Tanjung Raja, Kec. Muara Enim",
    "partial": 0,
}


def test_lapor_profile_maps_the_record_and_reads_a_nested_tracking_id(
    upstream: StandIn,
) -> None:
    cfg = from_mapping(
        {
            "upstream": {"url": upstream.url, "profile": "lapor", "token_env": ""},
            "lapor": {"topics": {"infrastruktur": 42}, "default_topic": 5},
        }
    )
    client = make_client(cfg)
    try:
        res = client.send(RECORD, "key-7")
    finally:
        client.close()
    body = upstream.requests[-1].body
    assert upstream.requests[-1].key == "key-7" == body["idempotency_key"]
    assert body["topic_id"] == 42 and body["rahasia"] is True and body["anonim"] is False
    assert body["phone"] == "+6281234567890" and body["content"] == RECORD["text"]
    assert len(body["title"]) <= 60 and RECORD["text"].startswith(body["title"])
    assert body["source"] == "SMS 1708" and body["location"] == RECORD["location"]
    assert res.tracking_id == upstream.tracking["key-7"]
    assert cfg.lapor.topic_for("kesehatan") == 5 and cfg.lapor.topic_for(None) == 5


def test_token_file_must_be_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMS1708_UPSTREAM_TOKEN", raising=False)
    f = tmp_path / "token"
    f.write_text("s3cret-token\n")
    os.chmod(f, 0o644)
    cfg = from_mapping({"upstream": {"url": "https://x.example", "token_file": str(f)}})
    with pytest.raises(ConfigError) as e:
        cfg.upstream.token()
    assert e.value.key == "upstream.token_file" and "chmod 600" in str(e.value)
    os.chmod(f, 0o600)
    assert cfg.upstream.token() == "s3cret-token"
    monkeypatch.setenv("SMS1708_UPSTREAM_TOKEN", "from-env")
    assert cfg.upstream.token() == "from-env"  # the environment wins


def test_unknown_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as e:
        from_mapping({"upstream": {"profile": "kemenpan"}})
    assert e.value.key == "upstream.profile"


def test_status_changes_from_the_upstream_are_stored_and_texted_once(
    upstream: StandIn, tmp_path: Path
) -> None:
    import threading
    from datetime import datetime, timedelta, timezone

    from sms1708.core.intake import IntakeRules
    from sms1708.core.pdu import decode_deliver, encode_deliver
    from sms1708.store.store import IncomingPart, Store
    from sms1708.upstream.forwarder import Forwarder

    cfg = from_mapping(
        {
            "store": {"path": str(tmp_path / "s.db")},
            "upstream": {
                "url": upstream.url,
                "status_url": upstream.status_url,
                "token_env": "",
                "status_interval": 60.0,
            },
        }
    )
    t = [1_800_000_000.0]
    store = Store.open(cfg.store.path)
    citizen = "+6281234567890"
    [p] = encode_deliver(
        citizen,
        "LAPOR jembatan putus di desa Lubuk",
        datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=7))),
    )
    store.intake.ingest(
        "modem0", [IncomingPart("SM", 1, p, decode_deliver(p))], now=t[0], rules=IntakeRules()
    )
    f = Forwarder(cfg, threading.Event(), clock=lambda: t[0], rand=lambda: 0.5)
    try:
        assert f.step(store) == 1
        tracking = store.queries.message(1)["tracking_id"]  # type: ignore[index]
        upstream.statuses[tracking] = "Diproses oleh Dinas PUPR"
        t[0] += 61
        assert f.poll_statuses(store) == 1
        m = store.queries.message(1)
        assert m is not None and m["upstream_status"] == "Diproses oleh Dinas PUPR"
        texts = [r["text"] for r in m["replies"] if r["purpose"] == "status_change"]
        assert texts == [f"Laporan 1 (LAPOR! {tracking}): Diproses oleh Dinas PUPR"]
        t[0] += 61
        f.next_status_poll = 0.0
        assert f.poll_statuses(store) == 1  # asked again, same answer: no second SMS
        m = store.queries.message(1)
        assert m is not None
        assert len([r for r in m["replies"] if r["purpose"] == "status_change"]) == 1
        # a citizen's CEK now answers with the upstream's words
        [q] = encode_deliver(
            citizen, "cek 1", datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=7)))
        )
        store.intake.ingest(
            "modem0", [IncomingPart("SM", 2, q, decode_deliver(q))], now=t[0], rules=IntakeRules()
        )
        status_reply = store.queries.message(2)["replies"][0]["text"]  # type: ignore[index]
        assert status_reply == "Laporan 1: Diproses oleh Dinas PUPR."
    finally:
        f.client.close()
        store.close()
