"""The one place every SMS the gateway sends is decided (promise P11): its text and recipient
(the composers below: receipts, help, answers to CEK, a follow-up's receipt, tracking ids,
status changes, an operator's SMS) and whether the guards let it go (:func:`decide`). Pure:
time is a parameter; the store queues what is decided with one call
(``store/sendgate.py``: ``queue_gated``, in the caller's transaction).

Receipts (of reports and of follow-up SMS), help texts, answers to CEK, tracking ids, status
changes and an operator's ``sms1708 send`` are all decided here, by :func:`decide`, from what
the store saw of the recent traffic (:class:`History`). The store records the outcome in one place
(``store/sendgate.py``): an allowed SMS is queued, a refused one is kept as ``suppressed`` with
the reason. Nothing the gateway sends is queued any other way.

The guards, in the order they are checked:

1. never: a name (alphanumeric sender), anything that is not a plain phone number, a short
   code, the gateway's own number, a number in ``replies.block_list``, a number blocked with
   ``sms1708 block``. No override.
2. automatic SMS only: ``replies.enabled = false``; a tracking id or status change for a report
   whose receipt was not sent (the citizen who was not answered is not texted later either).
3. counted (an operator's ``send --force`` may pass these, and the override is recorded):
   the same text again and again from the number (loop), more than ``per_sender_per_hour``
   SMS to the number in any hour, more than ``daily_budget`` SMS from the modem today.

The hourly ceiling of the gateway SIM (``replies.max_per_hour``) is not a refusal: it delays.
It is applied when an SMS is about to go out (retries spend the SIM too), by
:func:`ceiling_until`, for every SMS alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sms1708.core import replies
from sms1708.core.replies import Guard, digits_of, near_identical, same_number

HOUR = 3600.0

#: purposes of SMS the gateway sends by itself, following a report it already answered
FOLLOW_UPS = frozenset({"tracking", "status_change"})
#: the operator's own SMS (`sms1708 send`): not an automatic reply
OPERATOR = "operator"
LOOP = "loop: same text again and again"
RATE = "rate limit for this number"
BUDGET = "daily reply budget reached"
#: the guards an operator's `send --force` may pass
COUNTED_GUARDS = frozenset({LOOP, RATE, BUDGET})


@dataclass(frozen=True)
class Outgoing:
    """One SMS the gateway wants to send."""

    modem: str
    recipient: str
    text: str
    #: receipt | update_receipt (a follow-up SMS joined a report) | bantuan | status | tracking
    #: | status_change | operator
    purpose: str
    recipient_type: str = "unknown"  # the sender type of the PDU it answers, where there is one
    message_id: int | None = None
    #: the citizen's SMS this answers (receipts, help, CEK): for the loop guard
    answers_text: str | None = None


@dataclass(frozen=True)
class History:
    """What the store saw, for one decision. Times are unix seconds."""

    #: when earlier SMS to this number (any spelling) were queued, refused ones not counted;
    #: at least those of the last hour
    to_number: Sequence[float] = ()
    #: when SMS on this modem were queued since ``day_start``, refused ones not counted
    by_modem_today: Sequence[float] = ()
    day_start: float = 0.0  # the box's local midnight before now
    #: earlier SMS from this number within the last hour: (stored at, text)
    from_number: Sequence[tuple[float, str]] = ()
    blocked: bool = False  # blocked with `sms1708 block`
    #: for a follow-up: why its report's receipt was not sent (None: it was)
    receipt_refused: str | None = None


@dataclass(frozen=True)
class Verdict:
    refused: str | None  # the reason, or None: queue it
    overridden: str | None = None  # with force: the counted guard it passed

    @property
    def allowed(self) -> bool:
        return self.refused is None


def _never(out: Outgoing, guard: Guard, history: History) -> str | None:
    if out.recipient_type == "alphanumeric":
        return "alphanumeric sender"
    digits = digits_of(out.recipient)
    if not digits or any(c not in "+0123456789" for c in out.recipient):
        return "not a phone number"
    if len(digits) < guard.min_sender_digits:
        return "short code"
    if guard.own_number and same_number(out.recipient, guard.own_number):
        return "own number"
    if any(same_number(out.recipient, b) for b in guard.block_list):
        return "block list"
    if history.blocked:
        return "blocked number"
    return None


def _counted(out: Outgoing, guard: Guard, history: History, now: float) -> str | None:
    if out.answers_text is not None:
        similar = sum(
            1
            for at, text in history.from_number
            if now - HOUR <= at <= now and near_identical(text, out.answers_text)
        )
        if similar + 1 >= guard.loop_repeats:
            return LOOP
    if sum(1 for t in history.to_number if now - HOUR <= t <= now) >= guard.per_sender_per_hour:
        return RATE
    today = sum(1 for t in history.by_modem_today if history.day_start <= t <= now)
    if today >= guard.daily_budget:
        return BUDGET
    return None


def decide(
    out: Outgoing, guard: Guard, history: History, *, now: float, force: bool = False
) -> Verdict:
    """May ``out`` be queued now? ``force`` (an operator's explicit override, for
    ``purpose == "operator"`` only) passes the counted guards, never the others."""
    never = _never(out, guard, history)
    if never is not None:
        return Verdict(never)
    if out.purpose != OPERATOR:
        if not guard.enabled:
            return Verdict("replies disabled")
        if out.purpose in FOLLOW_UPS and history.receipt_refused is not None:
            return Verdict(f"no receipt was sent ({history.receipt_refused})"[:200])
    counted = _counted(out, guard, history, now)
    if counted is not None:
        if force and out.purpose == OPERATOR:
            return Verdict(None, overridden=counted)
        return Verdict(counted)
    return Verdict(None)


def ceiling_until(sent: Sequence[float], *, max_per_hour: int, now: float) -> float | None:
    """When the modem may send again, if it sent ``max_per_hour`` SMS in the last hour
    (``sent``: when its SMS went out). None: it may send now.

    Operators treat a burst of SMS from one number as spam (XL: more than 360 an hour);
    staying well below keeps the gateway's SIM alive.
    """
    recent = sorted((t for t in sent if t > now - HOUR), reverse=True)
    if len(recent) < max_per_hour:
        return None
    return recent[max_per_hour - 1] + HOUR


# ------------------------------------------------------------------------ what is sent, to whom


@dataclass(frozen=True)
class Answer:
    """The SMS that answers a received one: its text and what it is for."""

    text: str
    purpose: str


def answer(
    kind: str,
    *,
    ref: str,
    language: str,
    short: bool = False,
    asked: str | None = None,
    asked_state: str | None = None,
    update_of: int | None = None,
) -> Answer:
    """The answer to a received SMS of ``kind`` (stored as report number ``ref``): a follow-up
    of report ``update_of`` gets a short receipt naming that report; ``bantuan`` the help text;
    ``status`` (CEK ``asked``) the words for ``asked_state`` (None: no such report of the
    sender's); a ``short`` report a receipt asking for more; any other a receipt."""
    if update_of is not None:
        return Answer(
            replies.render("update_receipt", language, ref=str(update_of)), "update_receipt"
        )
    if kind == "bantuan":
        return Answer(replies.render("bantuan", language), "bantuan")
    if kind == "status":
        if asked_state is None:
            text = replies.render("status_unknown", language, ref=asked or "?")
        else:
            words = replies.describe(asked_state, language)
            text = replies.render("status", language, ref=asked or "", state=words)
        return Answer(text, "status")
    if short:  # still recorded and forwarded; the citizen is asked for more
        return Answer(replies.render("receipt_short", language, ref=ref), "receipt")
    return Answer(replies.receipt(ref, language), "receipt")


#: a tracking id longer than this is not texted (it would not fit beside the words)
TRACKING_MAX = 20


@dataclass(frozen=True)
class TrackingTexts:
    notice: str  # the SMS telling the citizen the tracking id
    receipt: str  # the receipt with the tracking id in it (replaces one still waiting)


def tracking_texts(
    tracking: str | None,
    *,
    ref: str,
    language: str,
    notify: bool,
    primary: bool,
    update: bool,
) -> TrackingTexts | None:
    """What the citizen is told when the upstream gave complaint ``ref`` a tracking id (None:
    nothing). Only the primary destination's id counts, and a follow-up's own id is neither
    texted nor folded into its receipt: the citizen knows the report's number."""
    if not (notify and primary and not update and tracking and len(tracking) <= TRACKING_MAX):
        return None
    return TrackingTexts(
        replies.render("tracking", language, ref=ref, tracking=tracking),
        replies.render("receipt_tracking", language, ref=ref, tracking=tracking),
    )


def status_change_text(
    status: str | None, *, ref: str, tracking: str, language: str, notify: bool
) -> str | None:
    """The SMS telling the citizen the upstream's new status of complaint ``ref`` (None:
    nothing to tell)."""
    if not (status and notify):
        return None
    return replies.render("status_change", language, ref=ref, tracking=tracking, state=status)


def follow_up(
    purpose: str, text: str, *, modem: str, recipient: str, recipient_type: str, message_id: int
) -> Outgoing:
    """A tracking id or status change, to the citizen who sent complaint ``message_id``."""
    return Outgoing(modem, recipient, text, purpose, recipient_type, message_id)


def operator_sms(
    modem: str, recipient: str, text: str, *, message_id: int | None = None
) -> Outgoing:
    """An operator's own SMS (``sms1708 send``, the console's reply)."""
    return Outgoing(modem, recipient, text, OPERATOR, message_id=message_id)
