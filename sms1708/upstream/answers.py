"""What one post's answer (or its failure) means for the complaint: the exception tree of
:mod:`sms1708.errors` read as an outcome the retry policy understands. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

from sms1708.core.policy import Outcome
from sms1708.errors import (
    UpstreamAmbiguous,
    UpstreamError,
    UpstreamNotAcknowledged,
    UpstreamRejected,
    UpstreamRetryable,
    safe_error,
)

#: a complaint whose post fails with an unexpected error (not an upstream answer) this many
#: times goes to ``dead`` with the error: an operator can look and replay it
ITEM_QUARANTINE_AFTER = 10


@dataclass(frozen=True)
class Answer:
    """One post's outcome, and what it says beyond the complaint."""

    outcome: Outcome
    status: int | None = None
    tracking: str | None = None
    detail: str = ""
    #: the upstream's ``Retry-After`` (a 429/503), for the whole destination's pace
    retry_after: float | None = None
    #: a 2xx that is not an acknowledgement (captive portal, quota page, redirect): P14
    not_acknowledged: bool = False
    #: about this one complaint (a bug, a broken token), not a sign the upstream is unwell
    item_fault: bool = False


def failed(e: Exception, *, attempt: int) -> Answer:
    """The outcome of a post that raised ``e`` on the complaint's ``attempt``-th try."""
    if isinstance(e, UpstreamRejected):
        return Answer(Outcome.REJECTED, e.status, detail=str(e))
    if isinstance(e, UpstreamNotAcknowledged):
        return Answer(Outcome.RETRYABLE, e.status, detail=str(e), not_acknowledged=True)
    if isinstance(e, UpstreamRetryable):
        return Answer(Outcome.RETRYABLE, e.status, detail=str(e), retry_after=e.retry_after)
    if isinstance(e, UpstreamAmbiguous):
        return Answer(Outcome.AMBIGUOUS, detail=str(e))
    if isinstance(e, UpstreamError):
        return Answer(Outcome.UNREACHABLE, detail=str(e))
    # a bug or a broken token: recorded, retried, never silent
    detail = safe_error("posting", e)
    if attempt >= ITEM_QUARANTINE_AFTER:  # the same failure, again and again
        detail = f"{detail}; quarantined after {attempt} attempts"
        return Answer(Outcome.REJECTED, detail=detail, item_fault=True)
    return Answer(Outcome.UNREACHABLE, detail=detail, item_fault=True)
