"""The upstream HTTP client, and the generic JSON webhook: the documented wire format.

``POST <url>`` with a JSON body (see :func:`body`), headers ``Idempotency-Key`` (same value as
the body's ``id``), ``Authorization: Bearer <token>`` when a token is set, and
``X-Sms1708-Signature: t=<unix>,v1=<hex hmac-sha256 of "<t>.<body>">`` when a signing secret is
set. Errors come out as the :mod:`sms1708.errors` upstream tree, which says what happened:

- never reached the server -> UpstreamUnreachable (retried a few times at once, with tenacity);
- sent, no answer -> UpstreamAmbiguous; 408/425/429/5xx -> UpstreamRetryable (with Retry-After);
- other 4xx -> UpstreamRejected.

The HTTP transport is pluggable (httpx), like httpx itself; so is the body mapping
(``mapper``): :func:`body` is the generic format, ``sms1708.upstream.lapor`` the SP4N-LAPOR!
profile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from sms1708 import __version__
from sms1708.config import Config, UpstreamConfig
from sms1708.core.ack import Answer, clean_text, clean_tracking_id, judge
from sms1708.core.policy import Outcome
from sms1708.errors import (
    UnusableTrackingId,
    UpstreamAmbiguous,
    UpstreamNotAcknowledged,
    UpstreamRejected,
    UpstreamRetryable,
    UpstreamUnreachable,
    redact_texts,
)
from sms1708.upstream.transport import DeadlineTransport

SIGNATURE_HEADER = "X-Sms1708-Signature"


@dataclass(frozen=True)
class Delivered:
    status: int
    tracking_id: str | None


def body(record: dict[str, Any], key: str) -> dict[str, Any]:
    """The JSON body for one complaint (generic wire format)."""
    return {
        "id": key,
        "kind": record["kind"],
        "text": record["text"],
        "raw_text": record.get("raw_text"),
        "sender": record["sender"],
        "received_at": record["received_at"],
        "anonymous": bool(record["anonymous"]),
        "confidential": bool(record["confidential"]),
        "category": record.get("category"),
        "location": record.get("location"),
        "location_code": record.get("location_code"),
        "partial": bool(record.get("partial", 0)),
        "channel": "sms",
        "local_reference": str(record["id"]),
        # a follow-up SMS: the id (idempotency key) of the report it adds to; null for a report
        "update_of": record.get("update_of_key"),
    }


def sign(secret: str, timestamp: int, content: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + content, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def retry_after_seconds(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return None


class WebhookClient:
    """Posts complaints and asks for statuses; says what happened through the error tree.

    Each request has one deadline (``upstream.timeout``, connect to last byte: see
    :mod:`sms1708.upstream.transport`); answers are read up to ``upstream.max_response_bytes``;
    redirects are never followed; what counts as delivered is decided by
    :func:`sms1708.core.ack.judge`.
    """

    def __init__(
        self,
        cfg: UpstreamConfig,
        *,
        mapper: Callable[[dict[str, Any], str], dict[str, Any]] = body,
        token: str = "",
        secret: str = "",
        transport: httpx.BaseTransport | None = None,
        immediate_retries: int = 3,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.mapper = mapper
        self.token = token
        self.secret = secret
        self.immediate_retries = immediate_retries
        self.wall_clock = wall_clock
        self.max_body = cfg.max_response_bytes
        self.client = httpx.Client(
            timeout=httpx.Timeout(cfg.timeout, connect=min(cfg.connect_timeout, cfg.timeout)),
            transport=transport or DeadlineTransport(cfg.timeout, verify=cfg.verify_tls),
            headers={"User-Agent": f"sms1708/{__version__}"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def send(self, record: dict[str, Any], key: str) -> Delivered:
        content = json.dumps(self.mapper(record, key), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in Retrying(
            stop=stop_after_attempt(self.immediate_retries),
            wait=wait_exponential(multiplier=0.5, max=4),
            retry=retry_if_exception_type(UpstreamUnreachable),
            reraise=True,
        ):
            with attempt:
                if self.secret:
                    stamp = int(self.wall_clock())
                    headers[SIGNATURE_HEADER] = sign(self.secret, stamp, content)
                return self._post(content, headers, record)
        raise AssertionError("unreachable")  # pragma: no cover

    def fetch_status(self, tracking_id: str, key: str) -> str | None:
        """Ask ``upstream.status_url`` what became of a complaint: the ``status`` (or ``state``)
        string of its JSON answer, cleaned. Raises the same upstream errors as :meth:`send`.

        A tracking id that is not fit for a URL (see :func:`sms1708.core.ack.clean_tracking_id`)
        is never put in one: :class:`UnusableTrackingId` (about this complaint, not the link).
        """
        safe = clean_tracking_id(tracking_id)
        if safe is None:
            # about this complaint alone (the poller counts it against it), never put in a URL
            raise UnusableTrackingId("the tracking id is not fit for a URL")
        url = self.cfg.status_url.format(tracking_id=quote(safe, safe=""), key=quote(key, safe=""))
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        answer, _ = self._request("GET", url, headers=headers)
        if answer.status == 404:
            return None
        if not 200 <= answer.status < 300:
            raise UpstreamRetryable(f"HTTP {answer.status}", answer.status)
        if answer.truncated:
            return None
        try:
            data = json.loads(answer.body)
        except (ValueError, UnicodeDecodeError):
            return None
        scope = data.get("data", data) if isinstance(data, dict) else None
        if isinstance(scope, dict):
            for k in ("status", "state", "status_name"):
                v = scope.get(k)
                if isinstance(v, str) and v.strip():
                    return clean_text(v, 60) or None
        return None

    def _request(
        self, method: str, url: str, *, headers: dict[str, str], content: bytes | None = None
    ) -> tuple[Answer, str | None]:
        """One request, its answer read up to the limit, and its ``Retry-After``.

        Raises :class:`UpstreamUnreachable` (never reached the server) or
        :class:`UpstreamAmbiguous` (sent; no complete answer within the deadline).
        """
        where = _where(url)
        try:
            with self.client.stream(method, url, content=content, headers=headers) as resp:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                for chunk in resp.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_body:
                        truncated = True
                        break
                answer = Answer(
                    resp.status_code,
                    resp.headers.get("Content-Type", ""),
                    b"".join(chunks)[: self.max_body],
                    truncated,
                    resp.headers.get("Location", ""),
                )
                return answer, resp.headers.get("Retry-After")
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            raise UpstreamUnreachable(f"never reached {where}: {type(e).__name__}") from e
        except (
            httpx.TimeoutException,
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.WriteError,
        ) as e:
            raise UpstreamAmbiguous(
                f"sent, no complete answer from {where} within {self.cfg.timeout:g} s"
                f" ({type(e).__name__})"
            ) from e
        except httpx.HTTPError as e:
            raise UpstreamUnreachable(f"request to {where} failed: {type(e).__name__}") from e

    def _post(
        self, content: bytes, headers: dict[str, str], record: dict[str, Any] | None = None
    ) -> Delivered:
        answer, retry_after = self._request("POST", self.cfg.url, headers=headers, content=content)
        if record is not None and not 200 <= answer.status < 300:
            # an upstream that quotes the report back: the citizen's text never reaches our logs
            quoted = answer.body.decode("utf-8", "replace")
            texts = [record.get("text"), record.get("raw_text")]
            answer = replace(answer, body=redact_texts(quoted, texts).encode("utf-8"))
        verdict = judge(answer, required_field=self.cfg.ack_field)
        if verdict.outcome is Outcome.DELIVERED:
            return Delivered(answer.status, verdict.tracking_id)
        if verdict.outcome is Outcome.REJECTED:
            raise UpstreamRejected(verdict.detail, answer.status)
        if verdict.not_acknowledged:
            raise UpstreamNotAcknowledged(verdict.detail, answer.status)
        raise UpstreamRetryable(
            verdict.detail,
            answer.status,
            retry_after_seconds(retry_after, self.wall_clock()),
        )


def _where(url: str) -> str:
    """The URL without its query (which may carry a key), fit for an error text."""
    return clean_text(url.split("?", 1)[0], 120)


def make_client(cfg: Config, wall_clock: Callable[[], float] = time.time) -> WebhookClient:
    """The client for the configured profile (generic webhook or SP4N-LAPOR!); ``wall_clock``
    gives the signature's timestamp (the daemon's trusted clock)."""
    mapper: Callable[[dict[str, Any], str], dict[str, Any]] = body
    if cfg.upstream.profile == "lapor":
        from sms1708.upstream import lapor
        from sms1708.upstream.lapor_topics import TopicIds

        topic_ids = TopicIds(cfg)

        def mapper(record: dict[str, Any], key: str) -> dict[str, Any]:
            return lapor.body(record, key, cfg.lapor, topic_ids(record.get("category")))

    return WebhookClient(
        cfg.upstream,
        mapper=mapper,
        token=cfg.upstream.token(),
        secret=cfg.upstream.signing_secret(),
        wall_clock=wall_clock,
    )
