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
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from sms1708 import __version__
from sms1708.config import Config, UpstreamConfig
from sms1708.core.policy import Outcome, classify_status
from sms1708.errors import (
    UpstreamAmbiguous,
    UpstreamRejected,
    UpstreamRetryable,
    UpstreamUnreachable,
    redact_texts,
)

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
        "partial": bool(record.get("partial", 0)),
        "channel": "sms",
        "local_reference": str(record["id"]),
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
    def __init__(
        self,
        cfg: UpstreamConfig,
        *,
        mapper: Callable[[dict[str, Any], str], dict[str, Any]] = body,
        token: str = "",
        secret: str = "",
        transport: httpx.BaseTransport | None = None,
        immediate_retries: int = 3,
    ) -> None:
        self.cfg = cfg
        self.mapper = mapper
        self.token = token
        self.secret = secret
        self.immediate_retries = immediate_retries
        self.client = httpx.Client(
            timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
            verify=cfg.verify_tls,
            transport=transport,
            headers={"User-Agent": f"sms1708/{__version__}"},
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
                    headers[SIGNATURE_HEADER] = sign(self.secret, int(time.time()), content)
                return self._post(content, headers, record)
        raise AssertionError("unreachable")  # pragma: no cover

    def fetch_status(self, tracking_id: str, key: str) -> str | None:
        """Ask ``upstream.status_url`` what became of a complaint: the ``status`` (or ``state``)
        string of its JSON answer. Raises the same upstream errors as :meth:`send`."""
        url = self.cfg.status_url.format(tracking_id=tracking_id, key=key)
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            resp = self.client.get(url, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            raise UpstreamUnreachable(f"never reached {url}: {e!r}") from e
        except httpx.HTTPError as e:
            raise UpstreamAmbiguous(f"no answer from {url}: {e!r}") from e
        if resp.status_code == 404:
            return None
        if not 200 <= resp.status_code < 300:
            raise UpstreamRetryable(f"HTTP {resp.status_code}", resp.status_code)
        try:
            data = resp.json()
        except ValueError:
            return None
        scope = data.get("data", data) if isinstance(data, dict) else None
        if isinstance(scope, dict):
            for k in ("status", "state", "status_name"):
                v = scope.get(k)
                if isinstance(v, str) and v.strip():
                    return " ".join(v.split())
        return None

    def _post(
        self, content: bytes, headers: dict[str, str], record: dict[str, Any] | None = None
    ) -> Delivered:
        try:
            resp = self.client.post(self.cfg.url, content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            raise UpstreamUnreachable(f"never reached {self.cfg.url}: {e!r}") from e
        except (
            httpx.TimeoutException,
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.WriteError,
        ) as e:
            raise UpstreamAmbiguous(f"sent, no answer from {self.cfg.url}: {e!r}") from e
        except httpx.HTTPError as e:
            raise UpstreamUnreachable(f"request to {self.cfg.url} failed: {e!r}") from e
        outcome = classify_status(resp.status_code)
        answer = resp.text if resp.content else ""
        if record is not None:  # an upstream that quotes the report back: not into our logs
            answer = redact_texts(answer, [record.get("text"), record.get("raw_text")])
        snippet = answer[:300].replace("\n", " ")
        if outcome is Outcome.DELIVERED:
            return Delivered(resp.status_code, _tracking_id(resp))
        if outcome is Outcome.REJECTED:
            raise UpstreamRejected(f"HTTP {resp.status_code}: {snippet}", resp.status_code)
        raise UpstreamRetryable(
            f"HTTP {resp.status_code}: {snippet}",
            resp.status_code,
            retry_after_seconds(resp.headers.get("Retry-After"), time.time()),
        )


def _tracking_id(resp: httpx.Response) -> str | None:
    try:
        data = resp.json()
    except ValueError:
        return None
    for scope in (data, data.get("data") if isinstance(data, dict) else None):
        if not isinstance(scope, dict):
            continue
        for k in ("tracking_id", "trackingId", "tracking", "no_tracking"):
            v = scope.get(k)
            if isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip():
                return str(v).strip().lstrip("#")
    return None


def make_client(cfg: Config) -> WebhookClient:
    """The client for the configured profile (generic webhook or SP4N-LAPOR!)."""
    mapper: Callable[[dict[str, Any], str], dict[str, Any]] = body
    if cfg.upstream.profile == "lapor":
        from sms1708.upstream import lapor

        def mapper(record: dict[str, Any], key: str) -> dict[str, Any]:
            return lapor.body(record, key, cfg.lapor)

    return WebhookClient(
        cfg.upstream,
        mapper=mapper,
        token=cfg.upstream.token(),
        secret=cfg.upstream.signing_secret(),
    )
