"""The SP4N-LAPOR! profile: how a complaint record maps onto a LAPOR! submission.

LAPOR!'s current integration API is shown only to accounts with a developer role, so the exact
wire format could not be checked here. This module keeps the whole mapping in one place, so
that the district that holds the spec changes one function, not the forwarder:

=====================  =================================================================
LAPOR! field           from the complaint
=====================  =================================================================
``idempotency_key``    the stable key (also the ``Idempotency-Key`` header)
``title``              the first words of the report (max 60 characters)
``content``            the report text (keyword and flags removed)
``phone``              the sender's number: verifiers may call the reporter
``name``               empty: an SMS carries no name
``anonim``             ANONIM flag: the reporter's identity is hidden from the public
``rahasia``            RAHASIA flag: the whole report is hidden from the public
``topic_id``           the category's LAPOR! topic id: ``[lapor] topics`` in the config,
                       else the mapping table by topic name against the synced tree
                       (``sms1708/upstream/lapor_topics.py``), else ``default_topic``
                       (0 = let the verifiers choose)
``category_name``      the category as sms1708 inferred it (or null)
``location``           the place name matched in the gazetteer (or null)
``location_code``      its Kemendagri code (kode wilayah), or null
``kind``               pengaduan | aspirasi | informasi
``source``             ``[lapor] source`` (default "SMS 1708")
``received_at``        when the SMS centre received the SMS, ISO 8601 with offset
=====================  =================================================================

A follow-up SMS (an update of a report, ``update_of``): LAPOR!'s public documentation shows no
endpoint for adding to a report from an integration (citizens add comments ("tanggapan") in
the web app; the integration API is not public). Assumed here, until a district with the spec
says otherwise: the update is sent as a submission of its own (its own ``idempotency_key``)
whose ``content`` starts with ``Tambahan untuk laporan #<tracking id>:`` (the report's LAPOR!
tracking id, else its local number), with ``parent_tracking_id`` and ``parent_idempotency_key``
naming the report, so that verifiers (or a receiver that knows the fields) join them. The
forwarder sends it only after its report was delivered, so the tracking id is known when
LAPOR! gave one. Change :func:`update_fields` alone when the real mechanism is known.

The answer's tracking id is read from ``tracking_id`` / ``trackingId`` / ``no_tracking`` at the
top level or under ``data`` (LAPOR! shows tracking ids like ``#1916449``; the ``#`` is dropped).
"""

from __future__ import annotations

from typing import Any

from sms1708.config import LaporConfig


def title(text: str, limit: int = 60) -> str:
    words = text.split()
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > limit:
            break
        out = f"{out} {w}".strip()
    return out or text[:limit]


def body(
    record: dict[str, Any], key: str, cfg: LaporConfig, topic_id: int | None = None
) -> dict[str, Any]:
    """The LAPOR! submission; ``topic_id`` None: from ``[lapor] topics`` / ``default_topic``."""
    out = {
        "idempotency_key": key,
        "title": title(record["text"] or record.get("raw_text") or ""),
        "content": record["text"],
        "phone": record["sender"],
        "name": "",
        "anonim": bool(record["anonymous"]),
        "rahasia": bool(record["confidential"]),
        "topic_id": cfg.topic_for(record.get("category")) if topic_id is None else topic_id,
        "category_name": record.get("category"),
        "location": record.get("location"),
        "location_code": record.get("location_code"),
        "kind": record["kind"],
        "source": cfg.source,
        "received_at": record["received_at"],
    }
    if record.get("update_of_key"):
        out.update(update_fields(record))
    return out


def update_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What makes a submission an update of a report (assumed: see the module docstring)."""
    parent = record.get("update_of_tracking_id") or str(record.get("update_of") or "")
    lead = f"Tambahan untuk laporan #{parent}"
    return {
        "title": title(f"{lead}: {record['text']}"),
        "content": f"{lead}: {record['text']}",
        "parent_tracking_id": record.get("update_of_tracking_id"),
        "parent_idempotency_key": record["update_of_key"],
    }
