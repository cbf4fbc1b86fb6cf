"""Crash loop (P2, P3, P4, P7): ``sms1708 run`` in a subprocess, killed with SIGKILL at random
moments while citizens' SMS keep arriving on the emulated modem, restarted each time; at the
end, running undisturbed, it must have lost nothing and duplicated no complaint.

The RNG is seeded (``SMS1708_CRASH_SEED`` overrides the seed) so a failing schedule can be
replayed; the moments themselves still depend on the machine, which is the point.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import serial

from sms1708.core.grammar import parse
from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import wait_until
from .faults import DeleteWatch, all_delivered, integrity, query, tally_replies

SEED = int(os.environ.get("SMS1708_CRASH_SEED", "1708"))
KILLS = 15
SMS_COUNT = 50
CITIZENS = [f"+62812345{i:05d}" for i in range(1, 16)]

FILLER = (
    "jalan desa rusak parah sepanjang dua kilometer, truk sawit lewat setiap hari dan lubangnya "
    "makin dalam, sepeda motor warga sering jatuh terutama malam hari karena lampu jalan mati"
)


def citizens_sms() -> list[tuple[str, str, str, int]]:
    """(sender, text, memory, concat reference bits): single GSM-7, 3-part GSM-7, emoji,
    multipart UCS-2 with emoji and a 16-bit reference, and text without a keyword."""
    out = []
    for i in range(SMS_COUNT):
        sender = CITIZENS[i % len(CITIZENS)]
        memory = "SM" if i % 2 == 0 else "ME"
        kind = i % 5
        if kind == 0:
            text, bits = f"LAPOR jembatan kayu nomor {i} di desa Tanjung Raja lapuk", 8
        elif kind == 1:
            text, bits = f"LAPOR laporan panjang nomor {i}: {FILLER}. Ulangi: {FILLER}.", 8
        elif kind == 2:
            text, bits = f"Lampu jalan mati sdh seminggu, laporan {i} 😡🙏", 8
        elif kind == 3:
            text = f"ASPIRASI nomor {i} 🙏 mohon dibangun posyandu di dusun 3, {FILLER[:80]} 🏥"
            bits = 16
        else:
            text, bits = f"sampah menumpuk di pasar kalangan nomor {i}, tidak diangkut", 8
        out.append((sender, text, memory, bits))
    return out


class Citizens(threading.Thread):
    """Delivers the SMS to the emulated modem on a seeded schedule, whatever the daemon does."""

    def __init__(self, modem: EmulatedModem, sms: list[tuple[str, str, str, int]]) -> None:
        super().__init__(name="citizens", daemon=True)
        self.modem = modem
        self.sms = sms
        self.rng = random.Random(SEED + 1)
        self.parts: dict[str, int] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for sender, text, memory, bits in self.sms:
                time.sleep(self.rng.uniform(0.03, 0.4))
                got = self.modem.receive_sms(sender, text, memory=memory, ref_bits=bits)
                self.parts[text] = len(got)
        except BaseException as e:  # surfaced by the test
            self.error = e


def in_sms_data_entry(modem: EmulatedModem, since: int = 0) -> bool:
    """The modem's last words (after log entry ``since``) were the ``> `` prompt of AT+CMGS,
    and neither the PDU's Ctrl-Z nor ESC came after: it takes everything as PDU text."""
    log = list(modem.log)[since:]
    last_tx = max((i for i, e in enumerate(log) if e[2] == "tx"), default=None)
    if last_tx is None or not log[last_tx][3].endswith("> "):
        return False
    after = "".join(e[3] for e in log[last_tx + 1 :] if e[2] == "rx")
    return "\x1a" not in after and "\x1b" not in after


