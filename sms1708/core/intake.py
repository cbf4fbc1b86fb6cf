"""Intake: what happens to one received message. Pure.

Given the assembled text of an SMS, decide the complaint record (grammar), whether it goes
upstream, and which reply (if any) the citizen gets. The store runs this inside the same
transaction that creates the message (the grammar may have read the text before, outside
it: :func:`plan` takes that reading), so a message, its upstream queue entry and its reply
are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sms1708.core import followup, gate, replies
from sms1708.core.gate import Outgoing
from sms1708.core.grammar import FORWARDED_KINDS, GrammarTables, Record, parse
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
    update_of: int | None = None  # a follow-up: the report it adds to (core.followup)


@dataclass(frozen=True)
class IntakeRules:
    guard: replies.Guard = field(default_factory=replies.Guard)
    language: str = "id"
    replies_enabled: bool = True
    keywords: GrammarTables = field(default_factory=GrammarTables)
    max_text_chars: int = 40 * 153  # multipart.max_parts parts of GSM-7
    followup_window: float = followup.DEFAULT_WINDOW  # seconds; 0: no joining by time
    #: seconds the receipt of a forwarded complaint waits for the upstream's tracking id
    #: (then one SMS carries both); 0: the receipt is due at once
    receipt_wait: float = 0.0
    #: which destinations each forwarded complaint goes to (``[[upstream.destination]]``)
    routing: Routing = field(default_factory=Routing)


#: (reference, sender) -> local state of that report if it belongs to that sender, else None
Lookup = Callable[[str, str], str | None]
#: (report number the SMS names or None, sender) -> (that report, the sender's last report)
Reports = Callable[[str | None, str], tuple[followup.Report | None, followup.Report | None]]


def plan(
    message_id: int,
    msg: NewMessage,
    rules: IntakeRules,
    lookup: Lookup,
    reports: Reports | None = None,
    *,
    record: Record | None = None,
) -> Plan:
    """The record, whether it goes upstream, and the reply it asks for. Whether that reply may
    be sent is for :func:`sms1708.core.gate.decide` (see :func:`reply`). ``record``: the
    grammar's reading of ``msg.text``, when it was read already (outside the transaction).

    With ``reports``, an SMS that adds to an earlier report (:mod:`sms1708.core.followup`) is
    planned as a follow-up of it: forwarded as an update, answered with a short receipt."""
    if record is None:
        record = parse(msg.text, rules.keywords)
    joined = attach(msg, record, rules, reports) if reports is not None else None
    ref, lang = str(message_id), rules.language
    if joined is not None:
        a = gate.answer(joined.record.kind, ref=ref, language=lang, update_of=joined.report_id)
        return Plan(joined.record, True, a.text, a.purpose, joined.report_id)
    # an alphanumeric sender is a company (operator promos, banks), never a citizen on a
    # feature phone: recorded and visible to operators, not forwarded
    forward = record.kind in FORWARDED_KINDS and msg.sender_type != "alphanumeric"
    asked = (record.reference or "") if record.kind == "status" else None
    a = gate.answer(
        record.kind,
        ref=ref,
        language=lang,
        short=record.hint == "short",
        asked=asked,
        asked_state=lookup(asked, msg.sender) if asked else None,
    )
    return Plan(record, forward, a.text, a.purpose)


def attach(
    msg: NewMessage, record: Record, rules: IntakeRules, reports: Reports
) -> followup.Attach | None:
    """Is this SMS a follow-up of one of the sender's reports? (See :mod:`core.followup`.)"""
    t = rules.keywords
    ref = followup.reference(msg.text, t.followup_words)
    rest = parse(ref.text, t) if ref is not None else None
    named, last = reports(ref.number if ref is not None else None, msg.sender)
    return followup.decide(
        record,
        ref,
        rest,
        named,
        last,
        now=followup.seconds(msg.received_at),
        window=rules.followup_window,
        sender_type=msg.sender_type,
        keyword_first=followup.opens_with_keyword(ref.text if ref else msg.text, t),
    )


def reply_due(plan: Plan, rules: IntakeRules, now: float) -> float:
    """When the reply is due: a plain receipt of a forwarded complaint waits up to
    ``receipt_wait`` for the tracking id (the upstream side folds it in and makes it due at
    once); every other reply is due now."""
    waits = plan.forward and plan.reply_purpose == "receipt" and plan.record.hint != "short"
    return now + rules.receipt_wait if waits else now


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
