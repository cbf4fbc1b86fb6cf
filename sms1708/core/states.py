"""The one state machine of sms1708, for the upstream queue and the reply queue alike.

::

    received -> parsed -> queued -> sending -> delivered
                            ^          |----> retry     --(due)--> sending
                            |          |----> ambiguous --(due)--> sending
                            |          '----> dead
                            '---- replay ---- dead | ambiguous

``sending`` carries a lease: if the process dies mid-send, the item becomes claimable again when
the lease runs out, with the same idempotency key. ``suppressed`` is where a reply that the cost
guards refused is recorded (terminal, with its reason). Nothing is ever deleted by a transition.
"""

from __future__ import annotations

from enum import StrEnum

from sms1708.errors import Sms1708Error


class State(StrEnum):
    RECEIVED = "received"
    PARSED = "parsed"
    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    RETRY = "retry"
    AMBIGUOUS = "ambiguous"
    DEAD = "dead"
    SUPPRESSED = "suppressed"


class InvalidTransition(Sms1708Error):
    """A transition the state machine does not allow (a programming error, logged loudly)."""


TRANSITIONS: dict[State, frozenset[State]] = {
    State.RECEIVED: frozenset({State.PARSED, State.SUPPRESSED}),
    State.PARSED: frozenset({State.QUEUED, State.SUPPRESSED}),
    State.QUEUED: frozenset({State.SENDING, State.DEAD}),
    State.SENDING: frozenset(
        {State.DELIVERED, State.RETRY, State.AMBIGUOUS, State.DEAD, State.SENDING}
    ),
    State.RETRY: frozenset({State.SENDING, State.DEAD, State.QUEUED}),
    State.AMBIGUOUS: frozenset({State.SENDING, State.DEAD, State.QUEUED}),
    State.DEAD: frozenset({State.QUEUED}),
    State.DELIVERED: frozenset(),
    State.SUPPRESSED: frozenset(),
}

#: states a worker may claim when the item is due
CLAIMABLE: frozenset[State] = frozenset({State.QUEUED, State.RETRY, State.AMBIGUOUS})
#: states an operator may replay (move back to queued)
REPLAYABLE: frozenset[State] = frozenset({State.DEAD, State.AMBIGUOUS, State.RETRY})
#: states that still wait for delivery
PENDING: frozenset[State] = frozenset({State.QUEUED, State.SENDING, State.RETRY, State.AMBIGUOUS})
TERMINAL: frozenset[State] = frozenset({State.DELIVERED, State.SUPPRESSED})


def can(current: State | str, target: State | str) -> bool:
    return State(target) in TRANSITIONS[State(current)]


def transition(current: State | str, target: State | str) -> State:
    """Return ``target`` if the move is allowed, else raise :class:`InvalidTransition`."""
    if not can(current, target):
        raise InvalidTransition(f"{current} -> {target} is not allowed")
    return State(target)
