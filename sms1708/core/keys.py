"""Identities: of an SMS part, of a multipart group, of a complaint (the idempotency key).

All are derived from what the network sent, never from a clock or a counter, so re-reading the
same PDU after a crash (or a modem redelivering it) lands on the same identity (promise P3), and
the upstream sees the same idempotency key on every attempt, across restarts (promise P4).
"""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = uuid.UUID("6f1c0a6e-1708-5d6b-9c1e-5e3a1f0b1708")


def part_key(tpdu_hex: str) -> str:
    """Identity of one received part: a hash of its TPDU (sender, SMSC timestamp, user data).

    The SMSC prefix is left out: the same SMS read through another modem keeps its identity.
    """
    return hashlib.sha256(tpdu_hex.strip().upper().encode("ascii", "replace")).hexdigest()[:32]


def group_key(sender: str, ref_bits: int, ref: int, total: int) -> str:
    """Identity of a multipart message while its parts are being collected."""
    return f"{sender}|{ref_bits}|{ref}|{total}"


def message_key(first_part_key: str) -> str:
    """The idempotency key of the complaint made from a message (a UUID string).

    Derived from the key of the message's first part, so it is stable across restarts and
    re-reads and is the same value in the body ``id`` and the ``Idempotency-Key`` header.
    """
    return str(uuid.uuid5(_NAMESPACE, first_part_key))


def detached_key(key: str) -> str:
    """The fresh idempotency key of a follow-up an operator made a report of its own
    (``sms1708 detach``): the upstream may have seen the old key as an update, so the report
    must not reuse it. Derived from the old key, so it is stable too."""
    return str(uuid.uuid5(_NAMESPACE, f"detached:{key}"))


def correction_key(key: str, correction: int) -> str:
    """The idempotency key of the update that carries an operator's correction of a delivered
    report upstream (one per correction, stable across retries and restarts)."""
    return str(uuid.uuid5(_NAMESPACE, f"correction:{key}:{correction}"))
