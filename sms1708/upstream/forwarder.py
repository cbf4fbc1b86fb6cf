"""The forwarder: drains one destination's queue, one attempt per claimed item.

The daemon runs one forwarder per destination (``[[upstream.destination]]``), each with its own
claims, breaker, pool and backoff: one destination being down never holds back another.

Claims due items with a lease (a crash mid-send makes them claimable again after the lease,
with the same idempotency key), posts each, and records the attempt and the next state in one
transaction. The policy in :mod:`sms1708.core.policy` decides what an outcome leads to.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import replace
from functools import partial

from sms1708.config import Config, UpstreamConfig
from sms1708.core import gate, pacing
from sms1708.core.ack import clean_text
from sms1708.core.breaker import Breaker
from sms1708.core.loopbackoff import Pacing
from sms1708.core.policy import Decision, Outcome, RetryPolicy, decide
from sms1708.core.routing import DEFAULT_DESTINATION
from sms1708.core.states import State
from sms1708.errors import StoreError, safe_error
from sms1708.health import Health
from sms1708.logsetup import get_logger
from sms1708.loopguard import LoopGuard
from sms1708.store.store import Attempt, OutboxItem, Store
from sms1708.upstream import answers, statuspoll
from sms1708.upstream.answers import Answer
from sms1708.upstream.pool import DaemonPool
from sms1708.upstream.webhook import WebhookClient, make_client

log = get_logger("sms1708.upstream")

STORE_RETRY = 5.0  # seconds before trying the store again after it failed
#: while requests run, a step claims up to this many more batches as places free up
TOP_UP = 4
IDLE_RECHECK = 10.0  # an operator's replay is picked up within this (a read, no write)
#: outcomes that say "the upstream is not well" (a rejection means it is up and answering)
_BREAKER_FAILURES = frozenset(
    {Outcome.UNREACHABLE.value, Outcome.RETRYABLE.value, Outcome.AMBIGUOUS.value}
)


class Forwarder(threading.Thread):
    def __init__(
        self,
        cfg: Config,
        stop: threading.Event,
        *,
        client: WebhookClient | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        store_factory: Callable[[str], Store] = Store.open,
        health: Health | None = None,
        on_reply: Callable[[], None] = lambda: None,
        destination: str | None = None,
    ) -> None:
        dest = pick_destination(cfg, destination)
        # this forwarder sees its own destination as ``cfg.upstream``
        cfg = replace(cfg, upstream=dest)
        super().__init__(name=forwarder_name(dest.name), daemon=True)
        self.cfg = cfg
        self.dest = dest
        self.stop_event = stop
        self.client = client or make_client(cfg, wall_clock=clock)
        self.clock = clock
        self.rand = rand
        self.store_factory = store_factory
        self.wake = threading.Event()
        self.policy = RetryPolicy(
            base=cfg.upstream.retry_base,
            cap=cfg.upstream.retry_cap,
            max_age=cfg.upstream.max_age_days * 86400,
        )
        self.last_success_at: float | None = None
        self.breaker = Breaker(
            threshold=cfg.upstream.breaker_threshold,
            base=cfg.upstream.breaker_pause,
            cap=cfg.upstream.breaker_max_pause,
        )
        self.in_flight: set[int] = set()
        self._item_faults: set[int] = set()  # posts that failed with an unexpected error
        self.next_status_poll = 0.0
        self.on_reply = on_reply  # an SMS to the citizen was queued: wake the modem worker
        self.health = health or Health()
        self._health(configured=True)
        self._lock = threading.Lock()
        self.guard = LoopGuard(self.name, self.health, Pacing(base=1.0, cap=60.0), clock=clock)
        self.status_guard = LoopGuard(
            "status-poller", self.health, Pacing(base=5.0, cap=600.0), clock=clock
        )
        self._pool = DaemonPool(cfg.upstream.concurrency, "upstream")
        #: requests in flight the upstream allows now (429/503 pause it and narrow it: AIMD)
        self.pace_rules = pacing.PaceRules(ceiling=cfg.upstream.concurrency)
        self.pace = pacing.start(self.pace_rules)
        self._retry_after: dict[int, float | None] = {}  # message id -> its answer's Retry-After
        self._accepted: deque[float] = deque(maxlen=1000)  # when accepted requests started
        self._next_start = 0.0  # monotonic: when the next request may start (after a 429)

    def run(self) -> None:
        store = self._open_store()
        if store is None:
            return
        try:
            while not self.stop_event.is_set():
                self.health.beat(self.name)
                try:
                    self._once(store)
                    self.guard.ok()
                except StoreError as e:
                    delay = max(self.guard.failed(f"store: {e}"), STORE_RETRY)
                    log.error("store_error", component="forwarder", error=str(e), retry_in=delay)
                    self.stop_event.wait(delay)
                except Exception as e:  # never go silent: log, back off, carry on
                    error = safe_error("forwarding", e)
                    delay = self.guard.failed(error)
                    log.error("forwarder_error", error=error, retry_in=delay, exc_info=True)
                    self.stop_event.wait(delay)
        finally:
            self._pool.shutdown()
            self.client.close()
            store.close()

    def _once(self, store: Store) -> None:
        """One turn of the loop: a batch, else the status poll and a wait for work."""
        if self.step(store):
            return
        if self.cfg.upstream.status_url:
            self._poll_statuses_guarded(store)
        due = store.outbox.next_due(self.dest.name)
        if not self.breaker.allow(self.clock()):
            due = max(due or 0.0, self.breaker.open_until)
        if due is not None and self.pace.paused_until > self.clock():
            due = max(due, self.pace.paused_until)  # the upstream asked us to wait (429/503)
        wait = IDLE_RECHECK if due is None else max(0.05, due - self.clock())
        if self.cfg.upstream.status_url:  # the next status poll is work too
            wait = min(wait, max(0.05, self.next_status_poll - self.clock()))
        self.wake.wait(min(wait, IDLE_RECHECK))
        self.wake.clear()

    def _open_store(self) -> Store | None:
        """This thread's store connection, retried (a locked database passes)."""
        while not self.stop_event.is_set():
            self.health.beat(self.name)
            try:
                return self.store_factory(self.cfg.store.path)
            except Exception as e:
                error = safe_error("opening the store", e)
                if isinstance(e, StoreError):
                    error = f"store: {e}"
                delay = self.guard.failed(error)
                log.error("store_error", component="forwarder", error=error, retry_in=delay)
                self.stop_event.wait(delay)
        return None

    def _poll_statuses_guarded(self, store: Store) -> None:
        """The status poller is its own loop: its trouble never stops forwarding."""
        try:
            self.poll_statuses(store)
            self.status_guard.ok()
        except Exception as e:
            error = f"store: {e}" if isinstance(e, StoreError) else safe_error("status poll", e)
            delay = self.status_guard.failed(error)
            self.next_status_poll = self.clock() + delay
            log.error("upstream_status_poll_failed", error=error, retry_in=delay)

    def step(self, store: Store) -> int:
        """Claim one batch and attempt each item once. Returns how many items were claimed.

        Up to ``upstream.concurrency`` requests run at a time on a small thread pool (one
        keep-alive client); each outcome is recorded as soon as its request returns (the
        requests that have returned by then share one transaction), so one slow request never
        holds back the others' results. Once
        ``concurrency`` requests in a row have failed, the rest of the batch is not sent (its
        claims are released). While requests run, more items are claimed as places free up
        (up to ``TOP_UP`` batches per step), so the connections stay busy instead of waiting
        for the slowest request of a batch. A 429/503 pauses the whole upstream for its
        ``Retry-After`` and narrows the requests allowed in flight (:mod:`sms1708.core.pacing`).
        The circuit breaker counts the whole step as one outcome: a
        success if any request got an answer from the upstream, else one failure. While the
        breaker is open nothing is claimed; when its pause ends, one item goes out as a probe.
        """
        now = self.clock()
        if not self.breaker.allow(now) or not pacing.allowed(self.pace, self.pace_rules, now):
            return 0
        probing = self.breaker.probing(now)
        limit = 1 if probing else self.cfg.upstream.batch
        items = store.outbox.claim(
            now=now, lease=self.cfg.upstream.lease_seconds, limit=limit, destination=self.dest.name
        )
        if not items:
            return 0
        width = ceiling = self.cfg.upstream.concurrency
        top_ups = 0 if probing else TOP_UP
        pending = list(items)
        running: dict[Future[Attempt], OutboxItem] = {}
        begun: dict[Future[Attempt], float] = {}  # when each request started (monotonic)
        answered = failed = in_a_row = 0
        last_failure: Attempt | None = None
        with self._lock:
            self.in_flight.update(i.message_id for i in items)
        try:
            while pending or running:
                width = pacing.allowed(self.pace, self.pace_rules, self.clock())
                if not pending and top_ups and in_a_row < ceiling and len(running) < width:
                    top_ups -= 1
                    more = store.outbox.claim(
                        now=self.clock(),
                        lease=self.cfg.upstream.lease_seconds,
                        limit=self.cfg.upstream.batch,
                        destination=self.dest.name,
                    )
                    with self._lock:
                        self.in_flight.update(i.message_id for i in more)
                    items += more
                    pending += more
                gap = self._next_start - time.monotonic()
                while pending and len(running) < width and in_a_row < ceiling and gap <= 0:
                    if self.stop_event.is_set():
                        break
                    item = pending.pop(0)
                    started = time.monotonic()
                    future = self._pool.submit(partial(self._post, item))
                    running[future], begun[future] = item, started
                    self._next_start = pacing.next_start(self.pace, self._next_start, started)
                    gap = self._next_start - time.monotonic()
                if not running:
                    if pending and width and gap > 0 and not self.stop_event.is_set():
                        self.stop_event.wait(gap)  # spaced starts after a 429
                        continue
                    break
                tick = min(0.5, gap) if gap > 0 else 0.5
                done, _ = wait(running, timeout=tick, return_when=FIRST_COMPLETED)
                if not done and self.stop_event.is_set():
                    # stopping: requests still waiting for an answer become ambiguous (sent
                    # again with the same key on the next start); nothing more is sent
                    cut = [i.message_id for i in running.values()]
                    running.clear()
                    self._abandon(store, cut)
                    with self._lock:
                        self.in_flight.difference_update(cut)
                    break
                # every request that has returned is recorded now, in one transaction: while
                # one commit waits for the disk, the others' answers gather for the next
                finished = [(f.result(), begun.pop(f), running.pop(f)) for f in done]
                store.outbox.record([a for a, _, _ in finished], guard=self.cfg.replies.guard())
                for a, started, item in finished:
                    with self._lock:
                        self.in_flight.discard(item.message_id)
                    self._log(a)
                    if a.notify_text:
                        self.on_reply()
                    with self._lock:
                        item_fault = a.message_id in self._item_faults
                        self._item_faults.discard(a.message_id)
                    if item_fault:
                        continue  # about this one complaint, not about the upstream
                    with self._lock:
                        retry_after = self._retry_after.pop(a.message_id, None)
                    if a.http_status in pacing.SLOW_DOWN:
                        # what the upstream accepted in the second before this one started
                        accepted = sum(1 for t in self._accepted if started - 1.0 <= t < started)
                        self.pace = pacing.slow_down(
                            self.pace, self.pace_rules, self.clock(), retry_after, accepted or None
                        )
                    elif a.http_status is not None:
                        self._accepted.append(started)
                        self.pace = pacing.answered(self.pace, self.pace_rules, self.clock())
                    if a.outcome in _BREAKER_FAILURES and a.http_status != 429:
                        # (a 429 is an answer: the upstream is up, it asks for less)
                        failed += 1
                        in_a_row += 1
                        last_failure = a
                    else:
                        answered += 1
                        in_a_row = 0
        finally:
            with self._lock:
                self.in_flight.difference_update(i.message_id for i in pending)
        if pending:
            store.outbox.release(
                [i.message_id for i in pending], now=self.clock(), destination=self.dest.name
            )
        if answered or failed:
            self._count_batch(ok=answered > 0, failure=last_failure)
        return len(items)

    def _count_batch(self, *, ok: bool, failure: Attempt | None) -> None:
        """One batch, one breaker outcome (four failures at once open the circuit once)."""
        now = self.clock()
        if not self.breaker.record(ok, now):
            return
        problem = failure.detail[:200] if failure else "upstream not answering"
        self._health(circuit_open_until=self.breaker.open_until, problem=problem)
        log.warning(
            "upstream_circuit_open",
            destination=self.dest.name,
            pause=round(self.breaker.open_until - now, 1),
            action="holding the queue; one probe when the pause ends",
        )

    def _post(self, item: OutboxItem) -> Attempt:
        try:
            res = self.client.send(item.record, item.key)
            answer = Answer(Outcome.DELIVERED, res.status, res.tracking_id)
        except Exception as e:
            answer = answers.failed(e, attempt=item.attempts + 1)
        outcome, status, tracking = answer.outcome, answer.status, answer.tracking
        retry_after = answer.retry_after
        if answer.not_acknowledged:
            self._health(problem=answer.detail, not_acknowledged_at=self.clock())
        with self._lock:
            if retry_after is not None:
                self._retry_after[item.message_id] = retry_after
            if answer.item_fault:
                self._item_faults.add(item.message_id)
        detail = answer.detail
        detail = clean_text(detail, 300)  # what reaches logs, the database and `status`
        now = self.clock()
        d = decide(
            outcome,
            attempts=item.attempts + 1,
            first_queued_at=item.queued_at,
            now=now,
            rand=self.rand(),
            policy=self.policy,
            retry_after=retry_after,
            detail=detail,
        )
        if status == 429 and d.state is State.RETRY:  # the pace, not this complaint: no backoff
            d = Decision(d.state, pacing.resume_at(self.pace_rules, now, retry_after), d.reason)
        primary = self.dest.primary
        texts = gate.tracking_texts(
            tracking,
            ref=str(item.message_id),
            language=self.cfg.replies.language,
            notify=self.cfg.replies.notify_tracking,
            primary=primary,
            update=item.record.get("update_of") is not None,
        )
        return Attempt(
            item.message_id,
            d,
            outcome.value,
            now,
            status,
            detail,
            tracking,
            texts.notice if texts else None,
            destination=self.dest.name,
            primary=primary,
            receipt_text=texts.receipt if texts else None,
        )

    def _log(self, a: Attempt) -> None:
        if a.decision.state is State.DELIVERED:
            self.last_success_at = a.ended_at
            self._health(
                last_success_at=a.ended_at,
                circuit_open_until=None,
                problem=None,
                not_acknowledged_at=None,
            )
            log.info(
                "upstream_delivered",
                destination=self.dest.name,
                message_id=a.message_id,
                tracking_id=a.tracking_id,
            )
        else:
            d = a.decision
            next_in = None if d.next_attempt_at is None else d.next_attempt_at - a.ended_at
            log.warning(
                "upstream_attempt_failed",
                destination=self.dest.name,
                message_id=a.message_id,
                outcome=a.outcome,
                http_status=a.http_status,
                state=d.state.value,
                next_in=None if next_in is None else round(next_in, 1),
                error=a.detail[:300],
            )

    def poll_statuses(self, store: Store, limit: int = 20) -> int:
        """Ask the upstream what became of delivered complaints (see
        :func:`sms1708.upstream.statuspoll.poll_statuses`). Returns how many were asked."""
        return statuspoll.poll_statuses(self, store, limit)

    def abandon_in_flight(self, store: Store) -> list[int]:
        """At shutdown: requests still waiting for an answer become ``ambiguous``, due at once.

        The request may have reached the upstream; the next start sends it again with the
        same idempotency key (a late answer recorded meanwhile still wins if it says delivered).
        """
        with self._lock:
            ids = sorted(self.in_flight)
        self._abandon(store, ids)
        return ids

    def _abandon(self, store: Store, ids: list[int]) -> None:
        if not ids:
            return
        now = self.clock()
        detail = "interrupted by shutdown while waiting for the upstream's answer"
        d = Decision(State.AMBIGUOUS, now, detail)
        name = self.dest.name
        store.outbox.record(
            [
                Attempt(i, d, Outcome.AMBIGUOUS.value, now, None, detail, destination=name)
                for i in ids
            ],
            guard=self.cfg.replies.guard(),
        )

    def _health(self, **changes: object) -> None:
        """What `status` shows for this destination (the primary's is the upstream's too)."""
        self.health.update_destination(self.dest.name, primary=self.dest.primary, **changes)


def forwarder_name(destination: str) -> str:
    """The loop's name (heartbeats, `status`): ``forwarder`` for the one-destination shorthand."""
    return "forwarder" if destination == DEFAULT_DESTINATION else f"forwarder-{destination}"


def pick_destination(cfg: Config, name: str | None = None) -> UpstreamConfig:
    """The destination called ``name`` (default: the primary, else ``[upstream]`` itself)."""
    active = cfg.upstream.active()
    if name is None:
        return next((d for d in active if d.primary), replace(cfg.upstream, primary=True))
    for d in active:
        if d.name == name:
            return d
    raise ValueError(f"no destination named {name!r} is configured")
