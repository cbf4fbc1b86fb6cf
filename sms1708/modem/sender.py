"""Sending replies: one sender per modem, from the reply queue, never from the receive path.

A temporary failure (network busy, no signal) is retried later with backoff; a permanent one
(the network refuses the number) goes to ``dead`` at once, so one bad number never blocks the
replies queued behind it.

An attempt whose outcome is unknown counts as an attempt (``replies.max_attempts`` caps it):
AT+CMGS without a final answer, or the link lost once the SMS was handed to the modem (a stick
that resets on the transmit burst would otherwise resend the same SMS on every reconnect).
Such attempts are counted in ``replies.unconfirmed``; only a link lost *before* anything was
handed over gives the reply back without counting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sms1708.core.pdu import encode_submit
from sms1708.core.policy import Decision, Outcome, RetryPolicy, decide
from sms1708.errors import (
    CommandFailed,
    ModemError,
    ModemGone,
    ModemGoneAfterSend,
    ModemTimeout,
    PduEncodeError,
    safe_error,
)
from sms1708.logsetup import get_logger
from sms1708.modem.at import ATSession
from sms1708.store.store import ReplyItem, Store

log = get_logger("sms1708.send")

#: +CMS ERROR codes that will not get better by retrying (3GPP TS 27.005 / 24.011)
PERMANENT_CMS = frozenset({1, 8, 10, 21, 27, 28, 29, 30, 50, 96, 304, 305, 306, 325})
_CMGS = re.compile(r"^\+CMGS:\s*(\d+)")


def classify_send_error(code: int | None) -> Outcome:
    return Outcome.REJECTED if code in PERMANENT_CMS else Outcome.RETRYABLE


def send_text(
    session: ATSession,
    number: str,
    text: str,
    *,
    reference: int,
    timeout: float,
    status_report: bool = False,
) -> int | None:
    """Send one text (one or more parts) with AT+CMGS in PDU mode. Returns the last TP-MR.

    A link lost after one part went out raises ModemGoneAfterSend (the text is partly out).
    """
    mr: int | None = None
    for n, part in enumerate(
        encode_submit(
            number, text, reference=reference, concat_ref=reference, status_report=status_report
        )
    ):
        try:
            lines = session.command(f"AT+CMGS={part.tpdu_length}", data=part.hex, timeout=timeout)
        except ModemGone as e:
            if n == 0 or isinstance(e, ModemGoneAfterSend):
                raise
            raise ModemGoneAfterSend(f"link lost after part {n} of a long SMS: {e}") from e
        for line in lines:
            m = _CMGS.match(line)
            if m:
                mr = int(m.group(1))
    return mr


def send_due(
    session: ATSession,
    store: Store,
    *,
    modem: str,
    now: Callable[[], float],
    rand: Callable[[], float],
    policy: RetryPolicy,
    timeout: float,
    status_report: bool = False,
    limit: int = 5,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Send up to ``limit`` due replies. Returns how many were handled."""
    items = store.replies.claim(modem, now=now(), lease=timeout * 3, limit=limit)
    for n, item in enumerate(items):
        if should_stop():
            _give_back(store, items[n:], now())
            break
        _send_one(
            session,
            store,
            item,
            now=now,
            rand=rand,
            policy=policy,
            timeout=timeout,
            status_report=status_report,
        )
    return len(items)


def _send_one(
    session: ATSession,
    store: Store,
    item: ReplyItem,
    *,
    now: Callable[[], float],
    rand: Callable[[], float],
    policy: RetryPolicy,
    timeout: float,
    status_report: bool = False,
) -> None:
    def record(
        outcome: Outcome, detail: str = "", mr: int | None = None, *, unconfirmed: bool = False
    ) -> Decision:
        d = decide(
            outcome,
            attempts=item.attempts + 1,
            first_queued_at=item.created_at,
            now=now(),
            rand=rand(),
            policy=policy,
            detail=detail,
        )
        store.replies.done(item.id, d, now=now(), mr=mr, detail=detail, unconfirmed=unconfirmed)
        return d

    try:
        mr = send_text(
            session,
            item.recipient,
            item.text,
            reference=item.id & 0xFF,
            timeout=timeout,
            status_report=status_report,
        )
    except PduEncodeError as e:
        record(Outcome.REJECTED, str(e))
        log.warning("reply_dead", reply_id=item.id, recipient=item.recipient, reason=str(e))
        return
    except CommandFailed as e:
        d = record(classify_send_error(e.code), e.reply)
        log.warning(
            "reply_failed",
            reply_id=item.id,
            recipient=item.recipient,
            reply=e.reply,
            state=d.state.value,
        )
        return
    except ModemTimeout as e:
        # the SMS may have gone out (the modem sent it, its answer came too late): an attempt,
        # with backoff and the attempt limit, so a slow network never resends it without end
        d = record(Outcome.RETRYABLE, f"unconfirmed: no answer to AT+CMGS: {e}", unconfirmed=True)
        log.warning(
            "reply_unconfirmed", reply_id=item.id, recipient=item.recipient, state=d.state.value
        )
        raise
    except ModemGoneAfterSend as e:
        # the modem took the SMS and then dropped off (a stick that resets on the transmit
        # burst): it may have gone out. An attempt, capped, never an endless resend.
        d = record(Outcome.RETRYABLE, f"unconfirmed: {e}", unconfirmed=True)
        log.warning(
            "reply_unconfirmed",
            reply_id=item.id,
            recipient=item.recipient,
            state=d.state.value,
            reason="link lost after the SMS was handed to the modem",
            attempts=item.attempts + 1,
        )
        raise
    except (ModemError, OSError):
        # link trouble before anything was sent: give the reply back for after the reconnect
        _give_back(store, [item], now())
        raise
    except Exception as e:
        # something about this one reply (a bug, a text the encoder chokes on): an attempt
        # against it, with backoff and the attempt limit; the replies behind it go on
        error = safe_error("sending the reply", e)
        d = record(Outcome.RETRYABLE, error)
        log.error("reply_item_failed", reply_id=item.id, error=error, state=d.state.value)
        return
    except BaseException:
        _give_back(store, [item], now())
        raise
    record(Outcome.DELIVERED, mr=mr)
    log.info("reply_sent", reply_id=item.id, recipient=item.recipient, mr=mr)


def _give_back(store: Store, items: list[ReplyItem], now: float) -> None:
    store.replies.release([it.id for it in items], now=now)
