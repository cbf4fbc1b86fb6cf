"""Several destinations (issue 10 part 3): routing, one delivery row per destination with its
own state and backoff, one destination down for an hour while another works, the migration of a
store written by the release before, config errors, `replay --destination`, per-destination
status and metrics. Real parts: stand-ins on 127.0.0.1, real SQLite files, a stepped clock."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms1708.config import Config, from_mapping
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.routing import Route, Routing
from sms1708.daemon import Daemon, intake_rules
from sms1708.errors import ConfigError
from sms1708.health import Health, prometheus
from sms1708.store.schema import migrations
from sms1708.store.store import IncomingPart, Store
from sms1708.upstream.forwarder import Forwarder
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import WebhookClient
from tests.conftest import wait_until
from tests.faults import cli

T0 = 1_764_547_200.0
WIB = timezone(timedelta(hours=7))
FIXTURE = Path(__file__).parent / "data" / "store-before-destinations.db"


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def two(db: Path, lapor: str, spikm: str, **extra: Any) -> dict[str, Any]:
    """SP4N-LAPOR! (primary, everything) and the district's SPIKM (complaints from Lawang
    Kidul and information requests)."""
    return {
        "store": {"path": str(db)},
        "upstream": {
            "timeout": 2.0,
            "connect_timeout": 1.0,
            "retry_base": 10.0,
            "retry_cap": 600.0,
            "max_age_days": 1.0,
            "token_env": "",
            **extra,
            "destination": [
                {"name": "lapor", "url": lapor},
                {
                    "name": "spikm",
                    "url": spikm,
                    "route": {"kinds": ["pengaduan", "informasi"], "kecamatan": ["Lawang Kidul"]},
                },
            ],
        },
    }


def sms(store: Store, n: int, text: str, now: float, cfg: Config) -> int:
    scts = datetime(2026, 11, 30, 9, 0, tzinfo=WIB) + timedelta(minutes=n)
    [pdu] = encode_deliver(f"+6281234{n:06d}", text, scts)
    [res] = store.intake.ingest(
        "modem0",
        [IncomingPart("SM", n, pdu, decode_deliver(pdu))],
        now=now,
        rules=intake_rules(cfg),
    )
    [mid] = res.message_ids
    return mid


def deliveries(store: Store, mid: int) -> dict[str, dict[str, Any]]:
    return {d["destination"]: d for d in store.queries.deliveries(mid)}


@pytest.fixture
def second() -> Iterator[StandIn]:
    s = StandIn().up()
    yield s
    s.stop()


# ----------------------------------------------------------------------------- routing


def test_routing_by_kind_category_and_place() -> None:
    r = Routing(
        (
            ("lapor", Route()),
            ("ppid", Route(kinds=("informasi",))),
            ("dinkes", Route(categories=("kesehatan",))),
            ("lawang", Route(kecamatan=("Lawang Kidul",), location_codes=("16.03.12",))),
        ),
        primary="lapor",
    )
    assert r.select("pengaduan") == ("lapor",)
    assert r.select("informasi") == ("lapor", "ppid")
    assert r.select("pengaduan", "Kesehatan") == ("lapor", "dinkes")
    assert r.select("pengaduan", None, "desa Tanjung Enim, lawang  kidul") == ("lapor", "lawang")
    assert r.select("pengaduan", None, None, "16.03.12.2001") == ("lapor", "lawang")
    assert r.select("pengaduan", None, None, "16.03.1") == ("lapor",)  # a prefix, by parts
    assert r.select("pengaduan", None, "Lawang Kidulan") == ("lapor",)  # whole words only


def test_a_complaint_no_rule_takes_goes_to_the_primary() -> None:
    r = Routing(
        (("ppid", Route(kinds=("informasi",))), ("spikm", Route(kecamatan=("Gunung Megang",)))),
        primary="spikm",
    )
    assert r.select("pengaduan", None, "Muara Enim") == ("spikm",)
    assert r.select("informasi") == ("ppid",)


names = st.sampled_from(["a", "b", "c", "d"])
rules = st.builds(
    Route,
    kinds=st.lists(st.sampled_from(["pengaduan", "aspirasi", "informasi"]), max_size=2).map(tuple),
    categories=st.lists(st.sampled_from(["kesehatan", "jalan"]), max_size=1).map(tuple),
    kecamatan=st.lists(st.sampled_from(["Lawang Kidul", "Ujan Mas"]), max_size=1).map(tuple),
)


@given(
    st.lists(st.tuples(names, rules), min_size=1, max_size=4, unique_by=lambda x: x[0]),
    st.sampled_from(["pengaduan", "aspirasi", "informasi"]),
    st.sampled_from([None, "kesehatan", "jalan"]),
    st.sampled_from([None, "Lawang Kidul", "Ujan Mas", "Muara Enim"]),
)
def test_every_complaint_has_at_least_one_destination_and_only_configured_ones(
    routes: list[tuple[str, Route]], kind: str, category: str | None, place: str | None
) -> None:
    r = Routing(tuple(routes), primary=routes[0][0])
    got = r.select(kind, category, place)
    assert got and len(set(got)) == len(got) and set(got) <= set(r.names)
    everything = [n for n, rule in routes if rule.everything]
    assert set(everything) <= set(got)


# ----------------------------------------------------------------------------- config


def test_two_destinations_with_inherited_keys_and_a_default_primary(tmp_path: Path) -> None:
    cfg = from_mapping(two(tmp_path / "s.db", "https://lapor.example", "https://spikm.example"))
    lapor, spikm = cfg.upstream.active()
    assert (lapor.name, lapor.primary, spikm.name, spikm.primary) == (
        "lapor",
        True,
        "spikm",
        False,
    )
    assert spikm.timeout == 2.0 and spikm.retry_base == 10.0  # from [upstream]
    assert spikm.route.kinds == ("pengaduan", "informasi")
    assert cfg.upstream.routing().primary == "lapor"
    # the shorthand is one destination, named upstream, primary
    short = from_mapping({"upstream": {"url": "https://x.example"}})
    [one] = short.upstream.active()
    assert (one.name, one.primary, one.url) == ("upstream", True, "https://x.example")


BASE = {"name": "a", "url": "https://a.example"}


@pytest.mark.parametrize(
    ("upstream", "key", "words"),
    [
        ({"destination": [BASE, BASE]}, "upstream.destination", "two destinations are named"),
        (
            {
                "destination": [
                    {**BASE, "primary": True},
                    {"name": "b", "url": "https://b.example", "primary": True},
                ]
            },
            "upstream.destination",
            "only one destination may be primary",
        ),
        (
            {"destination": [{"url": "https://a.example"}]},
            "upstream.destination[0].name",
            "required",
        ),
        ({"destination": [{"name": "a"}]}, "upstream.destination[0].url", "required"),
        (
            {"destination": [{**BASE, "name": "SP4N LAPOR"}]},
            "upstream.destination[0].name",
            "short name",
        ),
        ({"url": "https://x.example", "destination": [BASE]}, "upstream.url", "not both"),
        ({"destination": []}, "upstream.destination", "array of tables"),
        (
            {
                "destination": [
                    BASE,
                    {
                        "name": "b",
                        "url": "https://b.example",
                        "status_url": "https://b.example/{key}",
                    },
                ]
            },
            "upstream.destination[1].status_url",
            "only the primary",
        ),
        (
            {"destination": [{**BASE, "route": {"kecamatn": ["x"]}}]},
            "upstream.destination[0].route.kecamatn",
            "unknown key",
        ),
        (
            {"destination": [{**BASE, "route": {"kinds": ["status"]}}]},
            "upstream.destination[0].route.kinds",
            "unknown kind",
        ),
        (
            {"destination": [{**BASE, "route": {"location_codes": ["Lawang"]}}]},
            "upstream.destination[0].route.location_codes",
            "not a Kemendagri code",
        ),
        (
            {"destination": [{**BASE, "url": "http://10.1.2.3/in"}]},
            "upstream.destination[0].url",
            "in clear",
        ),
        ({"destination": [{**BASE, "timeout": 0}]}, "upstream.destination[0].timeout", "positive"),
        (
            {"url": "https://x.example", "name": "lapor"},
            "upstream.name",
            "[[upstream.destination]]",
        ),
        (
            {"url": "https://x.example", "route": {"kinds": ["informasi"]}},
            "upstream.route",
            "[[upstream.destination]]",
        ),
    ],
)
def test_destination_config_errors_name_the_key(
    upstream: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as e:
        from_mapping({"upstream": upstream})
    assert e.value.key == key
    assert words in str(e.value)
    assert "\n" not in str(e.value)


def test_a_destination_may_allow_plain_http_for_itself_only(tmp_path: Path) -> None:
    cfg = from_mapping(
        {
            "upstream": {
                "destination": [
                    {"name": "lapor", "url": "https://lapor.example"},
                    {"name": "spikm", "url": "http://10.1.2.3/in", "allow_insecure": True},
                ]
            }
        }
    )
    assert [d.allow_insecure for d in cfg.upstream.active()] == [False, True]


# ----------------------------------------------------------------------------- the store


def test_a_complaint_gets_one_delivery_row_per_matching_destination(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    cfg = from_mapping(two(db, "https://lapor.example", "https://spikm.example"))
    store = Store.open(db)
    try:
        both = sms(store, 1, "LAPOR#jalan#Lawang Kidul#jalan berlubang", T0, cfg)
        only = sms(store, 2, "LAPOR jalan berlubang di Muara Enim", T0, cfg)
        info = sms(store, 3, "INFO Lawang Kidul anggaran dana desa", T0, cfg)
        local = sms(store, 4, "BANTUAN", T0, cfg)
        assert set(deliveries(store, both)) == {"lapor", "spikm"}
        assert set(deliveries(store, only)) == {"lapor"}
        assert set(deliveries(store, info)) == {"lapor", "spikm"}
        assert deliveries(store, local) == {}
        assert store.queries.destination_counts() == {
            "lapor": {"queued": 3},
            "spikm": {"queued": 2},
        }
        # each destination claims its own rows, with the complaint's one key
        a = store.outbox.claim(now=T0, lease=60, limit=10, destination="lapor")
        b = store.outbox.claim(now=T0, lease=60, limit=10, destination="spikm")
        assert sorted(i.message_id for i in a) == [both, only, info]
        assert sorted(i.message_id for i in b) == [both, info]
        assert {i.key for i in b} <= {i.key for i in a}
        assert store.outbox.claim(now=T0, lease=60, limit=10, destination="lapor") == []
    finally:
        store.close()


# ----------------------------------------------------------------------------- forwarding


class Two:
    """Two forwarders (one per destination) on one store, stepped with one fake clock."""

    def __init__(self, tmp_path: Path, lapor: StandIn, spikm: StandIn, **extra: Any) -> None:
        self.db = tmp_path / "s.db"
        self.cfg = from_mapping(two(self.db, lapor.url, spikm.url, **extra))
        self.clock = Clock()
        self.stop = threading.Event()
        self.fwd = {}
        self.clients = []
        for d in self.cfg.upstream.active():
            client = WebhookClient(d, immediate_retries=1)
            self.clients.append(client)
            self.fwd[d.name] = Forwarder(
                self.cfg,
                self.stop,
                client=client,
                clock=self.clock,
                rand=lambda: 0.5,
                destination=d.name,
            )
        self.store = Store.open(self.db)
        self.n = 0

    def sms(self, text: str) -> int:
        self.n += 1
        return sms(self.store, self.n, text, self.clock(), self.cfg)

    def step(self, name: str) -> int:
        return self.fwd[name].step(self.store)

    def close(self) -> None:
        for c in self.clients:
            c.close()
        self.store.close()


def test_one_destination_down_for_an_hour_never_holds_back_the_other(
    tmp_path: Path, upstream: StandIn, second: StandIn
) -> None:
    """SPIKM is down for an hour while SMS keep coming: every complaint reaches SP4N-LAPOR!
    in the step it is due, SPIKM's rows back off on their own (its breaker opens, LAPOR!'s
    does not), nothing goes dead, and when SPIKM is back each complaint reaches it once."""
    t = Two(tmp_path, upstream, second, breaker_threshold=2, breaker_pause=30.0)
    try:
        second.down()
        mids: list[int] = []
        for minute in range(60):
            mids.append(t.sms(f"LAPOR#jalan#Lawang Kidul#jalan rusak nomor {minute}"))
            assert t.step("lapor") == 1  # the new one, at once, every minute
            assert deliveries(t.store, mids[-1])["lapor"]["state"] == "delivered"
            t.step("spikm")  # fails, or holds while its breaker is open
            t.clock.t += 60
        assert t.fwd["spikm"].breaker.open_until > 0
        assert t.fwd["lapor"].breaker.allow(t.clock())
        spikm = [deliveries(t.store, m)["spikm"] for m in mids]
        assert {d["state"] for d in spikm} <= {"queued", "retry"}  # none dead, none lost
        keys = [t.store.queries.message(m)["key"] for m in mids]  # type: ignore[index]
        assert Counter(upstream.keys()) == Counter(keys)
        # the complaint's state shows what still needs doing
        assert t.store.queries.message(mids[0])["state"] == "retry"  # type: ignore[index]

        second.up()
        for _ in range(40):  # back: the breaker's probe, then the backlog, as rows fall due
            t.clock.t += 600
            while t.step("spikm"):
                pass
            if all(deliveries(t.store, m)["spikm"]["state"] == "delivered" for m in mids):
                break
        for m in mids:
            row = t.store.queries.message(m)
            assert row is not None and row["state"] == "delivered"
            d = deliveries(t.store, m)
            assert d["lapor"]["state"] == d["spikm"]["state"] == "delivered"
            # one key per complaint, the same for both destinations
            assert second.delivered()[row["key"]].body["id"] == row["key"]
            assert upstream.delivered()[row["key"]].body["id"] == row["key"]
        # exactly once per destination: every request that reached each server was accepted
        assert sorted(Counter(second.keys()).values()) == [1] * len(mids)
        assert sorted(Counter(upstream.keys()).values()) == [1] * len(mids)
        assert t.store.queries.counts()["outbox"] == {"delivered": len(mids)}
    finally:
        t.close()


def test_the_tracking_id_texted_to_the_citizen_comes_from_the_primary(
    tmp_path: Path, upstream: StandIn, second: StandIn
) -> None:
    t = Two(tmp_path, upstream, second)
    try:
        mid = t.sms("LAPOR#jalan#Lawang Kidul#jembatan putus")
        assert t.step("spikm") == 1  # the other one answers first
        row = t.store.queries.message(mid)
        assert row is not None and row["tracking_id"] is None
        assert not [r for r in row["replies"] if r["purpose"] == "tracking"]
        assert t.step("lapor") == 1
        row = t.store.queries.message(mid)
        assert row is not None
        assert row["tracking_id"] == upstream.tracking[row["key"]]
        # the citizen learns the primary's id: in the receipt when it came in time (one SMS
        # per complaint), else in a tracking SMS of its own
        told = [r["text"] for r in row["replies"] if r["purpose"] in ("receipt", "tracking")]
        assert [x for x in told if row["tracking_id"] in x], row["replies"]
        d = deliveries(t.store, mid)
        assert d["spikm"]["tracking_id"] == second.tracking[row["key"]]  # kept, per destination
    finally:
        t.close()


def test_replay_moves_one_destinations_dead_rows_only(
    tmp_path: Path, upstream: StandIn, second: StandIn
) -> None:
    t = Two(tmp_path, upstream, second)
    try:
        mid = t.sms("LAPOR#jalan#Lawang Kidul#jalan longsor")
        second.reject_if = lambda body: True
        upstream.reject_if = lambda body: True
        assert t.step("lapor") == t.step("spikm") == 1
        assert {d["state"] for d in deliveries(t.store, mid).values()} == {"dead"}
        second.reject_if = None
        assert t.store.outbox.replay(
            state="dead", destination="spikm", now=t.clock(), dry_run=False
        ) == [mid]
        d = deliveries(t.store, mid)
        assert (d["lapor"]["state"], d["spikm"]["state"]) == ("dead", "queued")
        assert t.step("lapor") == 0
        assert t.step("spikm") == 1
        d = deliveries(t.store, mid)
        assert (d["lapor"]["state"], d["spikm"]["state"]) == ("dead", "delivered")
        assert t.store.queries.message(mid)["state"] == "dead"  # type: ignore[index]
    finally:
        t.close()


def test_a_daemon_with_one_destination_hanging_delivers_to_the_other(
    tmp_path: Path, upstream: StandIn, second: StandIn
) -> None:
    """Threads and the real clock: SPIKM hangs on every request (a dead link that never
    answers), then is down, then back. SP4N-LAPOR! gets everything meanwhile; no loop dies, no
    loop is restarted; in the end each destination has each complaint once."""
    db = tmp_path / "s.db"
    cfg = from_mapping(
        two(
            db,
            upstream.url,
            second.url,
            retry_base=0.2,
            retry_cap=1.0,
            breaker_pause=0.5,
            breaker_max_pause=1.0,
            timeout=1.0,
            lease_seconds=5.0,
        )
    )
    second.mode = "hang"
    second.hang_seconds = 3.0
    d = Daemon(cfg)
    d.start()
    store = Store.open(db)
    try:
        assert [f.name for f in d.forwarders] == ["forwarder-lapor", "forwarder-spikm"]
        mids = [
            sms(store, i, f"LAPOR#jalan#Lawang Kidul#got mampet {i}", time.time(), cfg)
            for i in range(12)
        ]
        d.wake_forwarder()
        assert wait_until(  # all of them, while SPIKM hangs
            lambda: {deliveries(store, m)["lapor"]["state"] for m in mids} == {"delivered"}, 60
        )
        assert {deliveries(store, m)["spikm"]["state"] for m in mids} != {"delivered"}
        second.mode = "up"
        second.down()
        time.sleep(0.5)  # a short real outage: refused connections
        second.up()
        assert wait_until(
            lambda: {deliveries(store, m)["spikm"]["state"] for m in mids} == {"delivered"}, 90
        ), [deliveries(store, m)["spikm"] for m in mids]
        assert d.dead_threads() == [] and d.revive() == []
        assert not [n for n in d.health.snapshot()["loops"] if n.endswith("restarts")]
        states = {deliveries(store, m)[n]["state"] for m in mids for n in ("lapor", "spikm")}
        assert states == {"delivered"}  # nothing went dead on the way
        assert len(upstream.delivered()) == len(second.delivered()) == len(mids)
        assert sorted(Counter(upstream.keys()).values()) == [1] * len(mids)
    finally:
        d.shutdown(grace=2.0)
        store.close()


# ----------------------------------------------------------------------------- migration


def test_the_migration_moves_a_store_of_the_previous_release_without_losing_a_row(
    tmp_path: Path,
) -> None:
    """The fixture was written by the release before several destinations (schema up to m012,
    complaints in every queue state: see tests/data/store_before_destinations.py)."""
    db = tmp_path / "old.db"
    shutil.copy(FIXTURE, db)
    old = sqlite3.connect(db)
    old.row_factory = sqlite3.Row
    before = [dict(r) for r in old.execute("SELECT * FROM outbox ORDER BY message_id")]
    tracking = dict(old.execute("SELECT id, tracking_id FROM messages").fetchall())
    attempts = old.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    assert "m014_destinations" not in {
        r[0] for r in old.execute("SELECT name FROM _sqlite_migrations")
    }
    old.close()
    assert {r["state"] for r in before} == {
        "delivered",
        "retry",
        "dead",
        "ambiguous",
        "sending",
        "queued",
    }
    store = Store.open(db)
    try:
        after = [
            dict(r) for r in store.conn.execute("SELECT * FROM deliveries ORDER BY message_id")
        ]
        assert len(after) == len(before)
        for b, a in zip(before, after, strict=True):
            assert a.pop("destination") == "upstream"
            assert a.pop("tracking_id") == tracking[b["message_id"]]
            assert a == b  # every column, as it was
        # the per-complaint view reads as the old table did
        view = [dict(r) for r in store.conn.execute("SELECT * FROM outbox ORDER BY message_id")]
        for b, v in zip(before, view, strict=True):
            assert v.pop("destinations") == 1
            assert v == b
        assert store.conn.execute(
            "SELECT COUNT(*), MIN(destination), MAX(destination) FROM attempts"
        ).fetchone()[:] == (attempts, "upstream", "upstream")
        # and the queue goes on: the shorthand destination claims what was due
        claimed = store.outbox.claim(now=T0 + 10_000, lease=60, limit=10)
        pending = {b["message_id"] for b in before if b["state"] not in ("delivered", "dead")}
        assert {i.message_id for i in claimed} == pending and len(pending) == 4
    finally:
        store.close()


def test_the_migration_on_a_store_built_by_the_previous_migrations(tmp_path: Path) -> None:
    """The same move from the schema itself: migrations up to m012, rows in the old shape."""
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "m.db")
    migrations.apply(db, stop_before="m014_destinations")
    c = db.conn
    for i, state in enumerate(["queued", "delivered", "dead"], start=1):
        c.execute(
            "INSERT INTO messages (id, key, modem, sender, sender_type, received_at, stored_at,"
            " raw_text, kind, text) VALUES (?, ?, 'm', '+62812', 'international', 'x', 0, 't',"
            " 'pengaduan', 't')",
            (i, f"k{i}"),
        )
        c.execute(
            "INSERT INTO outbox (message_id, state, attempts, queued_at, next_attempt_at,"
            " updated_at) VALUES (?, ?, ?, 1, 2, 3)",
            (i, state, i),
        )
    c.commit()
    migrations.apply(db)
    rows = c.execute(
        "SELECT message_id, destination, state, attempts FROM deliveries ORDER BY message_id"
    ).fetchall()
    assert rows == [
        (1, "upstream", "queued", 1),
        (2, "upstream", "delivered", 2),
        (3, "upstream", "dead", 3),
    ]
    db.close()


# ----------------------------------------------------------------------------- operators


def test_status_queue_and_replay_per_destination(
    tmp_path: Path, upstream: StandIn, second: StandIn
) -> None:
    t = Two(tmp_path, upstream, second)
    try:
        mid = t.sms("LAPOR#jalan#Lawang Kidul#drainase tersumbat")
        other = t.sms("LAPOR lampu pasar mati")
        second.reject_if = lambda body: True
        assert t.step("lapor") == 2 and t.step("spikm") == 1
    finally:
        t.close()
    conf = tmp_path / "c.toml"
    conf.write_text(
        f"""
