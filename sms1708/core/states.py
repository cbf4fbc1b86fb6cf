"""The state machines of sms1708's two queues: the upstream queue (table ``deliveries``, one row
per complaint and destination) and the reply queue (table ``replies``, every SMS the gateway
sends). Every state the store writes is checked against these tables, in one function per
table (``sms1708/store/transitions.py``); a test fails if any other SQL writes a state.

The upstream queue (:class:`State`)::

    (new) -> queued -> sending -> delivered
               ^ ^       |  ^ '--> retry     --(due)--> sending
               | |       |  '----- ambiguous --(due)--> sending
               | |       '-------> dead
               | '-- lease given back (graceful stop) -- sending
               '---- replay ---- dead | ambiguous | retry

``sending`` carries a lease: if the process dies mid-send, the item is claimed again when the
lease runs out (sending -> sending), with the same idempotency key. A stop gives unsent claims
back (sending -> queued, or retry if it was attempted before). ``delivered`` always wins: a late
"delivered" answer is recorded whatever the item's state (an operator may have replayed it).

The reply queue (:class:`ReplyState`) is born ``queued``, or ``suppressed`` when the gate
refused it (with the reason); a reply claimed for a number blocked since it was queued is
suppressed then. Its outcome comes from the same retry policy as the upstream's: delivered is
stored as ``sent`` (:func:`reply_outcome`). Nothing is ever deleted by a transition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from sms1708.errors import Sms1708Error


class State(StrEnum):
    """A complaint's delivery to one destination (and the outcome of any attempt)."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    RETRY = "retry"
    AMBIGUOUS = "ambiguous"
    DEAD = "dead"


class ReplyState(StrEnum):
    """An SMS the gateway sends."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    SUPPRESSED = "suppressed"


class InvalidTransition(Sms1708Error):
    """A transition the state machine does not allow (a programming error, logged loudly)."""


S = TypeVar("S", State, ReplyState)


@dataclass(frozen=True)
class Machine(Generic[S]):
    """One queue's states: where a row may be born, and where each state may move."""

    table: str
    states: type[S]
    born: frozenset[S]
    moves: Mapping[S, frozenset[S]]

    def can(self, current: S | str, target: S | str) -> bool:
        return self.states(target) in self.moves[self.states(current)]

    def check(self, current: S | str, target: S | str) -> S:
        """Return ``target`` if the move is allowed, else raise :class:`InvalidTransition`."""
        if not self.can(current, target):
            raise InvalidTransition(f"{self.table}: {current} -> {target} is not allowed")
        return self.states(target)

    def check_born(self, target: S | str) -> S:
        if self.states(target) not in self.born:
            raise InvalidTransition(f"{self.table}: a new row may not be {target}")
        return self.states(target)

    def into(self, target: S | str) -> frozenset[S]:
        """The states that may move to ``target``."""
        t = self.states(target)
        return frozenset(s for s, targets in self.moves.items() if t in targets)


_Q, _S, _D, _R, _A, _X = (
    State.QUEUED,
    State.SENDING,
    State.DELIVERED,
    State.RETRY,
    State.AMBIGUOUS,
    State.DEAD,
)

TRANSITIONS: dict[State, frozenset[State]] = {
    # claimed; or a late "delivered" for an item an operator replayed
    _Q: frozenset({_S, _D}),
    # claimed again when its lease ran out; an attempt's outcome; the claim given back at stop
    _S: frozenset({_S, _D, _R, _A, _X, _Q}),
    _R: frozenset({_S, _Q, _D}),  # claimed when due; replayed; a late "delivered"
    _A: frozenset({_S, _Q, _D}),
    _X: frozenset({_Q, _D}),  # replayed by an operator; a late "delivered"
    _D: frozenset(),
}

#: the upstream queue (table ``deliveries``)
DELIVERIES: Machine[State] = Machine("deliveries", State, frozenset({_Q}), TRANSITIONS)

_RQ, _RS, _RT, _RR, _RX, _RP = (
    ReplyState.QUEUED,
    ReplyState.SENDING,
    ReplyState.SENT,
    ReplyState.RETRY,
    ReplyState.DEAD,
    ReplyState.SUPPRESSED,
)

REPLY_TRANSITIONS: dict[ReplyState, frozenset[ReplyState]] = {
    _RQ: frozenset({_RS, _RP}),  # claimed; held back (its number was blocked since)
    _RR: frozenset({_RS, _RP}),
    # claimed again after its lease ran out; held back; an attempt's outcome; given back
    _RS: frozenset({_RS, _RP, _RT, _RR, _RX, _RQ}),
    _RT: frozenset(),
    _RX: frozenset(),
    _RP: frozenset(),
}

#: the reply queue (table ``replies``): born queued, or suppressed by the gate
REPLIES: Machine[ReplyState] = Machine(
    "replies", ReplyState, frozenset({_RQ, _RP}), REPLY_TRANSITIONS
)

#: states a worker may claim when the item is due
CLAIMABLE: frozenset[State] = frozenset({State.QUEUED, State.RETRY, State.AMBIGUOUS})
#: states an operator may replay (move back to queued)
REPLAYABLE: frozenset[State] = frozenset({State.DEAD, State.AMBIGUOUS, State.RETRY})
#: states that still wait for delivery
PENDING: frozenset[State] = frozenset({State.QUEUED, State.SENDING, State.RETRY, State.AMBIGUOUS})
TERMINAL: frozenset[State] = frozenset({State.DELIVERED})
#: replies a modem may claim when due
REPLY_CLAIMABLE: frozenset[ReplyState] = frozenset({ReplyState.QUEUED, ReplyState.RETRY})

_REPLY_OUTCOME = {
    State.DELIVERED: ReplyState.SENT,
    State.RETRY: ReplyState.RETRY,
    State.DEAD: ReplyState.DEAD,
}


def reply_outcome(state: State) -> ReplyState:
    """The reply state an attempt's decision (:mod:`sms1708.core.policy`) leads to."""
    try:
        return _REPLY_OUTCOME[state]
    except KeyError:
        raise InvalidTransition(f"replies: no reply state for the outcome {state}") from None


def can(current: State | str, target: State | str) -> bool:
    return DELIVERIES.can(current, target)


def transition(current: State | str, target: State | str) -> State:
    """Return ``target`` if the move is allowed, else raise :class:`InvalidTransition`."""
    return DELIVERIES.check(current, target)
