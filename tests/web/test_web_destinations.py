"""The console with several destinations: the dashboard's queue table has a column per
destination, each counting its own deliveries, and its links filter the reports by that
destination's state."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sms1708 import config
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.daemon import intake_rules
from sms1708.store.store import Attempt, IncomingPart, Store
from tests.web.conftest import Browserless, add_user, web_config

WIB = timezone(timedelta(hours=7))

DESTINATIONS = """
[[upstream.destination]]
name = "lapor"
url = "https://lapor.example/in"

[[upstream.destination]]
name = "spikm"
url = "https://spikm.example/in"
route = { kecamatan = ["Lawang Kidul"] }
"""


def test_the_dashboard_counts_the_queue_per_destination(tmp_path: Path, start_web: Any) -> None:
    conf = web_config(tmp_path)
    conf.write_text(conf.read_text() + DESTINATIONS, encoding="utf-8")
    cfg = config.load(conf)
    rules = intake_rules(cfg)
    store = Store.open(cfg.store.path)
    texts = ["LAPOR#jalan#Lawang Kidul#jalan rusak"] * 3 + ["LAPOR sampah di pasar"] * 2
    for i, text in enumerate(texts, start=1):
        [pdu] = encode_deliver(f"+6281234500{i:02d}", text, datetime.now(WIB))
        store.intake.ingest(
            "modem0",
            [IncomingPart("SM", i, pdu, decode_deliver(pdu))],
            now=time.time(),
            rules=rules,
        )
    now = time.time()
    for item in store.outbox.claim(now=now, lease=60, limit=10, destination="lapor"):
        store.outbox.record(
            [
                Attempt(
                    item.message_id,
                    Decision(State.DELIVERED, None, ""),
                    outcome="delivered",
                    ended_at=now,
                    destination="lapor",
                )
            ]
        )
    [dead, *_] = store.outbox.claim(now=now, lease=60, limit=1, destination="spikm")
    store.outbox.record(
        [
            Attempt(
                dead.message_id,
                Decision(State.DEAD, None, "HTTP 422"),
                outcome="rejected",
                ended_at=now,
                destination="spikm",
            )
        ]
    )
    store.close()
    add_user(conf, "vera", "viewer")
    server = start_web(conf)
    c = Browserless(server.url)
    try:
        assert c.login("vera").status_code == 303
        page = c.http.get("/").text
        head = re.search(r"<table class=\"queue\">.*?</thead>", page, re.S)
        assert head and re.findall(r'<th class="num">([^<]*)</th>', head.group(0)) == [
            "lapor",
            "spikm",
        ]

        def cell(state: str, dest: str) -> str:
            m = re.search(
                rf'<a href="([^"]*)" data-state="{state}" data-destination="{dest}">(\d+)</a>', page
            )
            assert m, (state, dest)
            return m.group(2), m.group(1).replace("&amp;", "&")  # type: ignore[return-value]

        assert cell("delivered", "lapor")[0] == "5"
        assert cell("queued", "spikm")[0] == "2"
        count, link = cell("dead", "spikm")
        assert count == "1"
        listed = c.http.get(link).text
        assert f'/laporan/{dead.message_id}"' in listed
        others = [n for n in range(1, 6) if n != dead.message_id]
        assert not any(f'href="/laporan/{n}"' in listed for n in others)
    finally:
        c.close()
