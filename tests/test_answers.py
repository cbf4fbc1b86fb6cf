"""What a post's failure means for the complaint (sms1708/upstream/answers.py)."""

from __future__ import annotations

import pytest

from sms1708.core.policy import Outcome
from sms1708.errors import (
    UpstreamAmbiguous,
    UpstreamNotAcknowledged,
    UpstreamRejected,
    UpstreamRetryable,
    UpstreamUnreachable,
)
from sms1708.upstream.answers import ITEM_QUARANTINE_AFTER, Answer, failed


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UpstreamRejected("bad record", 422), Answer(Outcome.REJECTED, 422, detail="bad record")),
        (
            UpstreamNotAcknowledged("portal", 200),
            Answer(Outcome.RETRYABLE, 200, detail="portal", not_acknowledged=True),
        ),
        (
            UpstreamRetryable("slow down", 429, 2.5),
            Answer(Outcome.RETRYABLE, 429, detail="slow down", retry_after=2.5),
        ),
        (UpstreamAmbiguous("no answer"), Answer(Outcome.AMBIGUOUS, detail="no answer")),
        (UpstreamUnreachable("refused"), Answer(Outcome.UNREACHABLE, detail="refused")),
    ],
)
def test_each_upstream_error_is_its_outcome(error: Exception, expected: Answer) -> None:
    assert failed(error, attempt=1) == expected


def _boom(text: str) -> Exception:
    try:
        raise KeyError(text)
    except KeyError as e:
        return e


def test_an_unexpected_error_is_about_the_item_and_never_carries_its_message() -> None:
    a = failed(_boom("Jalan rusak di RT 03"), attempt=1)
    assert (a.outcome, a.item_fault) == (Outcome.UNREACHABLE, True)
    assert a.detail.startswith("posting failed: KeyError")
    assert "Jalan" not in a.detail


def test_the_same_unexpected_failure_again_and_again_quarantines_the_item() -> None:
    assert failed(_boom("x"), attempt=ITEM_QUARANTINE_AFTER - 1).outcome is Outcome.UNREACHABLE
    last = failed(_boom("x"), attempt=ITEM_QUARANTINE_AFTER)
    assert (last.outcome, last.item_fault) == (Outcome.REJECTED, True)
    assert last.detail.endswith(f"quarantined after {ITEM_QUARANTINE_AFTER} attempts")
