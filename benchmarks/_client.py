"""A load client in its own process: posts complaint bodies to a URL the way the forwarder does
(httpx, one shared keep-alive client, ``C`` requests in flight at most).

    python -m benchmarks._client URL N [C]  ->  one JSON line: {"requests": N, "per_s": ...}
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid

import httpx

TEXT = "jalan rusak parah di desa Tanjung Raja, mohon segera ditindaklanjuti pak"


def _body(key: str) -> bytes:
    """The generic wire format (README: "Upstream wire format")."""
    return json.dumps(
        {
            "id": key,
            "kind": "pengaduan",
            "text": TEXT,
            "raw_text": "LAPOR " + TEXT,
            "sender": "+6281234567890",
            "received_at": "2026-11-23T09:30:00+07:00",
            "anonymous": False,
            "confidential": False,
            "category": None,
            "location": None,
            "partial": False,
            "channel": "sms",
            "local_reference": "1",
        },
        ensure_ascii=False,
    ).encode()


def main(argv: list[str]) -> int:
    url, n = argv[0], int(argv[1])
    concurrency = int(argv[2]) if len(argv) > 2 else 1
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker(count: int, client: httpx.Client) -> None:
        for _ in range(count):
            key = str(uuid.uuid4())
            r = client.post(
                url,
                content=_body(key),
                headers={"Content-Type": "application/json", "Idempotency-Key": key},
            )
            with lock:
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    with httpx.Client(timeout=10.0) as client:
        client.post(url, content=b"{}", headers={"Idempotency-Key": "warm-up"})
        shares = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]
        threads = [threading.Thread(target=worker, args=(k, client)) for k in shares]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "requests": n,
                "concurrency": concurrency,
                "seconds": seconds,
                "per_s": n / seconds,
                "status": statuses,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
