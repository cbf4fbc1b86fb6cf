"""A stand-in for the SP4N-LAPOR! ``gettopics`` call: a real HTTP server on 127.0.0.1.

It speaks the documented shape only: a POST answered with a JSON array of
``{"id", "parent", "topic_name"}`` (``parent`` 0 for a top-level topic), and only when the
request carries the expected KEYTOKEN (else 401). ``mode`` = ``up`` | ``garbage`` (an answer
that is not the documented array) | ``fail`` (503). Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: a small tree in the documented shape (names as LAPOR! shows topics to the public)
SAMPLE_TOPICS: list[dict[str, Any]] = [
    {"id": 1, "parent": 0, "topic_name": "Infrastruktur"},
    {"id": 11, "parent": 1, "topic_name": "Jalan dan Jembatan"},
    {"id": 2, "parent": 0, "topic_name": "Kesehatan"},
    {"id": 3, "parent": 0, "topic_name": "Pendidikan dan Kebudayaan"},
    {"id": 4, "parent": 0, "topic_name": "Kependudukan"},
    {"id": 5, "parent": 0, "topic_name": "Sosial dan Kesejahteraan"},
    {"id": 51, "parent": 5, "topic_name": "Bantuan Sosial"},
    {"id": 6, "parent": 0, "topic_name": "Lingkungan Hidup dan Penanggulangan Bencana"},
    {"id": 7, "parent": 0, "topic_name": "Energi dan Sumber Daya Mineral"},
    {"id": 8, "parent": 0, "topic_name": "Topik Lainnya"},
]


@dataclass(frozen=True)
class TopicsRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class TopicsStandIn:
    def __init__(self, keytoken: str, topics: list[dict[str, Any]] | None = None) -> None:
        self.keytoken = keytoken
        self.topics = list(SAMPLE_TOPICS if topics is None else topics)
        self.mode = "up"
        self.requests: list[TopicsRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/gettopics"

    def __enter__(self) -> TopicsStandIn:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_a: Any) -> None:
                pass

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(size) if size else b""
                owner.requests.append(
                    TopicsRequest("POST", self.path, dict(self.headers.items()), data)
                )
                if self.headers.get("KEYTOKEN") != owner.keytoken:
                    return self._send(401, {"message": "invalid KEYTOKEN"})
                if owner.mode == "fail":
                    return self._send(503, {"message": "maintenance"})
                if owner.mode == "garbage":
                    return self._send(200, {"status": "ok", "data": "not a list"})
                return self._send(200, owner.topics)

            def _send(self, status: int, payload: Any) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
