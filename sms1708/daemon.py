"""The daemon: opens the store, starts one worker per modem and the forwarder, stops cleanly.

SIGTERM / SIGINT set the stop event; every loop checks it between steps, claimed items that
were not attempted are given back, and the process exits 0. Anything claimed while the
process is killed outright is picked up again after its lease, with the same key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import Any

import serial

from sms1708 import sdnotify, sitetime
from sms1708.clock import Clock, network_time_from_sms
from sms1708.config import Config, ModemConfig, UpstreamConfig
from sms1708.core.grammar_tables import GrammarTables
from sms1708.core.intake import IntakeRules
from sms1708.errors import StoreDamagedError, StoreError, safe_error
from sms1708.health import Health, default_status_path, prometheus, write_atomic
from sms1708.logsetup import get_logger
from sms1708.loopguard import LoopGuard
from sms1708.modem.worker import ModemWorker
from sms1708.store.store import Store
from sms1708.table_files import default_tables, load_tables
from sms1708.upstream.forwarder import Forwarder
from sms1708.upstream.webhook import WebhookClient, make_client

log = get_logger("sms1708.daemon")

STOP_GRACE = 5.0


def grammar_tables(cfg: Config) -> GrammarTables:
    """The grammar's tables: the operator's files where configured, else the shipped ones."""
    g = cfg.grammar
    if not (g.keywords or g.categories or g.places):
        return default_tables()
    return load_tables(g.keywords or None, g.categories or None, g.places or None)


def intake_rules(cfg: Config) -> IntakeRules:
    return IntakeRules(
        keywords=grammar_tables(cfg),
        guard=cfg.replies.guard(),
        language=cfg.replies.language,
        replies_enabled=cfg.replies.enabled,
        max_text_chars=cfg.multipart.max_parts * 153,
        followup_window=cfg.followups.window_minutes * 60,
        # a receipt waits briefly for the tracking id only when one would be texted anyway
        receipt_wait=cfg.replies.receipt_wait_seconds if cfg.replies.notify_tracking else 0.0,
        routing=cfg.upstream.routing(),
    )


def open_checked(cfg: Config) -> Store:
    """Open the store, verify durability settings and integrity; refuse a damaged file."""
    store = Store.open(cfg.store.path)
    check = store.quick_check()
    if check != "ok":
        store.close()
        raise StoreDamagedError(f"{cfg.store.path}: quick_check failed: {check[:300]}")
    log.info(
        "store_opened",
        path=cfg.store.path,
        journal_mode=store.journal_mode(),
        synchronous="FULL" if store.synchronous() == 2 else store.synchronous(),
        quick_check=check,
    )
    return store


@dataclass
class Daemon:
    cfg: Config
    stop: threading.Event = field(default_factory=threading.Event)
    opener: Callable[..., Any] = serial.Serial
    workers: list[ModemWorker] = field(default_factory=list)
    forwarders: list[Forwarder] = field(default_factory=list)  # one per destination
    health: Health = field(default_factory=Health)
    #: seams for the fault tests: how each loop opens the store, and the upstream client
    store_factory: Callable[[str], Store] = Store.open
    client_factory: Callable[[Config], WebhookClient] | None = None
    _metrics_at: float = 0.0
    _watchdog_at: float = 0.0
    _rules: IntakeRules | None = None
    _restarts: dict[str, LoopGuard] = field(default_factory=dict)
    _restart_at: dict[str, float] = field(default_factory=dict)
    #: the one clock every loop reads ("trusted now"); made at start unless a test gives one
    clock: Clock | None = None
    _parts_seen: int = 0
    _seen_lock: threading.Lock = field(default_factory=threading.Lock)
    _main_store: Store | None = None  # the main thread's connection (the clock's work)

    @property
    def status_path(self) -> str:
        return self.cfg.daemon.status_file or default_status_path(self.cfg.store.path)

    def heartbeat_limits(self) -> dict[str, float]:
        """How long each loop may go without a heartbeat before it counts as hung."""
        limits = {}
        for w in self.workers:
            m = w.modem
            limits[w.name] = max(
                3 * m.poll_interval, m.list_timeout + m.send_timeout + 4 * m.command_timeout
            )
        for f in self.forwarders:
            up = f.dest
            limits[f.name] = up.lease_seconds + 3 * (up.timeout + 5) + 60
        return limits

    def tick(self) -> None:
        """Once a second from the main thread: the clock, status file, metrics, watchdog."""
        self.keep_time()
        if self.health.take_dirty():
            try:
                write_atomic(self.status_path, json.dumps(self.health.snapshot(), indent=1))
            except OSError as e:
                log.warning("status_file_failed", path=self.status_path, error=str(e))
        now = time.monotonic()
        if (
            self.cfg.daemon.metrics_file
            and now - self._metrics_at >= self.cfg.daemon.metrics_interval
        ):
            self._metrics_at = now
            try:
                store = Store.open(self.cfg.store.path)
                try:
                    counts = store.queries.counts()
                    per_destination = store.queries.destination_counts()
                finally:
                    store.close()
                write_atomic(
                    self.cfg.daemon.metrics_file,
                    prometheus(self.health.snapshot(), counts, per_destination),
                )
            except (OSError, StoreError) as e:
                log.warning("metrics_file_failed", path=self.cfg.daemon.metrics_file, error=str(e))
        interval = sdnotify.watchdog_interval()
        if interval is not None and now - self._watchdog_at >= interval:
            stale = self.health.stale(self.heartbeat_limits())
            if stale:
                log.error("loop_hung", loops=stale, action="not pinging the watchdog")
            else:
                self._watchdog_at = now
                sdnotify.notify("WATCHDOG=1")

    def start_clock(self) -> Clock:
        """The daemon's clock; a box booted with an old time resumes from the store's newest."""
        if self.clock is None:
            store = Store.open(self.cfg.store.path)
            try:
                floor = store.timeshift.newest()
                self._parts_seen = store.queries.last_part_id()
            finally:
                store.close()
            self.clock = Clock(floor=floor, warn_after=self.cfg.clock.warn_minutes * 60)
        self.health.now = self.clock.now
        self.health.started_at = self.clock.now()
        return self.clock

    def keep_time(self) -> None:
        """Network time from arriving SMS, then any clock jump applied to the store."""
        clock = self.clock
        if clock is None:
            return
        if self._main_store is None:
            self._main_store = Store.open(self.cfg.store.path)
        store = self._main_store
        try:
            self._sms_time(store)
            ups = (self.cfg.upstream, *self.cfg.upstream.destinations)
            caps = {
                "outbox": max(max(u.retry_cap, u.breaker_max_pause) for u in ups),
                "outbox_lease": max(u.lease_seconds for u in ups),
                "replies": self.cfg.replies.retry_cap,
                "replies_lease": max(m.send_timeout for m in self.cfg.modems) + 60,
            }
            if clock.settle(store, caps=caps):
                self.wake_forwarder()
                self.wake_workers()
        except StoreError:
            self._main_store = None  # opened afresh next time
            store.close()
            raise
        self.health.update_clock(clock.status())

    def _sms_time(self, store: Store) -> None:
        """The SMSC timestamps of SMS stored since the last look, fed to the clock."""
        if self.clock is not None and self.cfg.clock.network_time:
            with self._seen_lock:
                self._parts_seen = network_time_from_sms(store, self.clock, self._parts_seen)

    def message_stored(self) -> None:
        """A worker stored SMS: their network time first (so a complaint's signature is on
        the corrected clock), then wake the forwarder."""
        if self.clock is not None and self.cfg.clock.network_time:
            try:
                store = self.store_factory(self.cfg.store.path)
                try:
                    self._sms_time(store)
                finally:
                    store.close()
            except (StoreError, OSError) as e:  # the main loop's tick looks again
                log.warning("clock_sms_time_failed", error=safe_error("reading SMS times", e))
        self.wake_forwarder()

    def network_time(self, when: dt.datetime) -> None:
        """The modem's network-set clock was read (a worker calls this)."""
        if self.clock is not None and self.cfg.clock.network_time:
            self.clock.network_time(when, source="modem")

    def _worker(self, m: ModemConfig) -> ModemWorker:
        assert self._rules is not None
        return ModemWorker(
            self.cfg,
            m,
            self._rules,
            self.stop,
            clock=self.clock or time.time,
            on_network_time=self.network_time,
            opener=self.opener,
            on_message=self.message_stored,
            store_factory=self.store_factory,
            health=self.health,
        )

    @property
    def forwarder(self) -> Forwarder | None:
        """The primary destination's forwarder (None: no upstream configured)."""
        return next((f for f in self.forwarders if f.dest.primary), None)

    def _forwarder(self, dest: UpstreamConfig) -> Forwarder:
        # the client factory sees the destination as the config's [upstream]
        if self.client_factory is not None:
            client = self.client_factory(replace(self.cfg, upstream=dest))
        else:  # the signature's timestamp from the trusted clock
            wall_clock = self.clock.date if self.clock else time.time
            client = make_client(replace(self.cfg, upstream=dest), wall_clock=wall_clock)
        return Forwarder(
            self.cfg,
            self.stop,
            client=client,
            clock=self.clock or time.time,
            store_factory=self.store_factory,
            health=self.health,
            on_reply=self.wake_workers,
            destination=dest.name,
        )

    def revive(self) -> list[str]:
        """Start again, with backoff, any loop that died (each loop catches its own failures,
        so this is the last line of defence): the daemon does not exit for it."""
        if self.stop.is_set():
            return []
        now = time.monotonic()
        revived: list[str] = []
        for i, w in enumerate(self.workers):
            if not w.is_alive() and self._may_restart(w.name, now):
                self.workers[i] = self._worker(w.modem)
                self.workers[i].start()
                revived.append(w.name)
        for i, f in enumerate(self.forwarders):
            if not f.is_alive() and self._may_restart(f.name, now):
                self.forwarders[i] = self._forwarder(f.dest)
                self.forwarders[i].start()
                revived.append(f.name)
        return revived

    def _may_restart(self, name: str, now: float) -> bool:
        if now < self._restart_at.get(name, 0.0):
            return False
        guard = self._restarts.setdefault(name, LoopGuard(f"{name}-restarts", self.health))
        delay = guard.failed("the loop stopped unexpectedly; started again")
        self._restart_at[name] = now + delay
        log.critical("thread_died", thread=name, action="started again", next_after=delay)
        return True

    def start(self) -> None:
        open_checked(self.cfg).close()
        sitetime.use(self.cfg)
        self.start_clock()
        self._rules = intake_rules(self.cfg)
        for m in self.cfg.modems:
            if not m.port:
                log.error(
                    "modem_no_port",
                    modem=m.name,
                    hint="set modem.port (e.g. /dev/serial/by-id/usb-...)",
                )
                continue
            w = self._worker(m)
            self.workers.append(w)
            w.start()
        for dest in self.cfg.upstream.active():
            f = self._forwarder(dest)
            self.forwarders.append(f)
            f.start()
        if not self.forwarders:
            log.warning(
                "upstream_not_configured", hint="upstream.url is empty: complaints are kept queued"
            )
        sdnotify.notify("READY=1")
        sdnotify.notify(f"STATUS=running: {len(self.workers)} modem(s)")
        log.info(
            "daemon_started",
            modems=len(self.workers),
            upstream=bool(self.forwarders),
            destinations=[f.dest.name for f in self.forwarders],
            config=self.cfg.source,
        )

    def dead_threads(self) -> list[str]:
        threads: list[threading.Thread] = [*self.workers]
        threads.extend(self.forwarders)
        return [t.name for t in threads if not t.is_alive()]

    def wake_workers(self) -> None:
        for w in self.workers:
            w.wake.set()

    def wake_forwarder(self) -> None:
        for f in self.forwarders:
            f.wake.set()

    def shutdown(self, grace: float = STOP_GRACE) -> None:
        """Stop every loop; give them ``grace`` seconds to finish the step they are in.

        A loop still blocked after that is waiting on the outside world (an upstream that does
        not answer, a modem that hangs in AT+CMGS). We do not wait for it: the upstream request
        is recorded as ``ambiguous`` (due again at once, same key) and the modem session is
        closed (a reply being sent is given back and sent again after the restart).
        """
        self.stop.set()
        for w in self.workers:
            w.wake.set()
        self.wake_forwarder()
        deadline = time.monotonic() + grace
        for w in self.workers:
            w.join(max(0.1, deadline - time.monotonic()))
            if w.is_alive():
                log.warning("modem_busy_at_stop", modem=w.modem.name, action="closing the port")
                w.abort()
                w.join(2.0)
        for f in self.forwarders:
            f.join(max(0.1, deadline - time.monotonic()))
            if f.is_alive():
                store = Store.open(self.cfg.store.path)
                try:
                    ids = f.abandon_in_flight(store)
                finally:
                    store.close()
                log.warning(
                    "upstream_busy_at_stop",
                    destination=f.dest.name,
                    message_ids=ids,
                    action="recorded as ambiguous; sent again with the same key on start",
                )
        if self._main_store is not None:
            self._main_store.close()
            self._main_store = None
        log.info("daemon_stopped")


def run(cfg: Config) -> int:
    """Run in the foreground until SIGTERM/SIGINT. Returns the exit code."""
    d = Daemon(cfg)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("daemon_stopping", signal=signal.Signals(signum).name)
        d.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    d.start()
    while not d.stop.wait(1.0):
        try:
            d.tick()
        except Exception as e:  # the status file and metrics are not worth stopping for
            log.error("daemon_tick_failed", error=safe_error("writing status", e))
        d.revive()
    sdnotify.notify("STOPPING=1")
    d.shutdown()
    with contextlib.suppress(Exception):
        d.tick()
    return 0
