"""An operator's SMS (sms1708.operator_sms): which modem, the number as dialled, a text that
cannot be sent, the gate on a real store, and the hint after a refusal (no CLI involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms1708 import operator_sms as sms
from sms1708.config import Config, from_mapping
from sms1708.core.gate import BUDGET, LOOP, RATE
from sms1708.store.store import Store

NOW = 1_800_000_000.0
NUMBER = "+6281234567800"


def two_modems() -> Config:
    return from_mapping(
        {"modems": [{"name": "a", "port": "/dev/ttyUSB0"}, {"name": "b", "port": "/dev/ttyUSB1"}]}
    )


def test_the_first_modem_unless_another_is_named() -> None:
    cfg = two_modems()
    assert sms.modem_name(cfg, None) == "a"
    assert sms.modem_name(cfg, "b") == "b"
    with pytest.raises(sms.NotSendable, match=r"no modem named 'c' \(configured: a, b\)"):
        sms.modem_name(cfg, "c")


def test_the_number_as_dialled_loses_its_separators() -> None:
    assert sms.dialled(" 0812-3456 (78).90/1 ") == "0812345678901"
    assert sms.dialled("+6281234567800") == "+6281234567800"


def test_a_number_no_sms_can_go_to_is_refused_before_anything_is_queued() -> None:
    sms.check(NUMBER, "halo")
    with pytest.raises(sms.NotSendable, match=r"^cannot send: invalid phone number 'abc'$"):
        sms.check("abc", "halo")


def test_the_hint_after_a_refusal() -> None:
    for guard in (LOOP, RATE, BUDGET):
        assert sms.refusal_hint(guard) == (
            "; add --force to send it anyway (recorded with your name)"
        )
    assert sms.refusal_hint("blocked number") == (
        "; `sms1708 unblock` it first if it should get SMS again"
    )
    assert sms.refusal_hint("own number") == ""


def test_queued_through_the_gate_of_a_real_store(tmp_path: Path) -> None:
    cfg = from_mapping({"modem": {}, "replies": {"daily_budget": 1}})
    store = Store.open(tmp_path / "db.sqlite", create=True)
    try:
        first = sms.queue(
            store, cfg, modem="modem0", number=NUMBER, text="a", now=NOW, force=False, by="ani"
        )
        assert first.refused is None and first.overridden is None
        refused = sms.queue(
            store, cfg, modem="modem0", number=NUMBER, text="b", now=NOW, force=False, by="ani"
        )
        assert refused.refused in (RATE, BUDGET) and refused.reply_id != first.reply_id
        forced = sms.queue(
            store, cfg, modem="modem0", number=NUMBER, text="c", now=NOW, force=True, by="ani"
        )
        assert forced.refused is None and forced.overridden in (RATE, BUDGET)
        store.blocked.block(NUMBER, by="ani", reason="", now=NOW)
        blocked = sms.queue(
            store, cfg, modem="modem0", number=NUMBER, text="d", now=NOW, force=True, by="ani"
        )
        assert blocked.refused == "blocked number"  # never past a blocked number
    finally:
        store.close()
