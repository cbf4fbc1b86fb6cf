"""The generic JSON webhook against real HTTP servers on 127.0.0.1: the upstream stand-in, and a
tiny capturing server where the exact bytes on the wire matter (the signature)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from sms1708.config import UpstreamConfig
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.errors import (
    UpstreamAmbiguous,
    UpstreamNotAcknowledged,
    UpstreamRejected,
    UpstreamRetryable,
    UpstreamUnreachable,
)
from sms1708.store.store import IncomingPart, OutboxItem, Store
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import SIGNATURE_HEADER, Delivered, WebhookClient, retry_after_seconds

WIRE_KEYS = {
    "id",
    "kind",
    "text",
    "sender",
    "received_at",
    "anonymous",
    "confidential",
    "category",
    "location",
}
CITIZEN = "+6281234567890"
TOKEN = "tok-1708-abc"
SECRET = "rahasia-penandatangan"


@pytest.fixture
def item(tmp_path: Path) -> Iterator[OutboxItem]:
    """A complaint as the forwarder gets it: through the real intake and queue."""
    scts = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=7)))
    [pdu] = encode_deliver(CITIZEN, "LAPOR RAHASIA jembatan desa retak", scts)
    s = Store.open(tmp_path / "sms1708.db")
    s.intake.ingest(
        "modem0",
        [IncomingPart("SM", 1, pdu, decode_deliver(pdu))],
        now=1_714_532_400.0,
        rules=IntakeRules(),
    )
    [it] = s.outbox.claim(now=1_714_532_400.0, lease=60, limit=1)
    s.close()
    yield it


def client(url: str, *, timeout: float = 3.0, **kw: Any) -> WebhookClient:
    return WebhookClient(UpstreamConfig(url=url, timeout=timeout, connect_timeout=1.0), **kw)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class Capture:
    """A purpose-built HTTP server that keeps the raw request bytes and answers as told."""

    def __init__(self, status: int = 201, payload: bytes = b'{"tracking_id": "T-1"}') -> None:
        self.status = status
        self.payload = payload
        self.requests: list[tuple[dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_a: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.requests.append((lower(dict(self.headers.items())), raw))
                self.send_response(owner.status)
                self.send_header("Content-Length", str(len(owner.payload)))
                if owner.payload:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(owner.payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture() -> Iterator[Capture]:
    c = Capture()
    yield c
    c.close()


class CountingTransport(httpx.HTTPTransport):
    """The real transport, counting the requests it was asked to carry."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return super().handle_request(request)


# ---------------------------------------------------------------- the wire format


def test_the_body_and_headers_follow_the_wire_format(upstream: StandIn, item: OutboxItem) -> None:
    c = client(upstream.url)
    try:
        res = c.send(item.record, item.key)
    finally:
        c.close()
    assert res == Delivered(201, upstream.tracking[item.key])
    [req] = upstream.requests
    body, headers = req.body, lower(req.headers)
    assert set(body) >= WIRE_KEYS
    assert body["id"] == item.key == req.key == headers["idempotency-key"]
    assert body["kind"] == "pengaduan" and body["text"] == "jembatan desa retak"
    assert body["sender"] == CITIZEN
    assert body["confidential"] is True and body["anonymous"] is False
    assert body["category"] is None and body["location"] is None
    assert datetime.fromisoformat(body["received_at"]).utcoffset() == timedelta(hours=7)
    assert headers["content-type"] == "application/json"
    # no token, no secret: no such headers at all
    assert "authorization" not in headers
    assert SIGNATURE_HEADER.lower() not in headers


