"""The forwarder: drains the upstream queue, one attempt per claimed item.

Claims due items with a lease (a crash mid-send makes them claimable again after the lease,
with the same idempotency key), posts each, and records the attempt and the next state in one
transaction. The policy in :mod:`sms1708.core.policy` decides what an outcome leads to.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sms1708.config import Config
from sms1708.core import replies
from sms1708.core.breaker import Breaker
from sms1708.core.policy import Decision, Outcome, RetryPolicy, decide
from sms1708.core.states import State
from sms1708.errors import (
    StoreError,
    UpstreamAmbiguous,
    UpstreamError,
    UpstreamRejected,
    UpstreamRetryable,
)
from sms1708.health import Health
from sms1708.logsetup import get_logger
from sms1708.store.store import Attempt, OutboxItem, Store
from sms1708.upstream.webhook import WebhookClient, make_client

log = get_logger("sms1708.upstream")

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
    ) -> None:
        super().__init__(name="forwarder", daemon=True)
        self.cfg = cfg
        self.stop_event = stop
        self.client = client or make_client(cfg)
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
        self._next_status_poll = 0.0
        self.on_reply = on_reply  # an SMS to the citizen was queued: wake the modem worker
        self.health = health or Health()
        self.health.update_upstream(configured=True)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=cfg.upstream.concurrency, thread_name_prefix="upstream"
        )

    def run(self) -> None:
        store = self.store_factory(self.cfg.store.path)
        try:
            while not self.stop_event.is_set():
                self.health.beat(self.name)
                try:
                    worked = self.step(store)
                except StoreError as e:
                    log.error("store_error", component="forwarder", error=str(e))
                    self.stop_event.wait(5)
                    continue
                except Exception as e:  # never go silent: log, pause, carry on
                    log.error("forwarder_error", error=repr(e), exc_info=True)
                    self.stop_event.wait(5)
                    continue
                if not worked and self.cfg.upstream.status_url:
                    self.poll_statuses(store)
                if not worked:
                    due = store.next_outbox_due()
                    if not self.breaker.allow(self.clock()):
                        due = max(due or 0.0, self.breaker.open_until)
                    wait = IDLE_RECHECK if due is None else max(0.05, due - self.clock())
                    self.wake.wait(min(wait, IDLE_RECHECK))
                    self.wake.clear()
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.client.close()
            store.close()

    def step(self, store: Store) -> int:
        """Claim and attempt one batch. Returns how many items were claimed.

        Posts run on a small thread pool (``upstream.concurrency``, one keep-alive client);
        their outcomes are recorded together in one transaction. While the circuit breaker is
        open nothing is claimed; when its pause ends, one item goes out as a probe.
        """
        now = self.clock()
        if not self.breaker.allow(now):
            return 0
        limit = 1 if self.breaker.probing(now) else self.cfg.upstream.batch
        items = store.claim_outbox(now=now, lease=self.cfg.upstream.lease_seconds, limit=limit)
        if not items:
            return 0
        results: list[Attempt] = []
        pending = list(items)
        while pending and not self.stop_event.is_set():
            wave = pending[: self.cfg.upstream.concurrency]
            pending = pending[len(wave) :]
            results.extend(self._post_wave(wave))
            if not self.breaker.allow(self.clock()):
                break  # the upstream is down: do not hammer it with the rest of the batch
        store.record_attempts(results, guard=self.cfg.replies.guard())
        for a in results:
            self._log(a)
        if any(a.notify_text for a in results):
            self.on_reply()
        if pending:
            store.release_claims([i.message_id for i in pending], now=self.clock())
        return len(items)

    def attempt(self, store: Store, item: OutboxItem) -> None:
        """Attempt one claimed item and record the outcome."""
        [result] = self._post_wave([item])
        store.record_attempts([result], guard=self.cfg.replies.guard())
        self._log(result)

    def _post_wave(self, items: list[OutboxItem]) -> list[Attempt]:
        with self._lock:
            self.in_flight.update(i.message_id for i in items)
        try:
            if len(items) == 1:
                results = [self._post(items[0])]
            else:
                results = list(self._pool.map(self._post, items))
        finally:
            with self._lock:
                self.in_flight.difference_update(i.message_id for i in items)
        for a in results:
            opened = self.breaker.record(a.outcome not in _BREAKER_FAILURES, a.now)
            if opened:
                self.health.update_upstream(
                    circuit_open_until=self.breaker.open_until, problem=a.detail[:200]
                )
                log.warning(
                    "upstream_circuit_open",
                    pause=round(self.breaker.open_until - a.now, 1),
                    action="holding the queue; one probe when the pause ends",
                )
        return results

    def _post(self, item: OutboxItem) -> Attempt:
        status: int | None = None
        tracking: str | None = None
        retry_after: float | None = None
        try:
            res = self.client.send(item.record, item.key)
            outcome, status, tracking, detail = Outcome.DELIVERED, res.status, res.tracking_id, ""
        except UpstreamRejected as e:
            outcome, status, detail = Outcome.REJECTED, e.status, str(e)
        except UpstreamRetryable as e:
            outcome, status, detail = Outcome.RETRYABLE, e.status, str(e)
            retry_after = e.retry_after
        except UpstreamAmbiguous as e:
            outcome, detail = Outcome.AMBIGUOUS, str(e)
        except UpstreamError as e:
            outcome, detail = Outcome.UNREACHABLE, str(e)
        except Exception as e:  # a bug or a broken token: recorded, retried, never silent
            outcome, detail = Outcome.UNREACHABLE, f"unexpected error: {e!r}"
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
        notify = None
        if tracking and self.cfg.replies.notify_tracking and len(tracking) <= 20:
            notify = replies.render(
                "tracking", self.cfg.replies.language, ref=str(item.message_id), tracking=tracking
            )
        return Attempt(item.message_id, d, outcome.value, now, status, detail, tracking, notify)

    def _log(self, a: Attempt) -> None:
        if a.decision.state is State.DELIVERED:
            self.last_success_at = a.now
            self.health.update_upstream(
                last_success_at=a.now, circuit_open_until=None, problem=None
            )
            log.info("upstream_delivered", message_id=a.message_id, tracking_id=a.tracking_id)
        else:
            d = a.decision
            log.warning(
                "upstream_attempt_failed",
                message_id=a.message_id,
                outcome=a.outcome,
                http_status=a.http_status,
                state=d.state.value,
                next_in=None if d.next_attempt_at is None else round(d.next_attempt_at - a.now, 1),
                error=a.detail[:300],
            )

    def poll_statuses(self, store: Store, limit: int = 20) -> int:
        """Ask the upstream what became of delivered complaints (``upstream.status_url``);
        a changed status is stored and texted to the citizen. Returns how many were asked."""
        up = self.cfg.upstream
        now = self.clock()
        if now < self._next_status_poll or not self.breaker.allow(now):
            return 0
        due = store.status_due(
            now=now,
            interval=up.status_interval,
            max_age=up.status_max_age_days * 86400,
            limit=limit,
        )
        if len(due) < limit:
            self._next_status_poll = now + min(up.status_interval, IDLE_RECHECK * 10)
        for row in due:
            if self.stop_event.is_set():
                break
            try:
                status = self.client.fetch_status(row["tracking_id"], row["key"])
            except UpstreamError as e:
                log.warning("upstream_status_failed", message_id=row["id"], error=str(e))
                self._next_status_poll = self.clock() + up.status_interval / 4
                break
            text = None
            if status and self.cfg.replies.notify_tracking:
                text = replies.render(
                    "status_change",
                    self.cfg.replies.language,
                    ref=str(row["id"]),
                    tracking=row["tracking_id"],
                    state=status,
                )
            changed = store.record_status(
                row["id"],
                status,
                now=self.clock(),
                notify_text=text,
                guard=self.cfg.replies.guard(),
            )
            if changed:
                log.info("upstream_status_changed", message_id=row["id"], status=status)
                self.on_reply()
        return len(due)

    def abandon_in_flight(self, store: Store) -> list[int]:
        """At shutdown: requests still waiting for an answer become ``ambiguous``, due at once.

        The request may have reached the upstream; the next start sends it again with the
        same idempotency key (a late answer recorded meanwhile still wins if it says delivered).
        """
        with self._lock:
            ids = sorted(self.in_flight)
        now = self.clock()
        detail = "interrupted by shutdown while waiting for the upstream's answer"
        d = Decision(State.AMBIGUOUS, now, detail)
        store.record_attempts(
            [Attempt(i, d, Outcome.AMBIGUOUS.value, now, None, detail) for i in ids]
        )
        return ids
