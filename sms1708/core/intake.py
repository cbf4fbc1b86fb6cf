"""Intake: what happens to one received message. Pure.

Given the assembled text of an SMS, decide the complaint record (grammar), whether it goes
upstream, and which reply (if any) the citizen gets. The store runs this inside the same
transaction that creates the message, so a message, its upstream queue entry and its reply
are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sms1708.core import replies
from sms1708.core.gate import Outgoing
from sms1708.core.grammar import FORWARDED_KINDS, Keywords, Record, parse
from sms1708.core.routing import Routing


@dataclass(frozen=True)
class NewMessage:
    modem: str
    sender: str
    sender_type: str
    text: str
    received_at: str
    partial: bool = False
    part_count: int = 1


@dataclass(frozen=True)
class Plan:
    record: Record
    forward: bool
    reply_text: str | None  # None: no reply
    reply_purpose: str


@dataclass(frozen=True)
class IntakeRules:
    guard: replies.Guard = field(default_factory=replies.Guard)
    language: str = "id"
    replies_enabled: bool = True
    keywords: Keywords = field(default_factory=Keywords)
    max_text_chars: int = 40 * 153  # multipart.max_parts parts of GSM-7
    #: which destinations each forwarded complaint goes to (``[[upstream.destination]]``)
    routing: Routing = field(default_factory=Routing)


#: (reference, sender) -> local state of that report if it belongs to that sender, else None
Lookup = Callable[[str, str], str | None]


def plan(
    message_id: int,
    msg: NewMessage,
    rules: IntakeRules,
    lookup: Lookup,
) -> Plan:
    """The record, whether it goes upstream, and the reply it asks for. Whether that reply may
    be sent is for :func:`sms1708.core.gate.decide` (see :func:`reply`)."""
    record = parse(msg.text, rules.keywords)
    # an alphanumeric sender is a company (operator promos, banks), never a citizen on a
    # feature phone: recorded and visible to operators, not forwarded
    forward = record.kind in FORWARDED_KINDS and msg.sender_type != "alphanumeric"
    ref = str(message_id)
    lang = rules.language
    if record.kind == "bantuan":
        text, purpose = replies.render("bantuan", lang), "bantuan"
    elif record.kind == "status":
        asked = record.reference or ""
        state = lookup(asked, msg.sender) if asked else None
        if state is None:
            text = replies.render("status_unknown", lang, ref=asked or "?")
        else:
            text = replies.render("status", lang, ref=asked, state=replies.describe(state, lang))
        purpose = "status"
    elif record.hint == "short":  # still recorded and forwarded; the citizen is asked for more
        text, purpose = replies.render("receipt_short", lang, ref=ref), "receipt"
    else:
        text, purpose = replies.receipt(ref, lang), "receipt"
    return Plan(record, forward, text, purpose)


def guard(rules: IntakeRules) -> replies.Guard:
    """The guard the replies to received SMS pass (``replies.enabled`` included)."""
    if rules.replies_enabled:
        return rules.guard
    return replace(rules.guard, enabled=False)


def reply(msg: NewMessage, message_id: int, plan: Plan) -> Outgoing | None:
    """The SMS this plan asks for, as the gate sees it."""
    if plan.reply_text is None:
        return None
    return Outgoing(
        modem=msg.modem,
        recipient=msg.sender,
        text=plan.reply_text,
        purpose=plan.reply_purpose,
        recipient_type=msg.sender_type,
        message_id=message_id,
        answers_text=msg.text,
    )
