"""Real SMS-DELIVER PDUs from other projects' test suites, decoded by sms1708.core.pdu.

The corpus is tests/data/pdu_corpus.json: each entry has the PDU hex exactly as its source has
it, the sender, text and concatenation header the source expects (null where the source asserts
nothing), and the source's repository, path, commit and licence. A few entries are constructed
by hand where no public suite had a DELIVER of that kind (emoji, a split surrogate pair, an EMS
header); their ``note`` says so.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from sms1708.core.pdu import decode_deliver, join_parts

CORPUS = json.loads((Path(__file__).parent / "data" / "pdu_corpus.json").read_text("utf-8"))
ENTRIES: list[dict[str, Any]] = CORPUS["entries"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_corpus_entry_decodes_as_its_source_expects(entry: dict[str, Any]) -> None:
    d = decode_deliver(entry["pdu"])
    if entry["sender"] is not None:
        assert d.sender == entry["sender"]
    if entry["text"] is not None:
        assert d.text == entry["text"]
        d.text.encode("utf-8")  # storable
    want = entry["concat"]
    got = None if d.concat is None else dataclasses.asdict(d.concat)
    assert got == want


@pytest.mark.parametrize("group", sorted(CORPUS["groups"]))
def test_corpus_long_messages_join_to_their_whole_text(group: str) -> None:
    parts = sorted(
        (e for e in ENTRIES if e.get("group") == group), key=lambda e: e["concat"]["seq"]
    )
    assert len(parts) == parts[0]["concat"]["total"] > 1
    decoded = [decode_deliver(p["pdu"]) for p in parts]
    # UCS-2 parts are joined from their raw bytes (a surrogate pair may be split across parts)
    pieces = [d.data if d.encoding == "ucs2" else d.text for d in decoded]
    assert join_parts(pieces) == CORPUS["groups"][group]


def test_corpus_entries_name_their_source_and_cover_the_cases() -> None:
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids))
    real = [e for e in ENTRIES if e["source"]["repository"]]
    for e in real:
        src = e["source"]
        assert src["path"] and src["licence"] and src["test"], e["id"]
        assert len(src["commit"]) == 40, e["id"]
    for e in ENTRIES:
        if not e["source"]["repository"]:
            assert "constructed" in e["note"], e["id"]
    assert len({e["source"]["repository"] for e in real}) >= 5
    features = {f for e in ENTRIES for f in e["features"]}
    wanted = {
        "national-characters",
        "extension-table",
        "concat-8bit",
        "concat-16bit",
        "ems-header",
        "surrogate-pair",
        "split-surrogate-pair",
        "alphanumeric-sender",
        "ucs2",
    }
    assert wanted <= features, wanted - features
