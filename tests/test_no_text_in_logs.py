"""An error never carries a citizen's SMS text into a log line, `status` or the attempts log
(P12: a RAHASIA report's text is as confidential as the number)."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

from sms1708 import logsetup
from sms1708.config import from_mapping
from sms1708.errors import describe, redact_texts, scrub
from sms1708.health import Health
from sms1708.store.store import Store
from sms1708.upstream.forwarder import Forwarder
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import WebhookClient

SECRET = "LAPOR#RAHASIA kepala desa Tanjung minta uang Rp 5 juta \ud83d"


def split_emoji_error() -> UnicodeEncodeError:
    """What storing a report with half an emoji raises (SQLite encodes the text as UTF-8)."""
    try:
        SECRET.encode("utf-8")
    except UnicodeEncodeError as e:
        return e
    raise AssertionError("no error")


def test_an_exception_logged_by_the_loops_never_brings_the_text() -> None:
    out = io.StringIO()
    logsetup.setup("json", "info", stream=out)
    log = logsetup.get_logger("sms1708.test")
    e = split_emoji_error()
    try:
        raise e
    except UnicodeEncodeError as caught:
        # the shapes the daemon's loops log an unexpected error in
        log.error("modem_worker_error", modem="modem0", error=repr(caught), exc_info=True)
        log.error("forwarder_error", error=caught)
        log.warning("store_error", error=f"batch failed: {caught!r}")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        event = json.loads(line)  # still one JSON event per line
        assert "kepala desa" not in line and "RAHASIA" not in line, line
        assert "UnicodeEncodeError" in json.dumps(event)
    assert "position 55" in lines[1]


def test_describe_and_scrub_keep_the_kind_of_error_not_the_data() -> None:
    e = split_emoji_error()
    assert "kepala desa" in repr(e)  # what used to reach the log
    assert (
        describe(e)
        == "UnicodeEncodeError: utf-8 cannot encode at position 55: surrogates not allowed"
    )
    assert "kepala desa" not in scrub(f"error={e!r} (retrying)")
    assert scrub(f"error={e!r} (retrying)").endswith("(retrying)")
    try:
        b'LAPOR it\'s "quoted" \xff'.decode()
    except UnicodeDecodeError as d:
        assert "quoted" not in scrub(repr(d)) and "quoted" not in describe(d)
    assert describe(ValueError("bad port")) == "ValueError: bad port"


def test_status_problems_never_carry_the_text() -> None:
    h = Health()
    e = split_emoji_error()
    h.update_modem("modem0", problem=repr(e))
    h.update_upstream(problem=e)
    snap = json.dumps(h.snapshot(), ensure_ascii=False)
    assert "kepala desa" not in snap and "UnicodeEncodeError" in snap


def test_an_upstream_that_quotes_the_report_back_is_not_quoted_in_our_records(
    tmp_path: Path, upstream: StandIn
) -> None:
    from datetime import datetime, timedelta, timezone

    from sms1708.core.intake import IntakeRules
    from sms1708.core.pdu import decode_deliver, encode_deliver
    from sms1708.store.store import IncomingPart

    text = "LAPOR#RAHASIA kepala desa Tanjung minta uang Rp 5 juta untuk KTP"
    upstream.mode = "reject"
    upstream.reject_echo = True
    cfg = from_mapping(
        {"store": {"path": str(tmp_path / "s.db")}, "upstream": {"url": upstream.url}}
    )
    store = Store.open(cfg.store.path)
    [p] = encode_deliver(
        "+6281234567890", text, datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=7)))
    )
    store.intake.ingest(
        "modem0", [IncomingPart("SM", 1, p, decode_deliver(p))], now=1.0, rules=IntakeRules()
    )
    out = io.StringIO()
    logsetup.setup("json", "info", stream=out)
    client = WebhookClient(cfg.upstream)
    fwd = Forwarder(cfg, threading.Event(), client=client, clock=lambda: 2.0, rand=lambda: 0.5)
    try:
        assert fwd.step(store) == 1
        m = store.queries.message(1)
    finally:
        client.close()
        store.close()
    assert m is not None and m["state"] == "dead"
    assert "[SMS text]" in m["last_error"] and "is not acceptable" in m["last_error"]
    assert "kepala desa" not in m["last_error"]
    assert all("kepala desa" not in (a["detail"] or "") for a in m["attempts_log"])
    assert "kepala desa" not in out.getvalue() and "upstream_attempt_failed" in out.getvalue()
    # the stand-in did quote it: the redaction is what kept it out
    assert upstream.requests and "kepala desa" in json.dumps(upstream.requests[0].body)


def test_redaction_catches_escaped_and_cut_quotes() -> None:
    text = 'LAPOR "pungli" di kantor desa Tanjung oleh pak kades, tolong ditindak'
    for answer in (
        f"bad text: {text}",
        f'{{"error": {json.dumps(text)}}}',
        f"bad text: {text[:50]}",
    ):
        assert "kantor desa" not in redact_texts(answer, [text]), answer
    assert redact_texts("HTTP 422: field sender missing", [text]) == (
        "HTTP 422: field sender missing"
    )


def test_a_raw_pdu_in_a_log_line_is_replaced_by_its_length() -> None:
    from datetime import datetime, timedelta, timezone

    from sms1708.core.pdu import encode_deliver

    [pdu] = encode_deliver(
        "+6281234567890",
        "LAPOR#RAHASIA kades minta uang",
        datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=7))),
    )
    out = io.StringIO()
    logsetup.setup("json", "debug", stream=out)
    log = logsetup.get_logger("sms1708.test")
    log.info("modem_line_noise", modem="modem0", line=pdu[:80])
    log.debug("modem_late_answer_dropped", modem="modem0", line=pdu)
    key = "3f2a9c0d1e4b5a6978c1d2e3f4a5b6c7"  # an idempotency key stays readable
    log.info("upstream_delivered", key=key)
    text = out.getvalue()
    assert pdu[:40] not in text and "2618325476" not in text  # 62 81 23 45 67 in semi-octets
    assert "[PDU, 40 bytes]" in text and key in text
