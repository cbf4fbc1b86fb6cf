"""Graceful stop: SIGTERM while ``sms1708 run`` waits on the outside world (an upstream that does
not answer, a modem slow to send an SMS) ends the process promptly with exit code 0, and what
was cut off is done on the next start: the complaint sent again under the same key (P4, P6),
the reply sent (at least once).

"Promptly" is checked only as a hang guard far below the configured upstream/modem timeouts:
without a graceful stop the process would sit there until those expire.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import DaemonProcess, wait_until
from .faults import query, tally_replies

CITIZEN = "+6281234567890"
SLOW = 60.0  # the upstream/modem timeouts: a stop must not wait for them
GUARD = 25.0  # hang guard for the exit after SIGTERM, well below SLOW


def sigterm(d: DaemonProcess) -> int:
    assert d.proc is not None and d.proc.poll() is None, "the daemon is not running"
    d.proc.send_signal(signal.SIGTERM)
    return d.proc.wait(GUARD)  # raises TimeoutExpired (the test fails) if it hangs on


def events(d: DaemonProcess, since: int = 0) -> list[str]:
    return [str(e.get("event")) for e in d.events()[since:]]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigterm_during_a_hung_upstream_call_exits_at_once_and_the_next_start_resends_the_key(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    db = tmp_path / "sms1708.db"
    upstream.hang_seconds = 3 * SLOW  # takes the request, never answers within the test
    upstream.mode = "hang"
    cfg = make_config(
        modem,
        upstream,
        modem={"poll_interval": 1.0},
        # a lease far longer than the test: a resend on the next start cannot come from the
        # lease running out, only from the stop having recorded what it cut off
        upstream={"timeout": SLOW, "lease_seconds": 10 * SLOW, "retry_base": 0.2},
    )
    d = daemon(cfg)
    assert d.wait_event("modem_ready"), d.events()
    modem.receive_sms(CITIZEN, "LAPOR tiang listrik miring hampir roboh di depan masjid")
    assert wait_until(lambda: len(upstream.requests) == 1, 30), events(d)
    [first] = upstream.requests  # the forwarder now sits in the HTTP call

    assert sigterm(d) == 0
    assert "daemon_stopped" in events(d)
    [row] = query(db, "SELECT o.state, o.ambiguous_count, m.key, m.id FROM outbox o"
                      " JOIN messages m ON m.id = o.message_id")  # fmt: skip
    assert row["key"] == first.key
    # the cut-off request is not lost in `sending` until a lease runs out: it is ambiguous,
    # visible, and due again at once
    assert (row["state"], row["ambiguous_count"]) == ("ambiguous", 1), row
    [att] = query(db, "SELECT outcome, detail FROM attempts WHERE message_id = ?", (row["id"],))
    assert att["outcome"] == "ambiguous", att

    upstream.mode = "up"
    seen = len(d.events())
    d2 = daemon(cfg)
    assert upstream.wait_for(1, 30) and wait_until(lambda: len(upstream.requests) >= 2, 30)
    assert wait_until(
        lambda: query(db, "SELECT state FROM outbox")[0]["state"] == "delivered", 30
    ), events(d2, seen)
    assert d2.terminate() == 0
    keys = [r.key for r in upstream.requests]
    assert keys == [first.key, first.key], keys
    assert upstream.requests[1].body == first.body
    [m] = query(db, "SELECT tracking_id FROM messages")
    assert m["tracking_id"] == upstream.tracking[first.key]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigterm_while_the_modem_is_slow_to_send_a_reply_exits_and_the_reply_goes_out_later(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    db = tmp_path / "sms1708.db"
    cfg = make_config(modem, upstream, modem={"poll_interval": 1.0, "send_timeout": SLOW})
    d = daemon(cfg)
    assert d.wait_event("modem_ready"), d.events()
    modem.cmgs_latency = 8.0  # the network takes its time to accept the SMS

    def rx() -> str:
        return "".join(e[3] for e in list(modem.log) if e[2] == "rx")

    modem.receive_sms(CITIZEN, "LAPOR jembatan retak di desa Sukamaju")
    # the reply's PDU and Ctrl-Z are written: the daemon waits for +CMGS
    assert wait_until(lambda: "\x1a" in rx(), 30), events(d)
    assert upstream.wait_for(1, 30)

    assert sigterm(d) == 0
    assert "daemon_stopped" in events(d)
    [reply] = query(db, "SELECT state FROM replies WHERE purpose = 'receipt'")
    assert reply["state"] in ("queued", "retry"), reply  # given back, not stuck in `sending`

    modem.cmgs_latency = 0.0
    d2 = daemon(cfg)
    assert wait_until(
        lambda: {r["state"] for r in query(db, "SELECT state FROM replies")} == {"sent"}, 60
    ), (query(db, "SELECT * FROM replies"), events(d2))
    assert d2.terminate() == 0
    t = tally_replies(modem, db)
    # the SMS the modem was sending at the stop did go out; at least once, at most twice
    assert t.phantoms == [] and t.unsent == []
    assert t.duplicates <= 1, t.sent
    print(f"\nreply cut off by SIGTERM: sent {sum(t.sent.values())} SMS, {t.duplicates} duplicate")
