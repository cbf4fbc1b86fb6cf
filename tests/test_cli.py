"""The CLI through click's runner against a real store (and the README kept in step)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sms1708.cli import main
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.store.store import Attempt, IncomingPart, Store

from .conftest import ROOT, write_config

WIB = timezone(timedelta(hours=7))


def all_commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        out.append(path)
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, path))
    return out


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "c.toml", {"store": {"path": str(tmp_path / "db.sqlite")}, "modem": {}}
    )


@pytest.fixture
def filled(cfg: Path, tmp_path: Path) -> Path:
    """A store with three complaints: delivered, dead, queued; and a bantuan request."""
    s = Store.open(tmp_path / "db.sqlite")
    texts = ["LAPOR jalan rusak", "LAPOR pungli di kantor desa", "aspirasi taman baca", "?"]
    for i, t in enumerate(texts):
        [p] = encode_deliver(f"+62812345678{i:02d}", t, datetime(2026, 11, 1, 8, i, tzinfo=WIB))
        s.intake.ingest(
            "modem0",
            [IncomingPart("SM", i + 1, p, decode_deliver(p))],
            now=time.time(),
            rules=IntakeRules(),
        )
    s.outbox.claim(now=time.time(), lease=60, limit=2)  # the forwarder's claim of 1 and 2
    s.outbox.record(
        [
            Attempt(
                1,
                Decision(State.DELIVERED, None, "delivered"),
                outcome="delivered",
                ended_at=time.time(),
                http_status=201,
                tracking_id="1916449",
            )
        ]
    )
    s.outbox.record(
        [
            Attempt(
                2,
                Decision(State.DEAD, None, "rejected: HTTP 422"),
                outcome="rejected",
                ended_at=time.time(),
                http_status=422,
                detail="HTTP 422: bad record",
            )
        ]
    )
    s.close()
    return cfg


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p))
def test_every_command_explains_itself(path: tuple[str, ...]) -> None:
    r = run(*path, "--help")
    assert r.exit_code == 0
    assert "Usage:" in r.output and len(r.output.splitlines()) > 3


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [" ".join(p) for p in all_commands() if f"sms1708 {' '.join(p)}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('[modem]\nbaudrate = "fast"\n', "modem.baudrate"),
        ("[modem]\nrtscts = 1\n", "modem.rtscts"),
        ("[modem]\nprot = 1\n", "modem.prot"),
        ('[upstream]\nurl = "ftp://example"\n', "upstream.url"),
        ("[nonsense]\n", "nonsense"),
        ("[modem\n", "--config"),
    ],
)
def test_bad_config_gives_one_clear_line_and_exit_2(tmp_path: Path, content: str, key: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(content)
    r = CliRunner().invoke(main, ["--config", str(p), "status"])
    assert r.exit_code == 2
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and key in lines[0], r.output


def test_missing_config_file_is_exit_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.toml"), "status"])
    assert r.exit_code == 2 and "not found" in r.output


def test_parse_json_has_the_contract_keys() -> None:
    r = run("parse", "LAPOR#RAHASIA jalan rusak di desa Tanjung", "--json")
    data = json.loads(r.output)
    for k in ("kind", "text", "anonymous", "confidential", "category", "location"):
        assert k in data
    assert data["kind"] == "pengaduan" and data["confidential"] is True
    assert data["text"] == "jalan rusak di desa Tanjung"
    r = run("parse", "status #1916449", "--json")
    assert json.loads(r.output)["reference"] == "1916449"


def test_status_counts_and_needs_attention_exit_code(filled: Path) -> None:
    r = CliRunner().invoke(main, ["--config", str(filled), "status", "--json"])
    assert r.exit_code == 1  # a dead complaint needs attention
    data = json.loads(r.output)
    assert data["messages"] == 4
    assert data["upstream_queue"] == {"delivered": 1, "dead": 1, "queued": 1}
    assert any("dead" in a for a in data["alarms"])
    human = CliRunner().invoke(main, ["--config", str(filled), "status"])
    assert "dead=1" in human.output and "queue list --state dead" in human.output


def test_status_without_a_database_is_exit_3(cfg: Path) -> None:
    r = CliRunner().invoke(main, ["--config", str(cfg), "status"])
    assert r.exit_code == 3 and "no database" in r.output


def test_queue_list_masks_numbers_unless_asked(filled: Path) -> None:
    r = run("--config", str(filled), "queue", "list", "--json")
    rows = json.loads(r.output)
    assert [x["id"] for x in rows] == [4, 3, 2, 1]
    assert all("*" in x["sender"] for x in rows)
    r = run("--config", str(filled), "queue", "list", "--state", "dead", "--show-numbers")
    assert "+6281234567801" in r.output and "pungli" in r.output
    assert "jalan rusak" not in r.output


def test_queue_show_has_parts_attempts_and_replies(filled: Path) -> None:
    r = run("--config", str(filled), "queue", "show", "2", "--json", "--show-numbers")
    m = json.loads(r.output)
    assert m["state"] == "dead" and m["key"]
    assert len(m["parts"]) == 1 and re.fullmatch(r"[0-9A-F]+", m["parts"][0]["pdu"])
    assert m["attempts_log"][0]["http_status"] == 422
    assert m["replies"][0]["purpose"] == "receipt"
    r = CliRunner().invoke(main, ["--config", str(filled), "queue", "show", "99"])
    assert r.exit_code == 1


def test_replay_is_a_dry_run_unless_yes(filled: Path, tmp_path: Path) -> None:
    r = run("--config", str(filled), "replay", "--state", "dead")
    assert "would replay" in r.output and "2" in r.output
    s = Store.open(tmp_path / "db.sqlite")
    assert s.queries.message(2)["state"] == "dead"  # type: ignore[index]
    r = run("--config", str(filled), "replay", "--state", "dead", "--yes")
    assert "replayed: 1" in r.output
    m = s.queries.message(2)
    assert m is not None and m["state"] == "queued"
    s.close()
    r = CliRunner().invoke(main, ["--config", str(filled), "replay"])
    assert r.exit_code == 2


def test_export_csv_and_json(filled: Path) -> None:
    r = run("--config", str(filled), "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert len(rows) == 4 and rows[0]["tracking_id"] == "1916449"
    assert all("*" in row["sender"] for row in rows)
    r = run("--config", str(filled), "export", "--format", "json")
    assert {x["state"] for x in json.loads(r.output)} == {"delivered", "dead", "queued", "local"}


def test_send_queues_a_reply_for_the_daemon(filled: Path, tmp_path: Path) -> None:
    r = run("--config", str(filled), "send", "+6281234567890", "Tes dari Diskominfo")
    assert "queued reply" in r.output and "+6281234567890" not in r.output
    s = Store.open(tmp_path / "db.sqlite")
    row = s.conn.execute("SELECT * FROM replies WHERE purpose='operator'").fetchone()
    s.close()
    assert row["recipient"] == "+6281234567890" and row["state"] == "queued"
    bad = CliRunner().invoke(main, ["--config", str(filled), "send", "not-a-number", "x"])
    assert bad.exit_code == 2


def test_check_without_modem_reports_each_line(cfg: Path) -> None:
    r = CliRunner().invoke(main, ["--config", str(cfg), "check", "--no-modem"])
    assert "PASS  config" in r.output
    assert "FAIL  upstream.url" in r.output and r.exit_code == 1


def test_check_talks_to_the_emulated_modem(modem, make_config) -> None:
    r = CliRunner().invoke(main, ["--config", str(make_config(modem)), "check"])
    for name in ("AT", "SIM", "network", "signal", "SMSC", "storage", "notifications"):
        assert re.search(rf"PASS  .*{name}", r.output), r.output
    assert "PASS  network: registered (home), operator TELKOMSEL" in r.output


def test_backup_is_a_checked_private_copy_and_never_overwrites(
    filled: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "backups" / "sms1708-2026-11-23.db"
    r = run("--config", str(filled), "backup", str(dest))
    assert "backup written" in r.output
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    copy = Store.open(dest, create=False)
    assert copy.queries.counts()["messages"]["total"] == 4 and copy.quick_check() == "ok"
    copy.close()
    again = CliRunner().invoke(main, ["--config", str(filled), "backup", str(dest)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_purge_removes_personal_data_of_old_finished_complaints_only(
    filled: Path, tmp_path: Path
) -> None:
    s = Store.open(tmp_path / "db.sqlite")
    s.conn.execute("UPDATE messages SET stored_at = stored_at - 400 * 86400")  # a year ago
    s.close()
    r = run("--config", str(filled), "purge")
    # delivered #1 and the locally handled bantuan #4; not the dead #2 nor the queued #3
    assert "would purge personal data of 2 complaint(s)" in r.output
    r = run("--config", str(filled), "purge", "--yes")
    assert "purged personal data of 2" in r.output
    s = Store.open(tmp_path / "db.sqlite")
    purged = s.queries.message(1)
    assert purged is not None
    assert purged["sender"] == "" and purged["text"] == "" and purged["purged_at"]
    assert purged["kind"] == "pengaduan" and purged["state"] == "delivered"
    assert all(p["pdu"] == "" for p in purged["parts"])
    assert all(r["text"] == "" for r in purged["replies"])
    kept = s.queries.message(2)
    assert kept is not None and kept["sender"] == "+6281234567801" and kept["text"]
    s.close()
    assert "would purge personal data of 0" in run("--config", str(filled), "purge").output


def test_queue_list_filters(filled: Path) -> None:
    def ids(*args: str) -> list[int]:
        r = run("--config", str(filled), "queue", "list", "--json", *args)
        return [x["id"] for x in json.loads(r.output)]

    assert ids("--kind", "aspirasi") == [3]
    assert ids("--kind", "bantuan") == [4]
    assert ids("--sender", "081234567801") == [2]  # national spelling finds +62...
    assert ids("--since", "1d") == [4, 3, 2, 1]
    assert ids("--until", "2020-01-01") == []
    assert ids("--since", "2020-01-01", "--state", "delivered") == [1]
    bad = CliRunner().invoke(main, ["--config", str(filled), "queue", "list", "--since", "kemarin"])
    assert bad.exit_code == 2 and "is not a date" in bad.output


def test_replay_by_time_range(filled: Path) -> None:
    assert (
        "nothing to replay"
        in run("--config", str(filled), "replay", "--until", "2020-01-01").output
    )
    r = run("--config", str(filled), "replay", "--since", "1d")
    assert "would replay (add --yes): 1 complaint(s): 2" in r.output


def test_export_filters(filled: Path) -> None:
    r = run(
        "--config",
        str(filled),
        "export",
        "--format",
        "json",
        "--kind",
        "pengaduan",
        "--state",
        "dead",
    )
    assert [x["id"] for x in json.loads(r.output)] == [2]


def test_stats_text_json_and_chart(filled: Path, tmp_path: Path) -> None:
    r = run("--config", str(filled), "stats", "--json")
    data = json.loads(r.output)
    assert data["total"] == 4
    text = run("--config", str(filled), "stats", "--period", "week").output
    assert "STATISTIK" in text
    chart = tmp_path / "chart.png"
    r = run("--config", str(filled), "stats", "--chart", str(chart))
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = CliRunner().invoke(main, ["--config", str(filled), "stats", "--chart", "x.jpg"])
    assert bad.exit_code == 2


def test_reparse_shows_then_applies_what_new_tables_change(filled: Path, tmp_path: Path) -> None:
    s = Store.open(tmp_path / "db.sqlite")
    s.conn.execute("UPDATE messages SET category = NULL, kind = 'pengaduan' WHERE id = 3")
    s.conn.execute(
        "UPDATE messages SET raw_text = 'LAPOR jalan rusak di desa Tanjung Raja kec. Muara Enim'"
        " WHERE id = 1"
    )
    s.close()
    r = run("--config", str(filled), "reparse")
    assert "#1" in r.output and "'Desa Tanjung Raja, Kec. Muara Enim'" in r.output
    assert "#3" in r.output and "'aspirasi'" in r.output
    assert "would update (add --yes)" in r.output
    s = Store.open(tmp_path / "db.sqlite")
    assert s.queries.message(1)["location"] is None  # type: ignore[index]
    s.close()
    r = run("--config", str(filled), "reparse", "--yes")
    assert "updated: " in r.output
    s = Store.open(tmp_path / "db.sqlite")
    m1, m3 = s.queries.message(1), s.queries.message(3)
    s.close()
    assert m1 is not None and m1["location"] == "Desa Tanjung Raja, Kec. Muara Enim"
    assert m1["category"] == "infrastruktur"
    assert m1["location_code"] == "16.03.02.2001"  # the Kemendagri code comes with the place
    assert m3 is not None and m3["kind"] == "aspirasi"
    again = run("--config", str(filled), "reparse")
    assert "would update (add --yes): 0" in again.output


def test_check_port_tries_another_port(modem, cfg: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["--config", str(cfg), "check", "--port", modem.port])
    assert "PASS  modem0 AT" in r.output and "PASS  signal" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "check", "--port", str(tmp_path / "nope")])
    assert "FAIL  modem0 port" in r.output and r.exit_code == 1
