"""What `sms1708 lapor topics` shows, as library functions (upstream.lapor_topics): the stored
tree and each local category's topic, as JSON and as text (no CLI, no network)."""

from __future__ import annotations

import datetime as dt

from sms1708 import config, sitetime
from sms1708.upstream.lapor_topics import (
    Resolved,
    Topic,
    mapping_lines,
    mapping_report,
    without_topic,
)

TOPICS = [Topic(1, 0, "Infrastruktur"), Topic(2, 0, "Kesehatan"), Topic(11, 1, "Jalan")]
RESOLVED = [
    Resolved("infrastruktur", TOPICS[2], "map"),
    Resolved("kesehatan", TOPICS[1], "config"),
    Resolved("dana desa", Topic(99, -1, "?"), "config"),  # an id LAPOR! did not list
    Resolved("pungli", None, "none"),
]
WIB = dt.timezone(dt.timedelta(hours=7))
SYNCED = dt.datetime(2026, 11, 1, 7, 6, 40, tzinfo=WIB).timestamp()


def test_the_report_as_json() -> None:
    data = mapping_report(TOPICS, RESOLVED, SYNCED, 7)
    assert data["synced_at"] == SYNCED and data["default_topic"] == 7
    assert data["topics"][2] == {"id": 11, "parent": 1, "topic_name": "Jalan"}
    assert data["categories"]["infrastruktur"] == {
        "topic_id": 11,
        "topic_name": "Jalan",
        "from": "map",
    }
    assert data["categories"]["pungli"] == {"topic_id": None, "topic_name": None, "from": "none"}
    assert data["without_topic"] == without_topic(RESOLVED) == ["pungli"]


def test_the_report_as_text() -> None:
    sitetime.use(config.Config())
    assert mapping_lines(TOPICS, RESOLVED, SYNCED, 7) == [
        "LAPOR! topics (synced 2026-11-01 07:06): id  topic_name",
        "       1  Infrastruktur",
        "      11    Jalan",
        "       2  Kesehatan",
        "",
        "local category -> LAPOR! topic",
        "  infrastruktur                11  Jalan  (mapping table)",
        "  kesehatan                    2  Kesehatan  ([lapor] topics)",
        "  dana desa                    99  ([lapor] topics)  !! not in the synced tree",
        "  pungli                       !! NO TOPIC (sent with default_topic 7)",
        "",
        "1 category without a topic: edit the mapping table ([lapor] topic_map) or set an id"
        " under [lapor] topics",
    ]


def test_before_the_first_sync_and_with_every_category_filed() -> None:
    lines = mapping_lines([], RESOLVED[2:3], None, 7)
    assert lines == [
        "no LAPOR! topics stored yet: run `sms1708 lapor topics --sync`",
        "",
        "local category -> LAPOR! topic",
        "  dana desa                    99  ([lapor] topics)",
    ]
    two = [Resolved("a", None, "none"), Resolved("b", None, "none")]
    assert mapping_lines([], two, None, 7)[-1].startswith("2 categories without a topic: ")
