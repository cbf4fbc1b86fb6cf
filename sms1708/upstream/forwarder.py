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

from sms1708.config import Config
from sms1708.core.policy import Outcome, RetryPolicy, decide
from sms1708.errors import (
    StoreError,
    UpstreamAmbiguous,
    UpstreamError,
    UpstreamRejected,
    UpstreamRetryable,
    UpstreamUnreachable,
)
from sms1708.logsetup import get_logger
from sms1708.store.store import OutboxItem, Store
from sms1708.upstream.webhook import WebhookClient

log = get_logger("sms1708.upstream")

IDLE_RECHECK = 30.0


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
    ) -> None:
        super().__init__(name="forwarder", daemon=True)
        self.cfg = cfg
        self.stop_event = stop
        self.client = client or WebhookClient(
            cfg.upstream, token=cfg.upstream.token(), secret=cfg.upstream.signing_secret()
        )
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

    def run(self) -> None:
        store = self.store_factory(self.cfg.store.path)
        try:
            while not self.stop_event.is_set():
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
                if not worked:
                    due = store.next_outbox_due()
                    wait = IDLE_RECHECK if due is None else max(0.05, due - self.clock())
                    self.wake.wait(min(wait, IDLE_RECHECK))
                    self.wake.clear()
        finally:
            self.client.close()
            store.close()

    def step(self, store: Store) -> int:
        """Claim and attempt one batch. Returns how many items were claimed."""
        items = store.claim_outbox(
            now=self.clock(), lease=self.cfg.upstream.lease_seconds, limit=self.cfg.upstream.batch
        )
        for n, item in enumerate(items):
            if self.stop_event.is_set():
                store.release_claims([i.message_id for i in items[n:]], now=self.clock())
                break
            self.attempt(store, item)
        return len(items)

    def attempt(self, store: Store, item: OutboxItem) -> None:
        status: int | None = None
        tracking: str | None = None
        retry_after: float | None = None
        try:
            res = self.client.send(item.record, item.key)
            outcome, status, tracking, detail = Outcome.DELIVERED, res.status, res.tracking_id, ""
        except UpstreamRejected as e:
            outcome, status, detail = Outcome.REJECTED, e.status, str(e)
        except UpstreamRetryable as e:
            outcome, status, detail, retry_after = (
                Outcome.RETRYABLE,
                e.status,
                str(e),
                e.retry_after,
            )
        except UpstreamAmbiguous as e:
            outcome, detail = Outcome.AMBIGUOUS, str(e)
        except UpstreamUnreachable as e:
            outcome, detail = Outcome.UNREACHABLE, str(e)
        except UpstreamError as e:
            outcome, detail = Outcome.UNREACHABLE, str(e)
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
        store.record_attempt(
            item.message_id,
            d,
            outcome=outcome.value,
            now=now,
            http_status=status,
            detail=detail,
            tracking_id=tracking,
        )
        if outcome is Outcome.DELIVERED:
            self.last_success_at = now
            log.info(
                "upstream_delivered",
                message_id=item.message_id,
                key=item.key,
                attempts=item.attempts + 1,
                tracking_id=tracking,
            )
        else:
            log.warning(
                "upstream_attempt_failed",
                message_id=item.message_id,
                key=item.key,
                outcome=outcome.value,
                http_status=status,
                state=d.state.value,
                next_in=None if d.next_attempt_at is None else round(d.next_attempt_at - now, 1),
                error=detail[:300],
            )
