"""Statistics (sms1708.reports) against a real store filled through the real intake path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sms1708 import reports
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.reports import Durations, compute, load, render_text
from sms1708.store.store import Attempt, IncomingPart, Store

WIB = timezone(timedelta(hours=7))
WIT = timezone(timedelta(hours=9))
KINDS = ["pengaduan", "aspirasi", "informasi", "status", "bantuan"]

# (sender, text, SMS centre time, category, location); id = position + 1
SMS = [
    (
        "+6281200000001",
        "LAPOR jalan rusak parah di dusun tiga",
        datetime(2026, 11, 1, 8, 0, tzinfo=WIB),  # a Sunday, ISO week 44
        "infrastruktur",
        "Desa Tanjung Raja, Kec. Muara Enim",
    ),
    (
        "+6281200000002",
        "LAPOR pungli di kantor desa oleh oknum",
        datetime(2026, 11, 1, 23, 30, tzinfo=WIB),  # late on Sunday: still 1 Nov, week 44
        "pungli",
        "Kec. Gelumbang",
    ),
    (
        "+6281200000003",
        "ASPIRASI mohon dibangun jembatan di dusun tiga",
        datetime(2026, 11, 2, 0, 30, tzinfo=WIB),  # Monday 00:30 WIB = Sunday 17:30 UTC
        "infrastruktur",
        "Kel. Pasar II, Kec. Muara Enim",
    ),
    (
        "+6281200000004",
        "INFO jadwal posyandu bulan ini kapan",
        datetime(2026, 11, 3, 10, 0, tzinfo=WIB),
        None,
        "Desa Lubuk, Kec. Gelumbang",
    ),
    ("+6281200000005", "?", datetime(2026, 11, 3, 11, 0, tzinfo=WIB), None, None),
    ("+6281200000001", "CEK 1", datetime(2026, 11, 10, 9, 0, tzinfo=WIB), None, None),
    (
        "+6281200000007",
        "LAPOR lampu jalan mati sejak seminggu lalu",
        datetime(2026, 11, 10, 10, 0, tzinfo=WIB),
        "infrastruktur",
        "Kab. Muara Enim",
    ),
    # an operator's promotion: recorded, but not a citizen's report
    (
        "TELKOMSEL",
        "Promo paket internet murah",
        datetime(2026, 11, 2, 12, 0, tzinfo=WIB),
        None,
        None,
    ),
]
STORED_AFTER = 5.0  # seconds from the SMS centre's stamp to our commit
DELIVERED_AFTER = {1: 60.0, 2: 120.0, 3: 300.0}  # message id -> seconds to upstream delivery


def build(path: Path) -> Store:
    s = Store.open(path)
    for i, (sender, text, when, _, _) in enumerate(SMS):
        [pdu] = encode_deliver(sender, text, when)
        s.intake.ingest(
            "modem0",
            [IncomingPart("SM", i + 1, pdu, decode_deliver(pdu))],
            now=when.timestamp() + STORED_AFTER,
            rules=IntakeRules(),
        )
    for i, (_, _, _, category, location) in enumerate(SMS):
        s.conn.execute(
            "UPDATE messages SET category = ?, location = ? WHERE id = ?",
            (category, location, i + 1),
        )
    # the forwarder claims 1..4 (7 is not yet due); 1..3 are delivered, 4 is rejected
    claimed = s.outbox.claim(now=SMS[3][2].timestamp() + 60, lease=60, limit=10)
    assert [c.message_id for c in claimed] == [1, 2, 3, 4]
    for mid, wait in DELIVERED_AFTER.items():
        at = SMS[mid - 1][2].timestamp() + wait
        s.outbox.record(
            [
                Attempt(
                    mid,
                    Decision(State.DELIVERED, None, "delivered"),
                    outcome="delivered",
                    ended_at=at,
                )
            ]
        )
    s.outbox.record(
        [
            Attempt(
                4,
                Decision(State.DEAD, None, "rejected: HTTP 422"),
                outcome="rejected",
                ended_at=SMS[3][2].timestamp() + 61,
                http_status=422,
            )
        ]
    )
    return s


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = build(tmp_path / "db.sqlite")
    yield s
    s.close()


def day(*counts: int) -> dict[str, int]:
    return dict(zip(KINDS, counts, strict=True))


def test_the_fixture_is_what_the_tests_think(store: Store) -> None:
    kinds = [r[0] for r in store.conn.execute("SELECT kind FROM messages ORDER BY id")]
    assert kinds[:7] == [
        "pengaduan",
        "pengaduan",
        "aspirasi",
        "informasi",
        "bantuan",
        "status",
        "pengaduan",
    ]
    states = dict(store.conn.execute("SELECT message_id, state FROM outbox").fetchall())
    assert states == {1: "delivered", 2: "delivered", 3: "delivered", 4: "dead", 7: "queued"}


def test_counts_per_day_by_kind_in_the_office_time_zone(store: Store) -> None:
    st = load(store, period="day", tz=WIB)
    assert st.total == 7
    assert st.company_senders == 1
    assert st.kinds == tuple(KINDS)
    assert st.by_period == {
        "2026-11-01": day(2, 0, 0, 0, 0),  # 08:00 and 23:30 WIB
        "2026-11-02": day(0, 1, 0, 0, 0),
        "2026-11-03": day(0, 0, 1, 0, 1),
        **{f"2026-11-{d:02d}": day(0, 0, 0, 0, 0) for d in range(4, 10)},  # gaps kept
        "2026-11-10": day(1, 0, 0, 1, 0),
    }
    assert list(st.by_period) == sorted(st.by_period)
    assert st.by_kind == day(3, 1, 1, 1, 1)
    assert (st.first, st.last, st.tz) == ("2026-11-01", "2026-11-10", "UTC+07:00")


def test_a_day_is_cut_in_the_time_zone_asked_for(store: Store) -> None:
    wit = load(store, tz=WIT)  # 23:30 WIB is 01:30 WIT the next day
    assert wit.by_period["2026-11-01"] == day(1, 0, 0, 0, 0)
    assert wit.by_period["2026-11-02"] == day(1, 1, 0, 0, 0)
    utc = load(store, tz=UTC)  # 00:30 WIB on the 2nd is 17:30 UTC on the 1st
    assert utc.by_period["2026-11-01"] == day(2, 1, 0, 0, 0)
    assert utc.first == "2026-11-01" and utc.tz == "UTC+00:00"
    jakarta = load(store, tz=ZoneInfo("Asia/Jakarta"))
    assert jakarta.by_period == load(store, tz=WIB).by_period
    assert jakarta.tz == "Asia/Jakarta"


def test_counts_per_iso_week(store: Store) -> None:
    st = load(store, period="week", tz=WIB)
    assert st.by_period == {
        "2026-W44": day(2, 0, 0, 0, 0),  # Sunday 1 Nov, 23:30 included
        "2026-W45": day(0, 1, 1, 0, 1),
        "2026-W46": day(1, 0, 0, 1, 0),
    }
    # in WIT the Sunday 23:30 WIB report falls on Monday: week 45
    assert load(store, period="week", tz=WIT).by_period["2026-W45"] == day(1, 1, 1, 0, 1)


def test_counts_by_category_location_and_kecamatan(store: Store) -> None:
    st = load(store, tz=WIB)
    assert st.by_category == {"infrastruktur": 3, "pungli": 1, "tanpa kategori": 3}
    assert list(st.by_category) == ["infrastruktur", "pungli", "tanpa kategori"]
    assert st.by_kecamatan == {"Kec. Gelumbang": 2, "Kec. Muara Enim": 2, "tanpa kecamatan": 3}
    assert list(st.by_kecamatan)[-1] == "tanpa kecamatan"
    assert st.by_location == {
        "Desa Lubuk, Kec. Gelumbang": 1,
        "Desa Tanjung Raja, Kec. Muara Enim": 1,
        "Kab. Muara Enim": 1,
        "Kec. Gelumbang": 1,
        "Kel. Pasar II, Kec. Muara Enim": 1,
        "tanpa lokasi": 2,
    }
    assert list(st.by_location)[-1] == "tanpa lokasi"


def test_counts_by_official_place_code(store: Store) -> None:
    store.conn.execute("UPDATE messages SET location_code = '16.03.02.2001' WHERE id IN (1, 2)")
    store.conn.execute("UPDATE messages SET location_code = '16.03.06' WHERE id = 3")
    st = load(store, tz=WIB)
    assert st.by_location_code == {"16.03.02.2001": 2, "16.03.06": 1, "tanpa kode": 4}
    assert reports.as_dict(st)["by_location_code"]["16.03.06"] == 1
    text = reports.render_text(st)
    assert "Menurut kode wilayah Kemendagri (by official place code)" in text
    assert "16.03.02.2001" in text


def test_time_to_delivery_undelivered_and_replies(store: Store) -> None:
    st = load(store, tz=WIB)
    # 60, 120, 300 s: median 120; p90 interpolates 80 % of the way from 120 to 300
    assert st.delivery == Durations(count=3, median=120.0, p90=264.0)
    assert st.undelivered == {"queued": 1, "dead": 1}
    replies = store.queries.reply_counts()
    assert st.replies == replies
    assert sum(replies["receipt"].values()) == 6  # five complaints and the promotion
    assert replies["receipt"].get("suppressed") == 1  # never answer a company sender
    assert sum(replies["bantuan"].values()) == 1 and sum(replies["status"].values()) == 1


def test_since_until_select_by_the_time_the_sms_was_received(store: Store) -> None:
    since = datetime(2026, 11, 2, tzinfo=WIB).timestamp()
    until = datetime(2026, 11, 10, tzinfo=WIB).timestamp()
    st = load(store, since=since, until=until, tz=WIB)
    assert st.total == 3  # the aspirasi, the informasi (dead) and the bantuan request
    assert st.company_senders == 1
    assert list(st.by_period) == ["2026-11-02", "2026-11-03"]
    assert st.delivery == Durations(1, 300.0, 300.0)
    assert st.undelivered == {"dead": 1}
    assert (st.since_local, st.until_local) == ("2026-11-02 00:00", "2026-11-10 00:00")
    # replies by the time they were created: the receipts of 3, 4 and the promo, the bantuan one
    assert sum(sum(c.values()) for c in st.replies.values()) == 4
    # the boundary: until excludes, since includes
    exactly = SMS[2][2].timestamp()
    assert load(store, since=exactly, until=exactly + 1, tz=WIB).by_kind["aspirasi"] == 1
    assert load(store, since=exactly - 1, until=exactly, tz=WIB).total == 0


def test_purged_messages_still_count(store: Store) -> None:
    before = reports.as_dict(load(store, tz=WIB))
    purged = store.maintenance.purge(before=datetime(2027, 1, 1, tzinfo=WIB).timestamp(), now=1.8e9)
    assert purged == [1, 2, 3, 5, 6, 8]  # the finished ones; 4 (dead) and 7 (queued) are kept
    assert store.conn.execute("SELECT COUNT(*) FROM messages WHERE text = ''").fetchone()[0] == 6
    assert reports.as_dict(load(store, tz=WIB)) == before


def test_stored_at_stands_in_for_an_unreadable_sms_centre_time() -> None:
    stored = datetime(2026, 11, 5, 9, 0, tzinfo=WIB).timestamp()
    rows = [
        {"received_at": "garbage", "stored_at": stored, "kind": "pengaduan"},
        {"received_at": "2026-11-05T09:00:00", "stored_at": stored, "kind": "pengaduan"},  # naive
        # an SMS centre stamping UTC: 16:30 UTC is 23:30 WIB the same day, 17:30 UTC the next
        {"received_at": "2026-11-05T16:30:00+00:00", "stored_at": None, "kind": "aspirasi"},
        {"received_at": "2026-11-05T17:30:00+00:00", "kind": "aspirasi"},
        # wrong clocks: two hours after our commit; the year 2000 (a modem's reset clock)
        {"received_at": "2026-11-05T11:00:00+07:00", "stored_at": stored, "kind": "informasi"},
        {"received_at": "2000-01-01T00:00:00+07:00", "stored_at": stored, "kind": "informasi"},
        # late but real: a phone's SMS the network held for six days
        {"received_at": "2026-10-30T09:00:00+07:00", "stored_at": stored, "kind": "status"},
    ]
    st = compute(rows, tz=WIB)
    assert st.by_period == {
        "2026-10-30": day(0, 0, 0, 1, 0),
        **{f"2026-{d}": day(0, 0, 0, 0, 0) for d in ("10-31", "11-01", "11-02", "11-03", "11-04")},
        "2026-11-05": day(2, 1, 2, 0, 0),
        "2026-11-06": day(0, 1, 0, 0, 0),
    }
    assert st.by_category == {"tanpa kategori": 7} and st.by_location == {"tanpa lokasi": 7}


def test_compute_on_plain_rows() -> None:
    t0 = datetime(2026, 11, 2, 8, 0, tzinfo=WIB)
    rows = [
        {
            "received_at": (t0 + timedelta(minutes=i)).isoformat(),
            "stored_at": None,
            "kind": "pengaduan",
            "category": " jalan ",
            "location": "Kecamatan  Lawang Kidul",
            "sender_type": "international",
            "state": "delivered",
            "delivered_at": t0.timestamp() + 60 * i + wait,
        }
        for i, wait in enumerate([10.0, 40.0, 20.0, 30.0, -5.0])  # -5: the SMSC clock ran ahead
    ]
    rows.append({**rows[0], "kind": "keluhan", "state": "retry", "delivered_at": None})
    st = compute(rows, [{"purpose": "receipt", "state": "sent", "created_at": 1.0}], tz=WIB)
    assert st.delivery == Durations(5, 20.0, 36.0)  # 0, 10, 20, 30, 40
    assert st.kinds == (*KINDS, "keluhan")  # a kind this version does not know is kept
    assert st.by_kind["keluhan"] == 1 and st.by_kind["pengaduan"] == 5
    assert st.by_category == {"jalan": 6}
    assert st.by_kecamatan == {"Kec. Lawang Kidul": 6}
    assert st.undelivered == {"retry": 1}
    assert st.replies == {"receipt": {"sent": 1}}
    with pytest.raises(ValueError, match="period"):
        compute(rows, period="month", tz=WIB)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("location", "kecamatan"),
    [
        ("Desa Tanjung Raja, Kec. Muara Enim", "Kec. Muara Enim"),
        ("Kel. Tanjung Enim, Kec. Lawang Kidul", "Kec. Lawang Kidul"),
        ("Kec. Gelumbang", "Kec. Gelumbang"),
        ("Kab. Muara Enim", None),
        ("", None),
        (None, None),
        ("desa Kec", None),
    ],
)
def test_kecamatan_of(location: str | None, kecamatan: str | None) -> None:
    assert reports.kecamatan_of(location) == kecamatan


def test_quantile_and_duration() -> None:
    assert reports.quantile([], 0.5) is None
    assert reports.quantile([7.0], 0.9) == 7.0
    assert reports.quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert [reports.duration(s) for s in (None, 42, 200, 7500, 2 * 86400 + 4 * 3600)] == [
        "-",
        "42s",
        "3m 20s",
        "2h 05m",
        "2d 4h",
    ]


def test_as_dict_is_json(store: Store) -> None:
    d = reports.as_dict(load(store, period="week", tz=WIB))
    back = json.loads(json.dumps(d))
    assert back == d
    assert back["delivery"] == {"count": 3, "median": 120.0, "p90": 264.0}
    assert back["kinds"] == KINDS and back["by_period"]["2026-W45"]["bantuan"] == 1


def test_render_text_is_a_readable_ascii_table(store: Store) -> None:
    text = render_text(load(store, tz=WIB))
    assert text.isascii()
    lines = text.splitlines()
    header = next(x for x in lines if x.startswith("hari (day)"))
    assert header.split()[2:7] == KINDS
    row = next(x for x in lines if x.startswith("2026-11-01")).split()
    assert row == ["2026-11-01", "2", "0", "0", "0", "0", "2"]
    total = next(x for x in lines if x.startswith("jumlah (total)")).split()
    assert total[2:] == ["3", "1", "1", "1", "1", "7"]
    assert any(x.split() == ["Kec.", "Gelumbang", "2"] for x in lines)
    assert any(x.split() == ["tanpa", "kategori", "3"] for x in lines)
    assert any(x.split() == ["3", "2m", "00s", "4m", "24s"] for x in lines)  # median, p90
    assert any(x.split() == ["dead", "1"] for x in lines)
    assert "from company senders" in text and "belum ada data" not in text


def test_an_empty_store(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "empty.sqlite")
    try:
        st = load(s, period="week", tz=WIB)
    finally:
        s.close()
    assert st.total == 0 and st.by_period == {} and st.first is None
    assert st.by_kind == day(0, 0, 0, 0, 0)
    assert st.delivery == Durations(0, None, None)
    assert st.replies == {} and st.undelivered == {}
    text = render_text(st)
    assert "belum ada data (no data yet)" in text and text.isascii()
    assert json.loads(json.dumps(reports.as_dict(st)))["total"] == 0


def test_load_only_reads(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    build(path).close()
    before = path.read_bytes()
    s = Store.open(path)
    try:
        s.conn.execute("PRAGMA query_only = ON")  # any write would raise
        load(s, tz=WIB)
        load(s, period="week", since=0, until=2e9)
    finally:
        s.close()
    assert path.read_bytes() == before


def test_render_text_shortens_long_lists() -> None:
    rows = [
        {"received_at": "2026-11-05T09:00:00+07:00", "kind": "pengaduan", "location": f"Desa {c}"}
        for i, c in enumerate("ABCDEFGH")
        for _ in range(i + 1)
    ]
    rows.append({"received_at": "2026-11-05T09:00:00+07:00", "kind": "pengaduan"})
    st = compute(rows, tz=WIB)
    assert len(st.by_location) == 9  # as_dict keeps them all
    lines = render_text(st, limit=3).splitlines()
    start = lines.index("Menurut lokasi (by location)")
    assert [x.split() for x in lines[start + 3 : start + 8]] == [
        ["Desa", "H", "8"],
        ["Desa", "G", "7"],
        ["Desa", "F", "6"],
        ["...", "5", "lainnya", "(others)", "15"],  # A..E: 1+2+3+4+5
        ["tanpa", "lokasi", "1"],
    ]
    assert "Desa A" in render_text(st, limit=None)