[store]
path = "{t.db}"

[upstream]
token_env = ""

[[upstream.destination]]
name = "lapor"
url = "{upstream.url}"

[[upstream.destination]]
name = "spikm"
url = "{second.url}"
route = {{ kinds = ["pengaduan", "informasi"], kecamatan = ["Lawang Kidul"] }}
""",
        encoding="utf-8",
    )
    res = cli(conf, "status")
    assert "-> lapor" in res.out and "-> spikm" in res.out, res.out
    assert "destination spikm: 1 complaint(s) dead" in res.out
    res = cli(conf, "queue", "list", "--destination", "spikm", "--state", "dead")
    assert str(mid) in res.out and f"\n{other:>6} " not in res.out
    res = cli(conf, "queue", "show", str(mid))
    assert "spikm: dead" in res.out and "lapor: delivered" in res.out
    res = cli(conf, "replay", "--destination", "spkim", "--state", "dead")
    assert res.code == 2 and "known: lapor, spikm" in res.err
    res = cli(conf, "replay", "--destination", "spikm", "--state", "dead", "--yes")
    assert res.code == 0 and f"replayed to spikm: 1 complaint(s): {mid}" in res.out
    store = Store.open(t.db)
    try:
        d = deliveries(store, mid)
        assert (d["lapor"]["state"], d["spikm"]["state"]) == ("delivered", "queued")
    finally:
        store.close()


def test_metrics_per_destination() -> None:
    h = Health()
    h.update_destination("lapor", primary=True, last_success_at=1000.0)
    h.update_destination("spikm", primary=False, circuit_open_until=2000.0, problem="down")
    text = prometheus(
        h.snapshot(), {}, {"lapor": {"delivered": 3}, "spikm": {"retry": 2, "delivered": 1}}
    )
    assert 'sms1708_deliveries{destination="spikm",state="retry"} 2' in text
    assert 'sms1708_deliveries{destination="lapor",state="delivered"} 3' in text
    assert 'sms1708_destination_circuit_open{destination="spikm"} 1' in text
    assert 'sms1708_destination_circuit_open{destination="lapor"} 0' in text
    assert 'sms1708_destination_last_success_timestamp_seconds{destination="lapor"} 1000.0' in text
    assert h.snapshot()["upstream"]["last_success_at"] == 1000.0  # the primary's
    assert h.snapshot()["upstream"].get("circuit_open_until") is None


def test_the_commented_example_of_several_destinations_loads_when_uncommented(
    tmp_path: Path,
) -> None:
    example = Path(__file__).parent.parent / "config" / "sms1708.example.toml"
    lines = example.read_text(encoding="utf-8").splitlines()
    start = lines.index("# BEGIN EXAMPLE: several destinations")
    end = lines.index("# END EXAMPLE")
    lines[start + 1 : end] = [
        line.removeprefix("# ").removeprefix("#") for line in lines[start + 1 : end]
    ]
    conf = tmp_path / "c.toml"
    conf.write_text("\n".join(lines), encoding="utf-8")
    from sms1708.config import load

    cfg = load(conf)
    assert [(d.name, d.primary, d.profile) for d in cfg.upstream.active()] == [
        ("lapor", True, "lapor"),
        ("spikm", False, "generic"),
        ("ppid", False, "generic"),
    ]
    r = cfg.upstream.routing()
    assert r.select("informasi", None, "Lawang Kidul") == ("lapor", "ppid")
    assert r.select("pengaduan", None, "Desa Sukarami, Lawang Kidul") == ("lapor", "spikm")
    assert r.select("aspirasi", None, "Muara Enim") == ("lapor",)


def test_check_names_each_destination_and_its_missing_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sms1708.diagnose import run_checks

    monkeypatch.setenv("LAPOR_TOKEN", "t0k3n")
    monkeypatch.delenv("SPIKM_TOKEN", raising=False)
    cfg = from_mapping(
        {
            "store": {"path": str(tmp_path / "s.db")},
            "upstream": {
                "destination": [
                    {"name": "lapor", "url": "https://lapor.example", "token_env": "LAPOR_TOKEN"},
                    {"name": "spikm", "url": "https://spikm.example", "token_env": "SPIKM_TOKEN"},
                ]
            },
        }
    )
    checks = {c.name: c for c in run_checks(cfg, probe_modem=False)}
    assert checks["upstream.destination[lapor].url"].ok
    assert checks["upstream.destination[spikm].url"].ok
    assert not checks["upstream.destination[spikm] token"].ok
    assert "upstream.destination[lapor] token" not in checks
    assert "upstream.url" not in checks


def test_status_shows_the_rows_of_a_destination_no_longer_configured(tmp_path: Path) -> None:
    """A store from the previous release, and a config switched to two named destinations: the
    old queue belongs to `upstream`; status says so (an alarm, exit 1), nothing is lost."""
    db = tmp_path / "old.db"
    shutil.copy(FIXTURE, db)
    conf = tmp_path / "c.toml"
    conf.write_text(
        f"""
[store]
path = "{db}"

[[upstream.destination]]
name = "lapor"
url = "https://lapor.example/in"

[[upstream.destination]]
name = "spikm"
url = "https://spikm.example/in"
""",
        encoding="utf-8",
    )
    res = cli(conf, "status")
    assert res.code == 1
    assert "-> upstream" in res.out and "(NOT CONFIGURED)" in res.out, res.out
    assert "destination upstream is not configured any more: its 4 pending" in res.out
    data = cli(conf, "status", "--json").json()
    assert data["destinations"]["upstream"]["configured"] is False
    assert sum(data["destinations"]["upstream"]["queue"].values()) == 6
