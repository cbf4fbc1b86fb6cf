"""The only writers of a queue's ``state``: one pair of functions per table.

:func:`move_deliveries` / :func:`new_deliveries` (the upstream queue, table ``deliveries``) and
:func:`move_replies` / :func:`new_reply` (the reply queue, table ``replies``) ask
:mod:`sms1708.core.states` whether every move they are about to make is allowed, then write it
in the caller's transaction. A move names the states it leaves (``sources``, also the
``WHERE state IN (...)`` of the UPDATE, so a row in any other state is not touched) and the
state it goes to (or an :class:`Either` of two). ``tests/test_state_writes.py`` fails if any
other SQL in the package writes a ``state`` column.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic

from sms1708.core.gate import Outgoing
from sms1708.core.states import DELIVERIES, REPLIES, Machine, ReplyState, S, State


@dataclass(frozen=True)
class Either(Generic[S]):
    """``CASE WHEN <when> THEN <then> ELSE <otherwise> END``: a move to one of two states."""

    when: str
    then: S
    otherwise: S


def _each(head: list[Any], many: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [[*head, *more] for more in many]


def _move(
    c: sqlite3.Connection,
    machine: Machine[S],
    sources: Iterable[S],
    target: S | Either[S],
    *,
    sets: str,
    values: Sequence[Any],
    where: str,
    args: Sequence[Any] | None,
    many: Sequence[Sequence[Any]] | None,
) -> int:
    froms: list[S] = sorted({machine.states(s) for s in sources})
    if not froms:
        raise ValueError(f"{machine.table}: a move must leave at least one state")
    targets = [target.then, target.otherwise] if isinstance(target, Either) else [target]
    for s in froms:
        for t in targets:
            machine.check(s, t)
    state_args: list[Any]
    if isinstance(target, Either):
        state_sql = f"CASE WHEN {target.when} THEN ? ELSE ? END"
        state_args = [target.then.value, target.otherwise.value]
    else:
        state_sql = "?"
        state_args = [machine.states(target).value]
    marks = ",".join("?" for _ in froms)
    sql = (
        f"UPDATE {machine.table} SET state = {state_sql}{', ' + sets if sets else ''}"
        f" WHERE state IN ({marks}) AND ({where})"
    )
    head: list[Any] = [*state_args, *values, *(s.value for s in froms)]
    if many is not None:
        rows = _each(head, many)
        return c.executemany(sql, rows).rowcount
    return c.execute(sql, [*head, *(args or ())]).rowcount


def move_deliveries(
    c: sqlite3.Connection,
    sources: Iterable[State],
    target: State | Either[State],
    *,
    sets: str = "",
    values: Sequence[Any] = (),
    where: str,
    args: Sequence[Any] | None = None,
    many: Sequence[Sequence[Any]] | None = None,
) -> int:
    """Move the deliveries matching ``where`` (``args``; or each argument list of ``many``)
    that are in one of ``sources`` to ``target``, also setting ``sets`` (``values``).
    Returns the rows moved. Raises InvalidTransition before writing anything if a move from
    ``sources`` to ``target`` is not in the table."""
    return _move(
        c, DELIVERIES, sources, target, sets=sets, values=values, where=where, args=args, many=many
    )


def new_deliveries(
    c: sqlite3.Connection,
    message_id: int,
    destinations: Iterable[str],
    *,
    now: float,
    ignore_existing: bool = True,
) -> None:
    """Queue ``message_id`` for ``destinations`` (born ``queued``; an existing delivery to a
    destination is kept as it is unless ``ignore_existing`` is False, then it is an error)."""
    state = DELIVERIES.check_born(State.QUEUED)
    verb = "INSERT OR IGNORE" if ignore_existing else "INSERT"
    c.executemany(
        f"{verb} INTO deliveries (message_id, destination, state, queued_at,"
        " next_attempt_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(message_id, name, state.value, now, now, now) for name in destinations],
    )


def move_replies(
    c: sqlite3.Connection,
    sources: Iterable[ReplyState],
    target: ReplyState | Either[ReplyState],
    *,
    sets: str = "",
    values: Sequence[Any] = (),
    where: str,
    args: Sequence[Any] | None = None,
) -> int:
    """:func:`move_deliveries` for the reply queue."""
    return _move(
        c, REPLIES, sources, target, sets=sets, values=values, where=where, args=args, many=None
    )


def new_reply(
    c: sqlite3.Connection,
    out: Outgoing,
    state: ReplyState,
    *,
    reason: str | None,
    now: float,
    due: float,
) -> int:
    """Record one SMS the gateway sends (born ``queued``, or ``suppressed`` with the reason).
    Returns its id."""
    REPLIES.check_born(state)
    cur = c.execute(
        "INSERT INTO replies (message_id, modem, recipient, text, purpose, state, reason,"
        " created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            out.message_id,
            out.modem,
            out.recipient,
            out.text,
            out.purpose,
            state.value,
            reason,
            now,
            due,
        ),
    )
    return int(cur.lastrowid or 0)
