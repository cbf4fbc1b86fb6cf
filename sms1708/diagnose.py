"""`sms1708 check`: the checks a technician does by hand, one line each, with what to do."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import serial

from sms1708 import sitetime
from sms1708.config import Config, ModemConfig
from sms1708.errors import CommandFailed, ModemError, SimPinError, SimPinRejected, StoreError
from sms1708.modem import pinrecord
from sms1708.modem.at import ATSession
from sms1708.modem.network import read_operator
from sms1708.modem.setup import check_pin, rssi_to_dbm
from sms1708.store.base import StoreBase


def with_port(cfg: Config, port: str, baudrate: int | None = None) -> Config:
    """``cfg`` with one modem, the first, on ``port`` (``check --port``: which ttyUSB of a stick
    is the right one), at ``baudrate`` or its own."""
    first = dataclasses.replace(cfg.modem, port=port, baudrate=baudrate or cfg.modem.baudrate)
    return dataclasses.replace(cfg, modems=(first,))


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""


def run_checks(
    cfg: Config,
    *,
    probe_modem: bool = True,
    opener: Callable[..., Any] = serial.Serial,
    pins: PinBook | None = None,
) -> list[Check]:
    out = [Check("config", True, f"loaded from {cfg.source}")]
    out.append(_store_dir(cfg))
    for d in cfg.upstream.active():
        where = d.where
        out.append(Check(f"{where}.url", True, d.url))
        if d.token_env and not d.token():
            out.append(
                Check(
                    f"{where} token" if cfg.upstream.destinations else "upstream token",
                    False,
                    f"${d.token_env} is not set",
                    "put it in the service's EnvironmentFile (mode 0600)",
                )
            )
    if not cfg.upstream.active():
        out.append(
            Check(
                "upstream.url",
                False,
                "empty: complaints will stay queued",
                "set upstream.url to the complaint system's webhook",
            )
        )
    for m in cfg.modems:
        if not m.port:
            out.append(
                Check(
                    f"{m.name} port",
                    False,
                    "modem.port is empty",
                    "use the stable path under /dev/serial/by-id/",
                )
            )
            continue
        if probe_modem:
            out.extend(probe(m, opener, pins))
    return out


def _store_dir(cfg: Config) -> Check:
    d = Path(cfg.store.path).parent
    if not d.exists():
        return Check(
            "store",
            False,
            f"{d} does not exist",
            "create it (the installer does) or change store.path",
        )
    if not os.access(d, os.W_OK):
        return Check(
            "store",
            False,
            f"{d} is not writable by this user",
            "run as the sms1708 user, or fix the folder's owner",
        )
    return Check("store", True, f"{cfg.store.path} (folder writable)")


def probe(
    m: ModemConfig, opener: Callable[..., Any] = serial.Serial, pins: PinBook | None = None
) -> list[Check]:
    out: list[Check] = []
    s = ATSession(m.port, baudrate=m.baudrate, rtscts=m.rtscts, opener=opener, name=m.name)
    try:
        s.open()
    except ModemError as e:
        return [
            Check(
                f"{m.name} port",
                False,
                str(e),
                "is the modem plugged in? right path? user in group dialout? "
                "is `sms1708 run` already using it?",
            )
        ]
    try:
        out.append(Check(f"{m.name} port", True, f"{m.port} opened at {m.baudrate} baud"))
        try:
            s.command("AT", timeout=3)
            s.command("ATE0", timeout=3)
            out.append(Check(f"{m.name} AT", True, "modem answers"))
        except ModemError as e:
            out.append(
                Check(
                    f"{m.name} AT",
                    False,
                    str(e),
                    "wrong port (Huawei sticks have several ttyUSB), baud rate, or "
                    "rtscts; unplug and replug the modem",
                )
            )
            return out
        sim = _sim(s, m, pins)
        out.append(sim)
        if not sim.ok:
            return out
        out.append(_registered(s))
        out.append(_signal(s))
        out.append(_smsc(s))
        out.append(_storage(s))
        out.append(_memories(s, m))
        out.append(_cnmi(s, m))
    finally:
        s.close()
    return out


class PinBook:
    """Where `check` looks up and records refused PINs: the daemon's store (see pinrecord).

    ``store`` is None when the database cannot be opened by this user: then `check` does not
    enter a PIN at all (a refusal it could not record would let the next run try it again);
    ``problem`` says why.
    """

    def __init__(self, store: StoreBase | None, problem: str = "") -> None:
        self.store = store
        self.problem = problem

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> PinBook:
        """The daemon's store at ``path``, where refused SIM PINs are recorded.

        A missing database is created (as the daemon would); created by root, it is handed to
        the owner of its folder (the daemon's user owns /var/lib/sms1708), so a `sudo sms1708
        check` never locks the daemon out. SQLite gives its -wal/-shm files the database's
        owner. A database this user cannot open gives a book without a store (no PIN entered).
        """
        from sms1708.store.store import Store

        p = Path(path)
        created = not p.exists()
        store = None
        try:
            store = Store.open(p, create=True)
            if created and os.geteuid() == 0:
                folder = p.parent.stat()
                os.chown(p, folder.st_uid, folder.st_gid)
            return cls(store)
        except (StoreError, OSError) as e:
            if store is not None:
                store.close()
            return cls(None, f"cannot open {p}: {e}")

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def refused(self, m: ModemConfig) -> bool:
        return self.store is not None and pinrecord.refused(self.store, m.name, m.sim_pin())

    def remember(self, m: ModemConfig) -> None:
        if self.store is not None:
            pinrecord.remember_refused(self.store, m.name, m.sim_pin(), now=sitetime.now())

    def accepted(self, m: ModemConfig) -> None:
        if self.store is not None:
            pinrecord.forget(self.store, m.name, now=sitetime.now())


def _sim(s: ATSession, m: ModemConfig, pins: PinBook | None) -> Check:
    """The SIM line: ready, or why not and what to do. A PIN is entered only when a refusal
    can be recorded and this PIN was not refused before (by the daemon or an earlier check)."""
    name = f"{m.name} SIM"
    why_not = ""
    if pins is not None and pins.store is None:
        why_not = (
            f"not entering the PIN: a refusal could not be recorded ({pins.problem}), and "
            "three wrong PINs lock the SIM"
        )
    elif pins is not None and pins.refused(m):
        why_not = (
            f"the SIM in {m.name} refused the PIN in {m.pin_env} before (recorded by "
            "`sms1708 run` or an earlier check); not entering it again, as three wrong PINs "
            "lock the SIM"
        )
    try:
        entered = check_pin(s, m, may_enter_pin=not why_not, why_not=why_not)
    except SimPinRejected as e:
        if not why_not and pins is not None:
            pins.remember(m)
        hint = (
            "run check as the daemon's user (sudo -u sms1708 sms1708 check)"
            if pins is not None and pins.store is None
            else f"put the right PIN in {m.pin_env} (a different PIN is tried once), or "
            "remove the PIN from the SIM in a phone"
        )
        return Check(name, False, str(e), hint)
    except (SimPinError, ModemError) as e:
        return Check(name, False, str(e), "check the SIM card and its PIN")
    if entered and pins is not None:
        pins.accepted(m)
    return Check(name, True, "ready (PIN accepted)" if entered else "ready")


def _registered(s: ATSession) -> Check:
    try:
        lines = s.command("AT+CREG?", timeout=5)
    except ModemError as e:
        return Check("network", False, str(e))
    stat = next((re.match(r"^\+CREG:\s*\d+\s*,\s*(\d+)", x) for x in lines), None)
    code = int(stat.group(1)) if stat else -1
    names = {
        1: "registered (home)",
        5: "registered (roaming)",
        2: "searching",
        3: "denied",
        0: "not registered",
    }
    operator = read_operator(s, timeout=5) if code in (1, 5) else None
    return Check(
        "network",
        code in (1, 5),
        names.get(code, f"unknown ({lines})") + (f", operator {operator}" if operator else ""),
        ""
        if code in (1, 5)
        else "check coverage, the antenna, and that the SIM is "
        "active (registered NIK+KK, not expired)",
    )


def _signal(s: ATSession) -> Check:
    try:
        lines = s.command("AT+CSQ", timeout=5)
    except ModemError as e:
        return Check("signal", False, str(e))
    m = next((re.match(r"^\+CSQ:\s*(\d+)", x) for x in lines), None)
    rssi = int(m.group(1)) if m else 99
    dbm = rssi_to_dbm(rssi)
    if dbm is None:
        return Check("signal", False, "no signal reading (99)", "move the antenna or the box")
    ok = rssi >= 8
    return Check(
        "signal",
        ok,
        f"{dbm} dBm (CSQ {rssi})",
        "" if ok else "weak: an external antenna near a window helps",
    )


def _smsc(s: ATSession) -> Check:
    try:
        lines = s.command("AT+CSCA?", timeout=5)
    except CommandFailed as e:
        return Check("SMSC", False, e.reply, "set the operator's SMS centre with AT+CSCA")
    m = next((re.match(r'^\+CSCA:\s*"([^"]*)"', x) for x in lines), None)
    if not m or not m.group(1):
        return Check("SMSC", False, "not set", "set the operator's SMS centre number")
    return Check("SMSC", True, m.group(1))


def _storage(s: ATSession) -> Check:
    try:
        lines = s.command("AT+CPMS?", timeout=5)
    except CommandFailed as e:
        return Check("storage", False, e.reply)
    m = next((re.match(r'^\+CPMS:\s*"(\w+)"\s*,\s*(\d+)\s*,\s*(\d+)', x) for x in lines), None)
    if not m:
        return Check("storage", False, f"unexpected answer {lines}")
    used, total = int(m.group(2)), int(m.group(3))
    ok = used < total
    return Check(
        "storage",
        ok,
        f"{m.group(1)} {used}/{total} used",
        "" if ok else "SIM full: start `sms1708 run`, it drains the SIM first",
    )


def _memories(s: ATSession, m: ModemConfig) -> Check:
    """Which SMS memories the modem has: one it refuses is not polled by the daemon."""
    have, missing = [], []
    for memory in dict.fromkeys([*m.memories, "SR"]):
        try:
            s.command(f'AT+CPMS="{memory}"', timeout=5)
            have.append(memory)
        except CommandFailed as e:
            missing.append(f"{memory} ({e.reply})")
    receiving = [x for x in m.memories if x in have]
    detail = ", ".join(have) or "none"
    if missing:
        detail += "; not supported: " + ", ".join(missing) + " (not polled)"
    hint = ""
    if not receiving:
        hint = "set modem.memories to a memory the modem has (AT+CPMS=? lists them)"
    elif "SR" not in have:
        hint = "no SR memory: delivery reports arrive as +CDS or in SM/ME, or not at all"
    return Check("memories", bool(receiving), detail, hint)


def _cnmi(s: ATSession, m: ModemConfig) -> Check:
    for value in m.cnmi:
        if s.try_command(f"AT+CNMI={value}", timeout=5) is not None:
            return Check("notifications", True, f"AT+CNMI={value} accepted")
    return Check(
        "notifications",
        False,
        "no CNMI setting accepted",
        "new SMS will still be found by the storage poll, only slower",
    )
