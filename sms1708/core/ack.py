"""What an upstream's answer means (promise P14: only an acknowledgement is a delivery). Pure.

A prepaid data link that ran out of quota, an ISP block page or a hotel-style captive portal
answers ``200`` with an HTML page to *every* request. Counting that as delivered loses the
complaint silently. So the rule is:

- a ``2xx`` whose body is a JSON **object** (within the size limit, and with the destination's
  required field when one is configured) is a delivery; a ``tracking_id`` in it is kept if it is
  a plausible tracking id (:func:`clean_tracking_id`);
- any other ``2xx`` (HTML, empty, not JSON, a JSON list or string, too big, required field
  missing) is **not** a delivery: retried with the same key, and an alarm names the status, the
  content type and the size - never the body;
- ``3xx`` is not followed (a redirect is what a captive portal does): retried, with an alarm;
- ``408``/``425``/``429``/``5xx``: retried; other ``4xx``: rejected (``dead``, replayable).

Everything an upstream says is untrusted text: :func:`clean_text` makes it safe to log, store
and print (control characters out, numbers masked, bounded length).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sms1708.core.mask import mask_text
from sms1708.core.policy import Outcome, classify_status

#: default limit on how much of an answer is read (beyond it: not an acknowledgement)
MAX_BODY = 1 << 20
#: where a tracking id may be found in an acknowledgement, in this order
TRACKING_KEYS = ("tracking_id", "trackingId", "tracking", "no_tracking")
#: a tracking id goes into an SMS and into a URL path: letters, digits, ".", "_" and "-"
_TRACKING = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]+")


@dataclass(frozen=True)
class Answer:
    """What the HTTP layer saw (the body read up to the limit; ``truncated`` if there was more)."""

    status: int
    content_type: str = ""
    body: bytes = b""
    truncated: bool = False
    location: str = ""  # a redirect's Location header


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    tracking_id: str | None = None
    #: safe to log and store: never the body of a 2xx, cleaned and bounded otherwise
    detail: str = ""
    #: an answer that looks like the link is not really the upstream's (portal, quota, redirect)
    not_acknowledged: bool = False


def clean_text(text: str, limit: int = 200) -> str:
    """Untrusted text made safe for a log line, the database, ``status`` and a terminal."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    flat = mask_text(flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def clean_tracking_id(value: Any) -> str | None:
    """A tracking id fit to be stored, texted and put in a URL, or None.

    Accepts strings and integers (LAPOR! shows ``#1916449``; the ``#`` is dropped); refuses
    booleans, control characters, spaces, anything over 32 characters.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    s = str(value).strip().lstrip("#")
    return s if _TRACKING.fullmatch(s) else None


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def describe_body(answer: Answer) -> str:
    """``HTTP 200, text/html, 5120 bytes`` - what an alarm may say about an answer."""
    media = clean_text(_media(answer.content_type), 60) or "no content type"
    size = f"more than {len(answer.body)}" if answer.truncated else str(len(answer.body))
    return f"HTTP {answer.status}, {media}, {size} bytes"


def _find_tracking(data: dict[str, Any]) -> str | None:
    for scope in (data, data.get("data")):
        if not isinstance(scope, dict):
            continue
        for k in TRACKING_KEYS:
            if k in scope and scope[k] is not None and str(scope[k]).strip():
                return clean_tracking_id(scope[k])
    return None


def judge(answer: Answer, *, required_field: str = "") -> Verdict:
    """Classify one answer to a POST of a complaint."""
    outcome = classify_status(answer.status)
    if 300 <= answer.status < 400:
        where = clean_text(answer.location, 120) or "no Location"
        return Verdict(
            Outcome.RETRYABLE,
            detail=f"HTTP {answer.status} redirect to {where}, not followed"
            " (captive portal or a changed URL?)",
            not_acknowledged=True,
        )
    if outcome is not Outcome.DELIVERED:
        text = clean_text(answer.body[:600].decode("utf-8", "replace"))
        return Verdict(outcome, detail=f"HTTP {answer.status}: {text}".rstrip(": "))
    why = ""
    data: Any = None
    if answer.truncated:
        why = "answer larger than the limit"
    elif not answer.body.strip():
        why = "empty answer"
    else:
        try:
            data = json.loads(answer.body)
        except (ValueError, UnicodeDecodeError):
            why = "not JSON"
        else:
            if not isinstance(data, dict):
                why = f"JSON {type(data).__name__}, not an object"
            elif required_field and data.get(required_field) in (None, ""):
                scope = data.get("data")
                if not (isinstance(scope, dict) and scope.get(required_field) not in (None, "")):
                    why = f"no {clean_text(required_field, 40)!r} field"
    if why:
        return Verdict(
            Outcome.RETRYABLE,
            detail=f"not an acknowledgement ({why}): {describe_body(answer)}"
            " - captive portal or data quota page?",
            not_acknowledged=True,
        )
    assert isinstance(data, dict)
    return Verdict(Outcome.DELIVERED, tracking_id=_find_tracking(data))
