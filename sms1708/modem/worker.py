"""One modem's life: connect, initialise, poll, send replies, and come back after trouble.

The worker thread owns its :class:`ATSession`. It polls storage on every ``+CMTI``/``+CDSI``
and on a timer (the timer finds anything a notification missed, and doubles as the liveness
check), releases multipart messages whose parts timed out, and sends due replies, one at a
time, checking for new SMS between replies. When the link fails (unplug, hang, garbage), it
closes the port and reconnects with capped backoff; the first poll after a reconnect reads
whatever arrived meanwhile.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import serial

from sms1708.config import Config, ModemConfig
from sms1708.core.intake import IntakeRules
from sms1708.core.loopbackoff import Pacing
from sms1708.core.policy import RetryPolicy
from sms1708.errors import (
    ModemError,
    ModemTimeout,
    SimPinError,
    SimPinRejected,
    StoreError,
    safe_error,
)
from sms1708.health import Health
from sms1708.logsetup import get_logger
from sms1708.loopguard import LoopGuard
from sms1708.modem import pinrecord, receiver, sender
from sms1708.modem.at import ATSession, Urc
from sms1708.modem.memories import MemoryWatch
from sms1708.modem.netclock import parse_cclk
from sms1708.modem.network import refresh_operator
from sms1708.modem.setup import initialise, rssi_to_dbm
from sms1708.store.store import Store

log = get_logger("sms1708.modem")

PIN_RECHECK_SECONDS = 300.0
SIGNAL_EVERY = 300.0  # seconds between AT+CSQ readings
PING_TIMEOUT = 3.0
RESET_BOOT_SECONDS = 5.0
STORE_RETRY = 5.0  # seconds before trying the store again after it failed
SETTLE_SECONDS = 60.0  # a modem that served this long without failing is well again


class ModemWorker(threading.Thread):
    def __init__(
        self,
        cfg: Config,
        modem: ModemConfig,
        rules: IntakeRules,
        stop: threading.Event,
        *,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        opener: Callable[..., Any] = serial.Serial,
        on_message: Callable[[], None] = lambda: None,
        store_factory: Callable[[str], Store] = Store.open,
        health: Health | None = None,
        on_network_time: Callable[[datetime], None] | None = None,
    ) -> None:
        super().__init__(name=f"modem-{modem.name}", daemon=True)
        #: the modem's network-set clock was read (None: not asked; see modem/netclock.py)
        self.on_network_time = on_network_time
        self.network_clock = False
        self.cfg = cfg
        self.modem = modem
        self.rules = rules
        self.stop_event = stop
        self.clock = clock
        self.rand = rand
        self.opener = opener
        self.on_message = on_message
        self.store_factory = store_factory
        self.wake = threading.Event()
        #: SMS the modem pushed with +CMT (not stored on the SIM): stored before anything else
        self.cmt_queue: queue.Queue[Urc] = queue.Queue()
        self.connected = threading.Event()
        self.reply_policy = RetryPolicy(
            base=cfg.replies.retry_base,
            cap=cfg.replies.retry_cap,
            max_attempts=cfg.replies.max_attempts,
        )
        self.last_poll_at: float | None = None
        self.pin_rejected = False
        self.session: ATSession | None = None
        self.throttle_logged = False
        self.health = health or Health()
        self.health.register_modem(modem.name, modem.port)
        self.last_csq_at = 0.0
        #: the reconnect pacing: a modem that comes up and fails again at once backs off
        self.guard = LoopGuard(
            self.name,
            self.health,
            Pacing(base=1.0, cap=max(1.0, modem.reconnect_max_delay), settle=SETTLE_SECONDS),
            clock=clock,
        )
        self.memories = MemoryWatch(modem, self.health)

    # ------------------------------------------------------------------ supervisor

    def run(self) -> None:
        store = self._open_store()
        if store is None:
            return
        try:
            while not self.stop_event.is_set():
                self.health.beat(self.name)
                session = self._new_session()
                self.session = session
                try:
                    session.open()
                    self._bring_up(session, store)
                    self._serve_with_recovery(session, store)
                except SimPinRejected as e:
                    self._remember_wrong_pin(store)
                    self._down("modem_sim_pin_rejected", str(e), level="error")
                    self._wait(PIN_RECHECK_SECONDS)
                except SimPinError as e:
                    self._down("modem_sim_pin", str(e), level="error")
                    self._wait(PIN_RECHECK_SECONDS)
                except (ModemError, serial.SerialException, OSError) as e:
                    delay = self.guard.failed(f"modem: {e}")
                    self._down("modem_down", str(e), retry_in=round(delay, 1))
                    self._wait(delay)
                except StoreError as e:
                    delay = max(self.guard.failed(f"store: {e}"), STORE_RETRY)
                    self._down(
                        "store_error", str(e), level="error", action="SMS stay on the SIM; retrying"
                    )
                    self._wait(delay)
                except Exception as e:  # never go silent: log, reopen, carry on
                    error = safe_error("serving the modem", e)
                    delay = self.guard.failed(error)
                    log.error(
                        "modem_worker_error",
                        modem=self.modem.name,
                        error=error,
                        retry_in=round(delay, 1),
                        exc_info=True,
                    )
                    self._down("modem_worker_error", error, quiet=True)
                    self._wait(delay)
                finally:
                    self.connected.clear()
                    session.close()
        finally:
            store.close()

    def _open_store(self) -> Store | None:
        """Open this thread's store connection, retrying (another thread may be migrating)."""
        delay = 1.0
        while not self.stop_event.is_set():
            self.health.beat(self.name)
            try:
                return self.store_factory(self.cfg.store.path)
            except StoreError as e:
                log.error("store_error", component="modem", modem=self.modem.name, error=str(e))
                self._wait(delay)
                delay = min(delay * 2, 30.0)
        return None

    def _down(
        self, event: str, problem: str, *, level: str = "warning", quiet: bool = False, **kw: Any
    ) -> None:
        self.health.update_modem(self.modem.name, connected=False, problem=problem)
        if not quiet:
            getattr(log, level)(
                event, modem=self.modem.name, port=self.modem.port, error=problem, **kw
            )

    def _wait(self, seconds: float) -> None:
        """Wait, still beating the watchdog heartbeat (a long PIN pause is not a hang)."""
        deadline = time.monotonic() + seconds
        while not self.stop_event.is_set():
            self.health.beat(self.name)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.stop_event.wait(min(left, 10.0))

    def _remember_wrong_pin(self, store: Store) -> None:
        """Remember (across restarts, and for `sms1708 check`) that this PIN was refused: it
        is never sent again."""
        if self.pin_rejected:
            return  # refused earlier (this run or recorded): the record stands
        self.pin_rejected = True
        with contextlib.suppress(StoreError):
            pinrecord.remember_refused(
                store, self.modem.name, self.modem.sim_pin(), now=self.clock()
            )

    def abort(self) -> None:
        """Close the port under a blocked command (used when stopping): it fails at once."""
        session = self.session
        if session is not None:
            session.close()

    def _new_session(self) -> ATSession:
        return ATSession(
            self.modem.port,
            baudrate=self.modem.baudrate,
            rtscts=self.modem.rtscts,
            on_urc=self._on_urc,
            opener=self.opener,
            name=self.modem.name,
        )

    def _bring_up(self, session: ATSession, store: Store) -> None:
        rejected = pinrecord.refused(store, self.modem.name, self.modem.sim_pin())
        info = initialise(session, self.modem, may_enter_pin=not (self.pin_rejected or rejected))
        self.health.update_modem(
            self.modem.name,
            connected=True,
            family=info.family,
            csq=info.signal,
            signal_dbm=None if info.signal is None else rssi_to_dbm(info.signal),
            problem=None,
        )
        self.last_csq_at = time.monotonic()
        refresh_operator(session, self.health, self.modem.name, timeout=self.modem.command_timeout)
        self.network_clock = info.network_clock
        self._read_network_clock(session)
        log.info(
            "modem_ready",
            modem=self.modem.name,
            port=self.modem.port,
            family=info.family,
            cnmi=info.cnmi,
            smsc=info.smsc,
            csq=info.signal,
        )
        self.connected.set()

    def _serve_with_recovery(self, session: ATSession, store: Store) -> None:
        """Serve; when the modem stops answering, climb the recovery ladder.

        1. re-initialise on the open port (a modem that lost its settings);
        2. reset the modem (AT+CFUN=1,1) and give it time to boot;
        3. let the supervisor close and reopen the port (raise).
        """
        while not self.stop_event.is_set():
            try:
                self._serve(session, store)
                return
            except ModemTimeout as e:
                log.warning(
                    "modem_not_answering",
                    modem=self.modem.name,
                    error=str(e),
                    action="re-initialising",
                )
            self.connected.clear()
            try:
                session.command("AT", timeout=PING_TIMEOUT)
                self._bring_up(session, store)
                continue
            except ModemTimeout:
                pass
            log.warning("modem_reset", modem=self.modem.name, action="AT+CFUN=1,1, then reopen")
            with contextlib.suppress(ModemError):
                session.write_raw(b"AT+CFUN=1,1\r")
            self.stop_event.wait(RESET_BOOT_SECONDS)
            raise ModemTimeout("modem did not answer after re-initialising; reopening the port")

    def _on_urc(self, urc: Urc) -> None:
        if urc.name in ("+CMTI", "+CDSI"):
            self.wake.set()
        elif urc.name in ("+CMT", "+CDS"):
            self.cmt_queue.put(urc)
            self.wake.set()
        elif urc.name == "^SMMEMFULL":
            log.warning(
                "modem_storage_full", modem=self.modem.name, urc=urc.line, action="draining now"
            )
            self.wake.set()
        else:
            log.debug("modem_urc", modem=self.modem.name, urc=urc.line)

    # ------------------------------------------------------------------ serving

    def _serve(self, session: ATSession, store: Store) -> None:
        next_poll = 0.0  # poll at once: read what arrived while we were away
        while not self.stop_event.is_set():
            self.health.beat(self.name)
            now = time.monotonic()
            if now - self.last_csq_at >= SIGNAL_EVERY:
                self._read_signal(session)
            if self.wake.is_set() or now >= next_poll:
                if not self.wake.is_set():
                    session.command("AT", timeout=PING_TIMEOUT)  # liveness, cheap
                self.wake.clear()
                self._store_pushed_sms(store)
                self._poll(session, store)
                next_poll = time.monotonic() + self.modem.poll_interval
                self._release_partials(store)
            try:
                throttled = self._send_replies(session, store)
            except StoreError as e:  # e.g. busy: the SMS side goes on, replies wait a moment
                log.error("store_error", component="replies", modem=self.modem.name, error=str(e))
                throttled = self.clock() + 5
            if self.wake.is_set():
                continue
            wait = max(0.0, next_poll - time.monotonic())
            due = store.replies.next_due(self.modem.name)
            if due is not None and throttled is not None:
                due = max(due, throttled)
            if due is not None:
                wait = min(wait, max(0.0, due - self.clock()))
            if wait > 0:
                self.wake.wait(wait)
            if session.gone is not None:
                raise session.gone

    def _send_replies(self, session: ATSession, store: Store) -> float | None:
        """Send one due reply unless the SIM's hourly ceiling is reached; returns when the
        ceiling lifts (None: not throttled)."""
        throttled = store.replies.throttled_until(
            self.modem.name, now=self.clock(), max_per_hour=self.cfg.replies.max_per_hour
        )
        if throttled is None:
            sender.send_due(
                session,
                store,
                modem=self.modem.name,
                now=self.clock,
                rand=self.rand,
                policy=self.reply_policy,
                timeout=self.modem.send_timeout,
                status_report=self.cfg.replies.delivery_reports,
                limit=1,
                should_stop=self.stop_event.is_set,
            )
        elif not self.throttle_logged:
            log.warning(
                "reply_throttled",
                modem=self.modem.name,
                max_per_hour=self.cfg.replies.max_per_hour,
                resume_in=round(throttled - self.clock()),
                hint="replies wait; nothing is dropped",
            )
        self.throttle_logged = throttled is not None
        return throttled

    def _read_network_clock(self, session: ATSession) -> None:
        """The modem's clock, where the network sets it (AT+CTZU=1 accepted)."""
        if self.on_network_time is None or not self.network_clock:
            return
        for line in session.try_command("AT+CCLK?", timeout=PING_TIMEOUT) or []:
            when = parse_cclk(line)
            if when is not None:
                self.on_network_time(when)

    def _read_signal(self, session: ATSession) -> None:
        self.last_csq_at = time.monotonic()
        refresh_operator(session, self.health, self.modem.name, timeout=PING_TIMEOUT)
        self._read_network_clock(session)
        for line in session.try_command("AT+CSQ", timeout=PING_TIMEOUT) or []:
            if line.startswith("+CSQ:"):
                with contextlib.suppress(ValueError, IndexError):
                    csq = int(line.split(":")[1].split(",")[0])
                    self.health.update_modem(self.modem.name, csq=csq, signal_dbm=rssi_to_dbm(csq))

    def _poll(self, session: ATSession, store: Store) -> None:
        # status reports for our replies land in "SR" (a modem without it answers ERROR: skipped)
        memories = [*self.modem.memories, *(["SR"] if "SR" not in self.modem.memories else [])]
        for memory in memories:
            if self.memories.skipped(memory):
                continue  # a configured memory is asked again now and then (a busy SIM passes)
            r = receiver.drain_memory(
                session,
                store,
                modem=self.modem.name,
                memory=memory,
                rules=self.rules,
                now=self.clock,
                list_timeout=self.modem.list_timeout,
                command_timeout=self.modem.command_timeout,
                on_commit=self._committed,
            )
            self.memories.note(memory, r)
            if r.total and memory != "SR":
                known = self.health.modem(self.modem.name)
                storage = dict(known.storage) if known else {}
                storage[memory] = [max(r.used - r.deleted, 0), r.total]
                self.health.update_modem(self.modem.name, storage=storage)
            if r.committed:
                log.info(
                    "sms_drained",
                    modem=self.modem.name,
                    memory=memory,
                    parts=r.committed,
                    new=r.new,
                    duplicates=r.duplicates,
                    quarantined=r.quarantined,
                    messages=r.messages,
                )
        self.last_poll_at = self.clock()
        self.health.update_modem(self.modem.name, last_poll_at=self.last_poll_at)
        self.guard.ok()

    def _committed(self, so_far: receiver.DrainResult) -> None:
        """A batch of a listing is committed: the forwarder starts on it while the rest of
        the listing is still on the line."""
        if so_far.messages:
            self.health.update_modem(self.modem.name, last_sms_at=self.clock())
            self.on_message()

    def _store_pushed_sms(self, store: Store) -> None:
        """Store what came with +CMT (an SMS never on the SIM) or +CDS (a status report).

        CNMI is chosen so that +CMT does not happen (store-and-notify); this is the safety net
        for a modem configured otherwise. Without AT+CSMS=1 no +CNMA acknowledgement is needed.
        """
        while True:
            try:
                urc = self.cmt_queue.get_nowait()
            except queue.Empty:
                return
            if urc.pdu is None:
                log.warning("modem_urc_without_pdu", modem=self.modem.name, urc=urc.line)
                continue
            part = receiver.decode_incoming(urc.name.lstrip("+"), -1, urc.pdu)
            try:
                store.intake.ingest(self.modem.name, [part], now=self.clock(), rules=self.rules)
            except StoreError as e:
                log.error(
                    "store_commit_failed",
                    modem=self.modem.name,
                    memory="CMT",
                    error=str(e),
                    action="direct-delivered SMS kept in memory, retrying",
                )
                self.cmt_queue.put(urc)
                return

    def _release_partials(self, store: Store) -> None:
        try:
            ids = store.intake.release_partials(
                now=self.clock(), timeout=self.cfg.multipart.timeout, rules=self.rules
            )
        except StoreError as e:
            log.error("store_release_failed", error=str(e))
            return
        for mid in ids:
            log.warning("sms_partial_released", modem=self.modem.name, message_id=mid)
