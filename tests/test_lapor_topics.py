"""SP4N-LAPOR! topics: `sms1708 lapor topics --sync` against a gettopics stand-in on 127.0.0.1
that speaks the documented shape, the mapping table, and the topic id the LAPOR! profile sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sms1708.cli import main
from sms1708.config import from_mapping
from sms1708.modem.emulator import EmulatedModem
from sms1708.store.store import Store
from sms1708.upstream.lapor_topics import Topic, TopicIds, TopicsError, parse_topics, tree_lines
from sms1708.upstream.standin import StandIn
from sms1708.upstream.standin_lapor import TopicsStandIn
from sms1708.upstream.webhook import make_client
from tests.conftest import write_config

KEYTOKEN = "lapor-keytoken-1708"
ENV = "TEST_LAPOR_KEYTOKEN"


@pytest.fixture
def topics_server() -> TopicsStandIn:
    with TopicsStandIn(KEYTOKEN) as s:
        yield s  # type: ignore[misc]


def _config(tmp_path: Path, url: str, **lapor: object) -> Path:
    return write_config(
        tmp_path / "sms1708.toml",
        {
            "store": {"path": str(tmp_path / "sms1708.db")},
            "lapor": {"topics_url": url, "keytoken_env": ENV, **lapor},
        },
    )


def _run(cfg: Path, *args: str, token: str | None = KEYTOKEN) -> Result:
    env = {ENV: token} if token is not None else {ENV: ""}
    return CliRunner().invoke(main, ["--config", str(cfg), "lapor", "topics", *args], env=env)


def test_sync_fetches_the_tree_with_the_keytoken_and_keeps_it(
    tmp_path: Path, topics_server: TopicsStandIn
) -> None:
    cfg = _config(tmp_path, topics_server.url)
    r = _run(cfg, "--sync")
    req = topics_server.requests[-1]
    assert req.method == "POST" and req.headers["KEYTOKEN"] == KEYTOKEN
    assert "synced 10 LAPOR! topics (8 top level)" in r.output
    # the tree, children under their parent
    assert "       1  Infrastruktur\n      11    Jalan dan Jembatan" in r.output
    # the mapping by topic name, sub-topics too; categories with no topic are flagged
    assert "kesehatan                    2  Kesehatan  (mapping table)" in r.output
    assert "bantuan sosial               51  Bantuan Sosial" in r.output
    assert "pungli                       !! NO TOPIC" in r.output
    assert r.exit_code == 1  # a category without a topic needs attention
    s = Store.open(tmp_path / "sms1708.db")
    assert (2, 0, "Kesehatan") in s.topics.all() and len(s.topics.all()) == 10
    # listing again without --sync reads the stored tree, no request
    before = len(topics_server.requests)
    again = _run(cfg, "--json")
    assert len(topics_server.requests) == before
    data = json.loads(again.output)
    assert data["categories"]["kesehatan"] == {
        "topic_id": 2,
        "topic_name": "Kesehatan",
        "from": "map",
    }
    assert set(data["without_topic"]) == {"pungli", "dana desa"}


@pytest.mark.parametrize(
    ("mode", "token", "why"),
    [
        ("up", "wrong-token", "HTTP 401"),
        ("fail", KEYTOKEN, "HTTP 503"),
        ("garbage", KEYTOKEN, "not a JSON array"),
    ],
)
def test_a_failed_sync_says_why_and_keeps_the_stored_tree(
    tmp_path: Path, topics_server: TopicsStandIn, mode: str, token: str, why: str
) -> None:
    cfg = _config(tmp_path, topics_server.url)
    _run(cfg, "--sync")
    topics_server.mode = mode
    r = _run(cfg, "--sync", token=token)
    assert r.exit_code == 1 and why in r.output and "unchanged" in r.output
    assert len(Store.open(tmp_path / "sms1708.db").topics.all()) == 10
    assert token not in r.output


def test_sync_without_url_or_token_is_a_config_error(
    tmp_path: Path, topics_server: TopicsStandIn
) -> None:
    r = _run(_config(tmp_path, topics_server.url), "--sync", token=None)
    assert r.exit_code == 2 and "lapor.keytoken_env" in r.output
    r = _run(_config(tmp_path, ""), "--sync")
    assert r.exit_code == 2 and "lapor.topics_url" in r.output


def test_the_operator_mapping_and_explicit_ids(
    tmp_path: Path, topics_server: TopicsStandIn
) -> None:
    mapping = tmp_path / "topics.toml"
    mapping.write_text(
        '[topics]\npungli = ["Topik Lainnya"]\n"dana desa" = [8]\nkesehatan = ["Kesehatan"]\n'
        'infrastruktur = ["Infrastruktur"]\nlistrik = [7]\n"air bersih" = [1]\n'
        'pendidikan = [3]\n"administrasi kependudukan" = [4]\nbencana = [6]\n'
        '"lingkungan hidup" = [6]\n"bantuan sosial" = [51]\n',
        encoding="utf-8",
    )
    cfg = _config(tmp_path, topics_server.url, topic_map=str(mapping))
    with cfg.open("a", encoding="utf-8") as f:  # [lapor] is the last table
        f.write("topics = { kesehatan = 99 }\n")
    r = _run(cfg, "--sync", "--json")
    data = json.loads(r.output)
    assert r.exit_code == 0 and data["without_topic"] == []
    assert data["categories"]["pungli"]["topic_id"] == 8
    assert data["categories"]["kesehatan"] == {"topic_id": 99, "topic_name": "?", "from": "config"}
    listing = _run(cfg)
    assert "kesehatan                    99  ([lapor] topics)  !! not in the synced tree" in (
        listing.output
    )


def test_parse_topics_takes_only_the_documented_shape() -> None:
    got = parse_topics([{"id": "3", "parent": "0", "topic_name": " Kesehatan  Ibu "}])
    assert got == [Topic(3, 0, "Kesehatan Ibu")]
    for bad in (
        {"data": []},
        [],
        [{"id": 1, "topic_name": "x"}],
        [{"id": 1, "parent": 0, "topic_name": ""}],
        [{"id": 1, "parent": 0, "topic_name": "a"}, {"id": 1, "parent": 0, "topic_name": "b"}],
        [{"id": "x", "parent": 0, "topic_name": "a"}],
    ):
        with pytest.raises(TopicsError):
            parse_topics(bad)


def test_tree_lines_survive_orphans_and_cycles() -> None:
    lines = tree_lines([Topic(1, 2, "a"), Topic(2, 1, "b"), Topic(3, 77, "orphan")])
    assert any("orphan" in line for line in lines)


def test_the_lapor_profile_sends_the_synced_topic_id(tmp_path: Path, upstream: StandIn) -> None:
    db = tmp_path / "sms1708.db"
    Store.open(db).topics.replace([(2, 0, "Kesehatan"), (8, 0, "Topik Lainnya")], now=1.0)
    cfg = from_mapping(
        {
            "store": {"path": str(db)},
            "upstream": {"url": upstream.url, "profile": "lapor", "token_env": ""},
            "lapor": {"default_topic": 5},
        }
    )
    client = make_client(cfg)
    record = {
        "id": 1,
        "kind": "pengaduan",
        "text": "puskesmas tutup",
        "sender": "+6281234567890",
        "received_at": "2026-11-23T09:30:00+07:00",
        "anonymous": 0,
        "confidential": 0,
        "category": "kesehatan",
        "location": "Kec. Gelumbang",
        "location_code": "16.03.06",
    }
    try:
        client.send(record, "k1")
        client.send({**record, "category": "pungli"}, "k2")
    finally:
        client.close()
    first, second = (r.body for r in upstream.requests[-2:])
    assert first["topic_id"] == 2 and first["location_code"] == "16.03.06"
    assert second["topic_id"] == 5  # no topic for pungli in this tree: the default


def test_a_sync_reaches_a_running_forwarder(tmp_path: Path) -> None:
    db = tmp_path / "sms1708.db"
    store = Store.open(db)
    cfg = from_mapping({"store": {"path": str(db)}, "lapor": {"default_topic": 0}})
    now = [0.0]
    ids = TopicIds(cfg, refresh=60.0, clock=lambda: now[0])
    assert ids("kesehatan") == 0  # never synced: the default
    store.topics.replace([(2, 0, "Kesehatan")], now=1.0)
    assert ids("kesehatan") == 0  # read again only after the refresh interval
    now[0] = 61.0
    assert ids("kesehatan") == 2


def test_topic_sync_and_forwarding_end_to_end_through_the_daemon(
    modem: EmulatedModem,
    upstream: StandIn,
    topics_server: TopicsStandIn,
    make_config,
    daemon,
    tmp_path: Path,
) -> None:
    cfg = make_config(
        modem,
        upstream,
        upstream={"profile": "lapor"},
        lapor={"topics_url": topics_server.url, "keytoken_env": ENV},
    )
    r = CliRunner().invoke(
        main, ["--config", str(cfg), "lapor", "topics", "--sync"], env={ENV: KEYTOKEN}
    )
    assert "synced 10" in r.output, r.output
    d = daemon(cfg, env={"SMS1708_UPSTREAM_TOKEN": "t"})
    assert d.wait_event("modem_ready"), d.events()
    modem.receive_sms("+6281234567890", "LAPOR dokter puskesmas gelumbang jarang ada")
    assert upstream.wait_for(1, timeout=30), d.events()
    body = next(iter(upstream.delivered().values())).body
    assert body["category_name"] == "kesehatan" and body["topic_id"] == 2
    assert body["location_code"] == "16.03.06"
    assert d.terminate() == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "file not found"),
        (b'[topics]\nkesehatan = ["Kesehatan\xe9"]\n', "not UTF-8"),
        (b"[topics\n", "not valid TOML"),
    ],
)
def test_a_bad_topic_map_file_is_a_config_error_naming_the_file(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    """The map is read like the grammar's table files: one clear error naming the file."""
    from sms1708.errors import ConfigError
    from sms1708.upstream.lapor_topics import load_map

    path = tmp_path / "topics.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_map(str(path))
    assert str(path) in str(info.value) and problem in str(info.value)
