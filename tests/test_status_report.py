"""The status report as a library: the facts, the alarms they raise, the JSON and the text.

Every alarm `sms1708 status` can raise is checked here on facts made by hand (no daemon, no
modem), and once on a real Store file through :func:`sms1708.status.gather`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from sms1708 import config, sitetime
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.status import Facts, alarms, gather, render_text, report
from sms1708.store.store import IncomingPart, Store

from .conftest import write_config


def facts(**changes: Any) -> Facts:
    """A running daemon with one connected modem and nothing wrong."""
    base = Facts(
        database="/var/lib/sms1708/sms1708.db",
        daemon={
            "modems": {"modem0": {"connected": True, "storage": {"SM": [3, 30]}}},
            "loops": {},
            "clock": {},
            "upstream": {},
        },
        running=True,
        counts={
            "outbox": {"delivered": 4},
            "replies": {"sent": 4},
            "parts": {"decoded": 4},
            "messages": {"total": 4},
        },
        today={"modem0": 4},
        daily_budget=100,
        unconfirmed={},
        destinations={
            "upstream": {
                "configured": True,
                "primary": True,
                "queue": {"delivered": 4},
                "last_delivery_at": None,
                "circuit_open_until": None,
                "problem": None,
            }
        },
        site_timezone="Asia/Jakarta",
    )
    return dataclasses.replace(base, **changes)


def daemon(**changes: Any) -> dict[str, Any]:
    return {**facts().daemon, **changes}


def destination(configured: bool = True, primary: bool = False, **h: Any) -> dict[str, Any]:
    return {
        "configured": configured,
        "primary": primary,
        "queue": h.pop("queue", {}),
        "last_delivery_at": None,
        "circuit_open_until": h.pop("circuit_open_until", None),
        "problem": h.pop("problem", None),
    }


def test_nothing_wrong_raises_no_alarm() -> None:
    assert alarms(facts()) == []


def test_a_daemon_that_does_not_run() -> None:
    assert alarms(facts(running=False, daemon={})) == [
        "the daemon is not running (`sms1708 run` / systemctl start sms1708)"
    ]


def test_modem_down_full_and_stuck_slots() -> None:
    modems = {
        "b": {"connected": False, "problem": "SIM\x1b[2J missing"},
        "a": {"connected": True, "storage": {"SM": [30, 30], "ME": [2, 0]}, "stuck_slots": {7: 3}},
    }
    assert alarms(facts(daemon=daemon(modems=modems))) == [
        "modem a: storage SM full (30/30)",
        "modem a: SIM slot 7 refused deletion 3 time(s); the SMS is stored,"
        " deleting is retried on every poll",
        "modem b is not connected: SIM[2J missing",  # the escape is dropped
    ]
    starting = {"m": {"connected": False}}
    assert alarms(facts(daemon=daemon(modems=starting))) == ["modem m is not connected: starting"]


def test_the_daily_budget_alarms_when_used_up_not_before() -> None:
    assert alarms(facts(today={"modem0": 99, "modem1": 100}, daily_budget=100)) == [
        "modem modem1: daily reply budget used up (100)"
    ]


def test_queue_parts_and_replies_that_need_an_operator() -> None:
    counts = {
        "outbox": {"dead": 2, "ambiguous": 1, "queued": 5},
        "replies": {"dead": 3},
        "parts": {"quarantined": 1},
        "messages": {"total": 8},
    }
    assert alarms(facts(counts=counts, unconfirmed={"dead": 1, "sent": 2})) == [
        "2 complaint(s) dead: see `sms1708 queue list --state dead`",
        "1 complaint(s) with unknown outcome (ambiguous)",
        "1 undecodable SMS part(s) in quarantine",
        "3 reply SMS could not be sent",
        "1 reply SMS gave up with an unknown outcome (the modem lost the link after taking"
        " them: they may have reached the citizen, so they are not sent again; see"
        " `sms1708 queue show` of their complaint)",
    ]


def test_a_loop_that_keeps_failing_names_when_it_started_in_the_sites_zone() -> None:
    sitetime.use(config.Config())  # WIB
    since = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    loops = {
        "receive": {"alarm": False, "failures": 1},
        "forward": {
            "alarm": True,
            "failures": 5,
            "since": since.timestamp(),
            "retry_in": 30,
            "last_error": "OSError",
        },
    }
    assert alarms(facts(daemon=daemon(loops=loops))) == [
        "loop forward keeps failing: 5 time(s) in a row since 2026-11-01 08:00:00, backing off"
        " (next try in 30 s); last error: OSError"
    ]


@pytest.mark.parametrize(
    ("clock", "says"),
    [
        ({"warn": True, "off_by": 7200.0, "network": True}, "behind network time"),
        ({"warn": True, "off_by": -90000.0}, "ahead of the newest stored time"),
    ],
)
def test_a_wrong_box_clock(clock: dict[str, Any], says: str) -> None:
    [alarm] = alarms(facts(daemon=daemon(clock=clock)))
    assert alarm.startswith("box clock off by ")
    assert f"({says}); the gateway uses the corrected time" in alarm
    assert alarms(facts(daemon=daemon(clock={"warn": False, "off_by": 7200.0}))) == []


def test_destinations_other_than_the_primary() -> None:
    dests = {
        "upstream": destination(primary=True, queue={"dead": 9}, circuit_open_until=1.0),
        "spikm": destination(circuit_open_until=1.0, problem="HTTP 503", queue={"dead": 2}),
        "old": destination(configured=False, queue={"queued": 2, "retry": 1, "delivered": 5}),
        "gone": destination(configured=False, queue={"delivered": 5}),
    }
    assert alarms(facts(destinations=dests)) == [
        "destination spikm unreachable: HTTP 503",
        "destination spikm: 2 complaint(s) dead"
        " (`sms1708 queue list --destination spikm --state dead`)",
        "destination old is not configured any more: its 3 pending complaint(s) wait"
        " (configure it again, or see the README: several destinations)",
    ]
    one = {"lapor": destination(circuit_open_until=1.0, queue={"dead": 1})}
    assert alarms(facts(destinations=one)) == []  # its trouble is the upstream's


def test_the_upstream_unreachable_or_not_acknowledging() -> None:
    down = {"circuit_open_until": 5.0, "problem": "timeout", "not_acknowledged_at": 4.0}
    assert alarms(facts(daemon=daemon(upstream=down))) == ["upstream unreachable: timeout"]
    portal = {"not_acknowledged_at": 4.0, "problem": "HTTP 200, text/html"}
    [alarm] = alarms(facts(daemon=daemon(upstream=portal)))
    assert alarm.startswith(
        "upstream answered with something that is not an acknowledgement (HTTP 200, text/html);"
    )
    assert "captive portal" in alarm


def test_the_report_holds_the_facts_and_the_alarms_in_the_documented_order() -> None:
    f = facts(running=False, daemon={}, today={"modem0": 100}, reply_backlog=2)
    data = report(f)
    assert list(data) == [
        "database",
        "daemon_running",
        "modems",
        "messages",
        "upstream_queue",
        "destinations",
        "replies",
        "replies_unconfirmed",
        "reply_queue",
        "replies_today",
        "daily_budget",
        "parts",
        "oldest_undelivered_at",
        "last_delivery_at",
        "loops",
        "clock",
        "site_timezone",
        "alarms",
    ]
    assert data["modems"] == {} and data["messages"] == 4
    assert data["reply_queue"] == {"waiting": 2, "oldest_queued_at": None}
    assert data["alarms"] == alarms(f) and len(data["alarms"]) == 2


def test_the_text_report() -> None:
    now = sitetime.now()
    modem = {
        "connected": True,
        "family": "huawei",
        "signal_dbm": -71,
        "operator": "TELKOMSEL",
        "storage": {"SM": [3, 30]},
        "unsupported_memories": ["ME"],
        "last_sms_at": now - 300,
    }
    f = facts(
        daemon=daemon(modems={"modem0": modem}),
        reply_backlog=1,
        reply_backlog_oldest=now - 60,
        counts={**facts().counts, "outbox": {"dead": 1, "delivered": 3}},
    )
    lines = render_text(report(f))
    assert lines[:3] == [
        "database        /var/lib/sms1708/sms1708.db",
        "daemon          running",
        "modem modem0    connected, huawei, signal -71 dBm, operator TELKOMSEL, storage SM 3/30,"
        " no ME memory, last SMS 5m ago",
    ]
    assert "upstream queue  dead=1, delivered=3" in lines
    assert not any(line.startswith("  -> ") for line in lines)  # one default destination
    assert "replies         sent=4" in lines
    assert "reply queue     1 waiting, oldest queued 60s ago" in lines
    assert "replies today   modem0 4/100" in lines
    assert "oldest pending  - (-)" in lines
    assert lines[-2:] == [
        "alarms          ",
        "  ! 1 complaint(s) dead: see `sms1708 queue list --state dead`",
    ]
    quiet = render_text(report(facts(running=False, daemon={}, today={})))
    assert "daemon          NOT RUNNING" in quiet
    assert "replies today   0" in quiet


def test_the_text_report_lists_several_destinations() -> None:
    dests = {
        "lapor": destination(primary=True, queue={"delivered": 3}),
        "spikm": destination(circuit_open_until=1.0, queue={"retry": 1}),
        "old": destination(configured=False),
    }
    lines = render_text(report(facts(destinations=dests)))
    assert [line for line in lines if line.startswith("  -> ")] == [
        "  -> lapor        delivered=3 (primary), last delivery -",
        "  -> spikm        retry=1 (CIRCUIT OPEN), last delivery -",
        "  -> old          empty (NOT CONFIGURED), last delivery -",
    ]


def test_gather_reads_a_real_store_and_no_daemon(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c.toml",
        {
            "store": {"path": str(tmp_path / "db.sqlite")},
            "daemon": {"status_file": str(tmp_path / "status.json")},
            "replies": {"daily_budget": 7},
        },
    )
    cfg = config.load(str(path))
    store = Store.open(tmp_path / "db.sqlite", create=True)
    try:
        when = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
        [pdu] = encode_deliver("+6281234567800", "LAPOR jalan rusak", when)
        store.intake.ingest(
            "modem0",
            [IncomingPart("SM", 1, pdu, decode_deliver(pdu))],
            now=time.time(),
            rules=IntakeRules(),
        )
        f = gather(cfg, store)
        assert f.running is False and f.daemon == {}
        assert f.database == store.path
        assert f.counts["messages"]["total"] == 1
        assert f.counts["outbox"] == {"queued": 1}
        assert f.daily_budget == 7
        assert f.oldest_pending is not None
        assert list(f.destinations) == ["upstream"]
        assert alarms(f)[0].startswith("the daemon is not running")
    finally:
        store.close()