def test_a_token_is_sent_as_bearer_and_the_signature_verifies(
    capture: Capture, item: OutboxItem
) -> None:
    c = client(capture.url, token=TOKEN, secret=SECRET)
    try:
        assert c.send(item.record, item.key) == Delivered(201, "T-1")
    finally:
        c.close()
    [(headers, raw)] = capture.requests
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["idempotency-key"] == json.loads(raw)["id"] == item.key
    fields = dict(f.split("=", 1) for f in headers[SIGNATURE_HEADER.lower()].split(","))
    assert set(fields) == {"t", "v1"}
    t = int(fields["t"])
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    wrong = hmac.new(b"another secret", f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    assert fields["v1"] != wrong


def test_a_secret_alone_signs_and_a_token_alone_does_not(
    capture: Capture, item: OutboxItem
) -> None:
    for kw in ({"secret": SECRET}, {"token": TOKEN}):
        c = client(capture.url, **kw)
        try:
            c.send(item.record, item.key)
        finally:
            c.close()
    (signed, _), (bearer, _) = capture.requests
    assert SIGNATURE_HEADER.lower() in signed and "authorization" not in signed
    assert SIGNATURE_HEADER.lower() not in bearer and "authorization" in bearer


# ---------------------------------------------------------------- outcomes


def test_a_repeated_key_gets_the_same_tracking_id(upstream: StandIn, item: OutboxItem) -> None:
    c = client(upstream.url)
    try:
        first = c.send(item.record, item.key)
        again = c.send(item.record, item.key)
    finally:
        c.close()
    assert first.tracking_id is not None and first == again
    assert upstream.keys() == [item.key, item.key]


def test_a_503_with_retry_after_is_retryable(upstream: StandIn, item: OutboxItem) -> None:
    upstream.mode = "fail"
    c = client(upstream.url)
    try:
        with pytest.raises(UpstreamRetryable) as e:
            c.send(item.record, item.key)
    finally:
        c.close()
    assert e.value.status == 503 and e.value.retry_after == 1.0
    assert len(upstream.requests) == 1  # the server answered: no immediate retry


def test_a_422_is_a_rejection_with_the_servers_reason(upstream: StandIn, item: OutboxItem) -> None:
    upstream.mode = "reject"
    c = client(upstream.url)
    try:
        with pytest.raises(UpstreamRejected) as e:
            c.send(item.record, item.key)
    finally:
        c.close()
    assert e.value.status == 422
    assert "record rejected by the stand-in" in str(e.value)
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Delivered),
        (202, Delivered),
        # an empty answer is not the upstream's acknowledgement (P14): retried, same key
        (204, UpstreamNotAcknowledged),
        (408, UpstreamRetryable),
        (425, UpstreamRetryable),
        (429, UpstreamRetryable),
        (500, UpstreamRetryable),
        (502, UpstreamRetryable),
        (400, UpstreamRejected),
        (401, UpstreamRejected),
        (404, UpstreamRejected),
        (409, UpstreamRejected),
    ],
)
def test_statuses_are_classified_as_the_wire_format_says(
    capture: Capture, item: OutboxItem, status: int, expected: type
) -> None:
    capture.status = status
    capture.payload = b"" if status == 204 else b'{"tracking_id": "T-9"}'
    c = client(capture.url)
    try:
        if expected is Delivered:
            res = c.send(item.record, item.key)
            assert res.status == status
            assert res.tracking_id == "T-9"
        else:
            with pytest.raises(expected) as e:
                c.send(item.record, item.key)
            assert e.value.status == status
    finally:
        c.close()
    assert len(capture.requests) == 1


def test_a_reset_connection_is_ambiguous(upstream: StandIn, item: OutboxItem) -> None:
    upstream.mode = "reset"
    c = client(upstream.url)
    try:
        with pytest.raises(UpstreamAmbiguous):
            c.send(item.record, item.key)
    finally:
        c.close()
    # the request reached the server: it is not retried blindly at once
    assert upstream.keys() == [item.key]


def test_a_hang_past_the_timeout_is_ambiguous_and_the_server_did_get_it(
    item: OutboxItem,
) -> None:
    with StandIn(hang_seconds=10) as s:
        s.mode = "hang"
        c = client(s.url, timeout=0.5)
        try:
            with pytest.raises(UpstreamAmbiguous):
                c.send(item.record, item.key)
        finally:
            c.close()
        # the outcome is really unknown: the stand-in processed it and gave it a tracking id
        assert s.keys() == [item.key]
        assert item.key in s.tracking


def test_a_server_that_is_down_is_unreachable_after_the_immediate_retries(
    upstream: StandIn, item: OutboxItem
) -> None:
    upstream.down()
    transport = CountingTransport()
    c = client(upstream.url, transport=transport, immediate_retries=2)
    try:
        with pytest.raises(UpstreamUnreachable):
            c.send(item.record, item.key)
        assert transport.calls == 2
        assert upstream.requests == []
        # the link comes back: the same client gets through
        upstream.up()
        assert c.send(item.record, item.key).tracking_id == upstream.tracking[item.key]
    finally:
        c.close()
    assert transport.calls == 3


# ---------------------------------------------------------------- Retry-After


NOW = 1_714_532_400.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        (format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True), 90.0),
        (format_datetime(datetime.fromtimestamp(NOW - 90, UTC), usegmt=True), 0.0),
        ("Wed, 01 May 2024 03:05:00 GMT", 300.0),  # NOW is 03:00:00 GMT that day
    ],
)
def test_retry_after_in_seconds_and_http_date_forms(
    value: str | None, expected: float | None
) -> None:
    assert retry_after_seconds(value, NOW) == expected
