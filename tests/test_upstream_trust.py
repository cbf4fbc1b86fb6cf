"""Only an acknowledgement is a delivery (P14), and nothing an upstream says is trusted further
than it should be: captive portals and quota pages, empty answers, redirects, huge bodies,
answers trickled a byte at a time, odd tracking ids, error texts with numbers and control
characters, plain http://. Against the real stand-in on 127.0.0.1 and a real SQLite file."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms1708.config import from_mapping
from sms1708.core.ack import Answer, clean_text, clean_tracking_id, judge
from sms1708.core.policy import Outcome
from sms1708.errors import (
    ConfigError,
    UnusableTrackingId,
    UpstreamAmbiguous,
    UpstreamNotAcknowledged,
)
from sms1708.store.store import OutboxItem, Store
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import WebhookClient
from tests.test_forwarder import Rig
from tests.test_webhook import item  # noqa: F401  (a fixture: one complaint, real intake)

# ---------------------------------------------------------------- the pure rule


@given(st.binary(max_size=300), st.integers(200, 299))
def test_a_2xx_is_a_delivery_only_when_its_body_is_a_json_object(body: bytes, status: int) -> None:
    v = judge(Answer(status, "application/json", body))
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    assert (v.outcome is Outcome.DELIVERED) == isinstance(data, dict)
    if v.outcome is not Outcome.DELIVERED:
        assert v.outcome is Outcome.RETRYABLE and v.not_acknowledged
        assert "not an acknowledgement" in v.detail
        # the alarm says the size, never the body
        assert f"{len(body)} bytes" in v.detail


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Kuota internet habis</body></html>", b"", b"   ", b"[]", b'"ok"', b"null",
     b"OK", b"{not json"],
)  # fmt: skip
def test_portal_pages_and_other_non_objects_are_not_acknowledgements(body: bytes) -> None:
    v = judge(Answer(200, "text/html; charset=utf-8", body))
    assert v.outcome is Outcome.RETRYABLE and v.not_acknowledged
    assert "Kuota" not in v.detail


def test_a_required_field_tightens_the_rule_at_the_top_level_or_under_data() -> None:
    rule = {"required_field": "tracking_id"}
    assert judge(Answer(201, "", b'{"status": "ok"}'), **rule).not_acknowledged
    assert judge(Answer(201, "", b'{"tracking_id": null}'), **rule).not_acknowledged
    ok = judge(Answer(201, "", b'{"data": {"tracking_id": 77}}'), **rule)
    assert ok.outcome is Outcome.DELIVERED and ok.tracking_id == "77"


def test_a_body_beyond_the_limit_is_not_an_acknowledgement() -> None:
    v = judge(Answer(200, "application/json", b'{"a": 1' + b" " * 50, truncated=True))
    assert v.not_acknowledged and "more than 57 bytes" in v.detail


def test_a_redirect_is_not_followed_and_raises_the_alarm() -> None:
    v = judge(Answer(302, "", b"", location="http://10.0.0.1/login?msisdn=081234567890"))
    assert v.outcome is Outcome.RETRYABLE and v.not_acknowledged
    assert "redirect" in v.detail and "081234567890" not in v.detail


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("#1916449", "1916449"), (1916449, "1916449"), ("LPR-2024/77", None), ("T-9", "T-9"),
     ("12\x1b[31m", None), ("1 2", None), ("a" * 33, None), ("", None), (True, None),
     (None, None), ({"id": 1}, None), ("../../etc", None), ("%2e%2e", None)],
)  # fmt: skip
def test_tracking_ids_are_checked_before_they_are_stored_texted_or_put_in_a_url(
    raw: Any, clean: str | None
) -> None:
    assert clean_tracking_id(raw) == clean


@given(st.text(max_size=500), st.integers(10, 300))
def test_untrusted_text_is_flat_bounded_and_free_of_control_characters(
    text: str, limit: int
) -> None:
    out = clean_text(text, limit)
    assert len(out) <= limit
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in out)
    assert "\u202e" not in out  # no right-to-left override to forge a terminal line


def test_error_texts_from_the_upstream_are_masked_and_cut() -> None:
    body = ("Nomor pelapor 0812-3456-7890 tidak valid\x1b[2J\r\n" + "x" * 2000).encode()
    v = judge(Answer(422, "text/plain", body))
    assert v.outcome is Outcome.REJECTED
    assert "3456" not in v.detail and "\x1b" not in v.detail and "\n" not in v.detail
    assert len(v.detail) < 260


# ---------------------------------------------------------------- the client on the wire


def client(url: str, **upstream: Any) -> WebhookClient:
    cfg = from_mapping({"upstream": {"url": url, "timeout": 2.0, **upstream}})
    return WebhookClient(cfg.upstream, immediate_retries=1)


@pytest.mark.parametrize("mode", ["portal", "empty", "redirect"])
def test_a_portal_answer_is_not_a_delivery(upstream: StandIn, item: OutboxItem, mode: str) -> None:  # noqa: F811
    upstream.mode = mode
    c = client(upstream.url)
    try:
        with pytest.raises(UpstreamNotAcknowledged) as e:
            c.send(item.record, item.key)
    finally:
        c.close()
    assert "Kuota" not in str(e.value)
    assert len(upstream.requests) == 1  # the redirect was not followed
    assert not upstream.tracking  # and it never reached the real upstream


def test_a_huge_answer_is_read_only_up_to_the_limit(upstream: StandIn, item: OutboxItem) -> None:  # noqa: F811
    upstream.mode = "huge"
    upstream.huge_bytes = 4 << 20
    c = client(upstream.url, max_response_bytes=64 << 10)
    try:
        with pytest.raises(UpstreamNotAcknowledged) as e:
            c.send(item.record, item.key)
    finally:
        c.close()
    assert "larger than the limit" in str(e.value)


def test_an_answer_trickled_a_byte_at_a_time_ends_at_the_deadline(
    upstream: StandIn,
    item: OutboxItem,  # noqa: F811
) -> None:
    upstream.mode = "trickle"
    upstream.trickle_interval = 0.2  # ~50 bytes: 10 s to answer, every read well in time
    c = client(upstream.url, timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamAmbiguous):
            c.send(item.record, item.key)
    finally:
        c.close()
    assert time.monotonic() - started < 8  # a hang guard: the deadline is 1 s, not per read
    assert upstream.keys() == [item.key]


def test_a_status_poll_never_puts_an_odd_tracking_id_in_a_url(upstream: StandIn) -> None:
    c = client(upstream.url, status_url=upstream.status_url)
    try:
        with pytest.raises(UnusableTrackingId):
            c.fetch_status("12\x1b[0m/../x", "k")
    finally:
        c.close()
    assert upstream.requests == []


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("upstream", "ok"),
    [({"url": "http://lapor.example.go.id/api"}, False),
     ({"url": "http://lapor.example.go.id/api", "allow_insecure": True}, True),
     ({"url": "https://lapor.example.go.id/api"}, True),
     ({"url": "http://127.0.0.1:8080/x"}, True),
     ({"url": "http://localhost/x"}, True),
     ({"url": "http://[::1]/x"}, True),
     ({"url": "https://a/x", "status_url": "http://a/s/{tracking_id}"}, False)],
)  # fmt: skip
def test_plain_http_only_to_this_box_unless_the_operator_allows_it(
    upstream: dict[str, Any], ok: bool
) -> None:
    if ok:
        from_mapping({"upstream": upstream})
    else:
        with pytest.raises(ConfigError, match="in clear"):
            from_mapping({"upstream": upstream})


@pytest.mark.parametrize(
    "status_url",
    ["https://a/s/{tracking}", "https://a/s/{tracking_id!r}", "https://a/s/{key:>10}",
     "https://a/s/{tracking_id", "https://a/s/{0}", "https://a/s/{}"],
)  # fmt: skip
def test_status_url_placeholders_are_checked_when_the_config_is_loaded(status_url: str) -> None:
    with pytest.raises(ConfigError) as e:
        from_mapping({"upstream": {"url": "https://a/c", "status_url": status_url}})
    assert e.value.key == "upstream.status_url"


# ---------------------------------------------------------------- the forwarder


@pytest.fixture
def rig(tmp_path: Path, upstream: StandIn) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(**cfg: Any) -> Rig:
        r = Rig(tmp_path, upstream, **cfg)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def test_a_captive_portal_for_a_while_loses_nothing_and_raises_the_alarm(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig(retry_base=1.0, retry_cap=5.0)
    mids = [r.sms(f"LAPOR jalan berlubang di dusun {i}") for i in range(8)]
    upstream.mode = "portal"
    for _ in range(4):
        r.step()
        r.clock.advance(10)
    # none counted as delivered: retried (or given back unattempted after a failing wave)
    assert {r.row(m)["state"] for m in mids} <= {"retry", "queued"}
    assert r.row(mids[0])["attempts"] >= 2
    assert r.fwd.health.upstream["not_acknowledged_at"] is not None
    assert "not an acknowledgement" in (r.fwd.health.upstream["problem"] or "")
    assert not upstream.tracking
    upstream.mode = "up"
    while r.step():
        r.clock.advance(10)
    assert {r.row(m)["state"] for m in mids} == {"delivered"}
    keys = [r.row(m)["key"] for m in mids]
    assert sorted(upstream.delivered()) == sorted(keys)  # each exactly once, same key
    assert r.fwd.health.upstream["not_acknowledged_at"] is None


def test_one_slow_request_does_not_hold_back_the_others_outcomes(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    upstream.hang_seconds = 60
    upstream.hang_if = lambda body: "LAMBAT" in str(body.get("text"))
    r = rig(concurrency=4, timeout=30.0)
    slow = r.sms("LAPOR LAMBAT jawaban yang tidak kunjung datang")
    quick = [r.sms(f"LAPOR lampu jalan mati di gang {i}") for i in range(5)]
    done = threading.Event()
    t = threading.Thread(target=lambda: (r.fwd.step(r.store), done.set()), daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 30
        # a second connection, as an operator's `status` would read
        reader = Store.open(r.cfg.store.path)
        try:
            while time.monotonic() < deadline:
                states = [reader.queries.message(m)["state"] for m in quick]  # type: ignore[index]
                if set(states) == {"delivered"}:
                    break
                time.sleep(0.05)
            assert set(states) == {"delivered"}
            assert not done.is_set()  # the slow request is still waiting for its answer
            assert reader.queries.message(slow)["state"] == "sending"  # type: ignore[index]
        finally:
            reader.close()
    finally:
        r.stop.set()
        upstream._release.set()
        t.join(30)


def test_a_failing_batch_opens_the_breaker_once(rig: Callable[..., Rig], upstream: StandIn) -> None:
    r = rig(concurrency=4, batch=4, breaker_threshold=1, breaker_pause=5.0)
    for i in range(4):
        r.sms(f"LAPOR keluhan {i}")
    upstream.mode = "fail"
    assert r.step() == 4
    assert len(upstream.requests) == 4
    assert r.fwd.breaker.openings == 1
    assert r.fwd.breaker.open_until - r.clock() == pytest.approx(5.0)