def crash_config(make_config: Any, modem: EmulatedModem, upstream: StandIn) -> Path:
    return make_config(
        modem,
        upstream,
        modem={
            "poll_interval": 1.0,
            "command_timeout": 2.0,
            "send_timeout": 1.5,  # a reply cut off by a kill is claimable again after 4.5 s
            "reconnect_max_delay": 1.0,
        },
        upstream={"retry_base": 0.2, "retry_cap": 1.0, "lease_seconds": 3.0, "timeout": 2.0},
        replies={"retry_base": 0.2, "retry_cap": 1.0},
        # one complaint per SMS: the counts below assume it (follow-up SMS that join a report
        # have their own tests, test_followup_*)
        followups={"window_minutes": 0},
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_9_at_random_moments_loses_nothing_and_duplicates_no_complaint(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    db = tmp_path / "sms1708.db"
    # a modem with a real modem's pace, so that kills land inside its work: the serial line
    # at 115200 baud, a little latency per command, and an SMS taking a while to go out
    modem.baudrate, modem.latency, modem.cmgs_latency = 115200, 0.02, 0.2
    watch = DeleteWatch(modem, db)
    cfg = crash_config(make_config, modem, upstream)
    sms = citizens_sms()
    citizens = Citizens(modem, sms)
    rng = random.Random(SEED)

    citizens.start()
    lived: list[float] = []
    stuck: list[int] = []
    power_on = 0
    for _ in range(KILLS):
        d = daemon(cfg)
        life = rng.uniform(0.2, 2.0)
        time.sleep(life)  # the random moment (not an assertion: the kill lands wherever)
        d.kill()
        assert d.proc is not None and d.proc.returncode == -signal.SIGKILL, (
            f"the daemon exited by itself (code {d.proc.returncode if d.proc else None})",
            d.events()[-5:],
        )
        lived.append(life)
        if not wait_until(lambda since=power_on: not in_sms_data_entry(modem, since), 1.0):
            # killed after AT+CMGS=<n>, before its PDU: the modem waits for SMS text. The next
            # daemon must cancel that by itself (ESC on start); no one power-cycles it here
            stuck.append(len(lived))
    citizens.join(60)
    assert not citizens.is_alive() and citizens.error is None, citizens.error
    total_parts = sum(citizens.parts.values())

    # now undisturbed: everything must come out right
    log = cfg.with_suffix(".log")
    seen_before = len(log.read_text(encoding="utf-8", errors="replace").splitlines())
    final = daemon(cfg)
    assert wait_until(
        lambda: any(e.get("event") == "modem_ready" for e in final.events()[seen_before:]), 60
    ), final.events()[seen_before:]

    def done() -> bool:
        replies = query(db, "SELECT state FROM replies")
        return all_delivered(modem, db, set(upstream.tracking), SMS_COUNT) and all(
            r["state"] in ("sent", "suppressed") for r in replies
        )

    assert wait_until(done, 120), (
        modem.stored(),
        modem.held_back,
        query(db, "SELECT state, COUNT(*) n FROM outbox GROUP BY state"),
        query(db, "SELECT state, COUNT(*) n FROM replies GROUP BY state"),
        [e.get("event") for e in final.events()[-30:]],
    )
    assert final.terminate() == 0

    # P1/P2: nothing left the SIM before its commit; the SIM is empty; the file is intact
    assert watch.uncommitted == []
    assert watch.checked >= total_parts
    assert modem.stored() == {} and modem.held_back == []
    assert integrity(db) == "ok"

    # P3/P7: one complaint per SMS, one stored part per PDU, no partial, none pending
    messages = query(db, "SELECT id, key, sender, raw_text, part_count, partial FROM messages")
    assert sorted(m["raw_text"] for m in messages) == sorted(t for _s, t, _m, _b in sms)
    for m in messages:
        parts = query(db, "SELECT status FROM parts WHERE message_id = ?", (m["id"],))
        assert len(parts) == m["part_count"] == citizens.parts[m["raw_text"]], m
        assert {p["status"] for p in parts} == {"used"} and not m["partial"], m
    assert len(query(db, "SELECT id FROM parts")) == total_parts
    assert {c for c, _t, _m, _b in sms} == {m["sender"] for m in messages}

    # P4: the upstream holds exactly the expected complaints, one key each, and every request
    # for a key carried the same key (header and body) and the same body
    keys = {m["key"]: m for m in messages}
    assert len(keys) == SMS_COUNT
    assert set(upstream.tracking) == set(keys)
    bodies: dict[str, list[dict[str, Any]]] = {}
    for r in upstream.requests:
        assert r.key in keys and r.body["id"] == r.key
        bodies.setdefault(r.key, []).append(r.body)
    for key, seen in bodies.items():
        assert all(b == seen[0] for b in seen), key
        want = parse(keys[key]["raw_text"])
        assert (seen[0]["text"], seen[0]["kind"]) == (want.text, want.kind)
        assert seen[0]["sender"] == keys[key]["sender"]
    delivered_texts = sorted(b[0]["text"] for b in bodies.values())
    assert delivered_texts == sorted(parse(t).text for _s, t, _m, _b in sms)
    outbox = query(
        db,
        "SELECT o.attempts, m.key, m.tracking_id FROM outbox o JOIN messages m"
        " ON m.id = o.message_id",
    )
    assert all(o["tracking_id"] == upstream.tracking[o["key"]] for o in outbox)

    # replies: at least once. Every queued reply went out (or was suppressed by the P11 guards,
    # with its reason, and then never sent), nothing else did; one receipt per complaint; every
    # citizen answered. A kill between AT+CMGS and the commit of "sent" can send a reply twice,
    # and only one reply is in flight at a time: at most one duplicate per kill
    t = tally_replies(modem, db)
    assert t.phantoms == [] and t.unsent == [] and t.unfinished == [], t
    assert all(r["reason"] for r in t.rows if r["state"] == "suppressed")
    for m in messages:
        purposes = t.per_message.get(m["id"], Counter())
        assert purposes["receipt"] == 1 and max(purposes.values()) == 1, (m["id"], purposes)
    assert t.recipients == set(CITIZENS)
    assert t.duplicates <= KILLS, t.sent
    assert max(t.sent.values()) <= 1 + KILLS
    suppressed = Counter(r["reason"] for r in t.rows if r["state"] == "suppressed")

    per_key = Counter(r.key for r in upstream.requests)
    events = final.events()
    rereads = sum(int(e.get("duplicates") or 0) for e in events if e.get("event") == "sms_drained")
    ready = sum(1 for e in events[:seen_before] if e.get("event") == "modem_ready")
    print(
        f"\ncrash loop (seed {SEED}): {KILLS} kills after {[round(x, 2) for x in lived]} s; "
        f"{SMS_COUNT} SMS in {total_parts} parts; duplicate reply SMS: {t.duplicates} "
        f"of {sum(t.sent.values())} sent; suppressed replies: {dict(suppressed)}; "
        "upstream requests per complaint: "
        f"{dict(sorted(Counter(per_key.values()).items()))}; attempts recorded per complaint: "
        f"{dict(sorted(Counter(o['attempts'] for o in outbox).items()))}; parts re-read after "
        f"a crash and recognised: {rereads}; AT+CMGD checked: {watch.checked}; killed daemons "
        f"that had reached modem_ready: {ready}; modem left in AT+CMGS data entry by kill "
        f"number(s): {stuck}"
    )


@pytest.mark.timeout(60)
def test_a_modem_left_in_sms_data_entry_by_a_killed_process_comes_back(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    # what a kill -9 in the middle of sending a reply leaves behind, made deterministic
    with serial.Serial(modem.port, 115200, timeout=0.2) as port:
        port.write(b"AT+CMGF=0\r")
        assert wait_until(lambda: "OK" in modem.tx_text(), 5)
        port.write(b"AT+CMGS=23\r")
        assert wait_until(lambda: modem.tx_text().rstrip().endswith(">"), 5)
    d = daemon(
        make_config(modem, upstream, modem={"command_timeout": 1.0, "reconnect_max_delay": 1.0})
    )
    # normally ready within a second; each failed try is logged as modem_down
    assert d.wait_event("modem_ready", 10), [e.get("event") for e in d.events()][-10:]
    modem.receive_sms("+6281234567890", "LAPOR setelah modem tertinggal di prompt")
    assert upstream.wait_for(1, 20)
