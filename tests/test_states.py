"""The one state machine: allowed moves, forbidden moves, reachability, random walks."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.states import (
    CLAIMABLE,
    PENDING,
    REPLAYABLE,
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    State,
    can,
    transition,
)
from sms1708.errors import Sms1708Error

S = State

ALLOWED = [
    (S.RECEIVED, S.PARSED),
    (S.RECEIVED, S.SUPPRESSED),
    (S.PARSED, S.QUEUED),
    (S.PARSED, S.SUPPRESSED),
    (S.QUEUED, S.SENDING),
    (S.QUEUED, S.DEAD),
    (S.SENDING, S.DELIVERED),
    (S.SENDING, S.RETRY),
    (S.SENDING, S.AMBIGUOUS),
    (S.SENDING, S.DEAD),
    (S.SENDING, S.SENDING),  # a lease ran out: claimed again, same key
    (S.RETRY, S.SENDING),
    (S.RETRY, S.QUEUED),
    (S.RETRY, S.DEAD),
    (S.AMBIGUOUS, S.SENDING),
    (S.AMBIGUOUS, S.QUEUED),
    (S.AMBIGUOUS, S.DEAD),
    (S.DEAD, S.QUEUED),  # operator replay
]

FORBIDDEN = [
    (S.DELIVERED, S.QUEUED),  # no second delivery of a delivered complaint
    (S.DELIVERED, S.SENDING),
    (S.DELIVERED, S.DEAD),
    (S.SUPPRESSED, S.QUEUED),  # a refused reply never goes out later
    (S.SUPPRESSED, S.SENDING),
    (S.QUEUED, S.DELIVERED),  # nothing is delivered without being sent
    (S.RETRY, S.DELIVERED),
    (S.AMBIGUOUS, S.DELIVERED),
    (S.RECEIVED, S.QUEUED),
    (S.RECEIVED, S.SENDING),
    (S.PARSED, S.SENDING),
    (S.DEAD, S.SENDING),  # a dead item is replayed through queued, never sent directly
    (S.DEAD, S.DELIVERED),
    (S.QUEUED, S.RECEIVED),
    (S.SENDING, S.QUEUED),
    (S.SENDING, S.SUPPRESSED),
    (S.QUEUED, S.QUEUED),
]


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_moves(current: State, target: State) -> None:
    assert can(current, target)
    assert transition(current, target) is target
    assert transition(current.value, target.value) is target  # plain strings from the database


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_moves_raise(current: State, target: State) -> None:
    assert not can(current, target)
    with pytest.raises(InvalidTransition) as info:
        transition(current, target)
    assert current.value in str(info.value) and target.value in str(info.value)
    with pytest.raises(InvalidTransition):
        transition(current.value, target.value)


def test_the_table_is_exactly_the_allowed_list() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == set(ALLOWED)


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(State)


def test_invalid_transition_is_an_sms1708_error() -> None:
    assert issubclass(InvalidTransition, Sms1708Error)


def test_unknown_state_names_are_refused() -> None:
    with pytest.raises(ValueError):
        transition("received", "lost")
    with pytest.raises(ValueError):
        transition("deleted", "queued")


def _reachable(start: State) -> set[State]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in TRANSITIONS[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_from_received_or_queued() -> None:
    assert _reachable(S.RECEIVED) | _reachable(S.QUEUED) == set(State)
    assert _reachable(S.RECEIVED) == set(State)


def test_delivered_is_reachable_from_every_pending_state() -> None:
    for state in PENDING | REPLAYABLE:
        assert S.DELIVERED in _reachable(state), state


@pytest.mark.parametrize("state", [S.DELIVERED, S.SUPPRESSED])
def test_delivered_and_suppressed_are_terminal(state: State) -> None:
    assert state in TERMINAL
    assert TRANSITIONS[state] == frozenset()
    for target in State:
        assert not can(state, target)


def test_terminal_is_exactly_the_states_without_exits() -> None:
    assert {s for s, targets in TRANSITIONS.items() if not targets} == set(TERMINAL)


@pytest.mark.parametrize("state", sorted(REPLAYABLE))
def test_replayable_states_can_go_back_to_queued(state: State) -> None:
    assert transition(state, S.QUEUED) is S.QUEUED


def test_replay_sets() -> None:
    assert {S.DEAD, S.AMBIGUOUS, S.RETRY} <= REPLAYABLE
    assert not REPLAYABLE & TERMINAL


@pytest.mark.parametrize("state", sorted(CLAIMABLE))
def test_claimable_states_can_be_sent(state: State) -> None:
    assert can(state, S.SENDING)


def test_nothing_pending_is_terminal_and_dead_is_not_pending() -> None:
    assert not PENDING & TERMINAL
    assert S.DEAD not in PENDING
    assert CLAIMABLE <= PENDING


@settings(max_examples=300)
@given(st.sampled_from(list(State)), st.lists(st.sampled_from(list(State)), max_size=60))
def test_random_walks_never_leave_the_table(start: State, targets: list[State]) -> None:
    current = start
    for target in targets:
        allowed = target in TRANSITIONS[current]
        if allowed:
            current = transition(current, target)
            assert current is target
        else:
            with pytest.raises(InvalidTransition):
                transition(current, target)
        assert current in TRANSITIONS
    if start in TERMINAL:
        assert current is start
