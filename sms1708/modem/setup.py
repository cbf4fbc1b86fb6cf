"""Bringing a modem up: the init sequence, kept as data.

Each step is a command, whether the modem must accept it, and what it is for. Optional steps
that a modem rejects are logged and skipped: real modems reject some of them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from sms1708.config import ModemConfig
from sms1708.core.mask import redact_at
from sms1708.errors import CommandFailed, ModemError, ModemTimeout, SimPinError, SimPinRejected
from sms1708.logsetup import get_logger
from sms1708.modem.at import ATSession

log = get_logger("sms1708.modem")


@dataclass(frozen=True)
class Step:
    command: str
    required: bool
    why: str


#: before the SIM is checked
BASE_STEPS: tuple[Step, ...] = (
    Step("AT", True, "is anything there"),
    Step("ATE0", True, "no echo: replies are easier to read"),
    Step("AT+CMEE=1", False, "numeric error codes"),
)
#: after the SIM is ready
SMS_STEPS: tuple[Step, ...] = (
    Step("AT+CMGF=0", True, "PDU mode (text mode breaks on some bodies)"),
    Step('AT+CSCS="GSM"', False, "character set for text answers (PDU mode does not need it)"),
)


@dataclass(frozen=True)
class Profile:
    """What differs between modem families, as data: how to recognise one (substrings of the
    AT+CGMI/AT+CGMM answers) and the extra, optional commands it wants after the SMS set-up."""

    name: str
    match: tuple[str, ...]
    steps: tuple[Step, ...] = ()


PROFILES: tuple[Profile, ...] = (
    Profile(
        "huawei",
        ("huawei",),
        (
            Step("AT^CURC=0", False, "silence periodic ^RSSI/^BOOT/^MODE lines on the AT port"),
            Step("AT^USSDMODE=0", False, "plain USSD answers (credit checks)"),
        ),
    ),
    Profile(
        "simcom",
        ("simcom", "sim800", "sim900", "sim7"),
        (Step("AT+CSDH=0", False, "short +CMGL/+CMGR headers"),),
    ),
    Profile(
        "wavecom",
        ("wavecom", "sierra"),
        (Step("AT+WIND=0", False, "no unsolicited +WIND status lines"),),
    ),
    Profile(
        "quectel",
        ("quectel",),
        (Step('AT+QURCCFG="urcport","usbat"', False, "send +CMTI on the AT port we read"),),
    ),
    Profile("zte", ("zte",), (Step("AT+ZCDRUN=8", False, "no autorun CD-ROM after a reset"),)),
    Profile("generic", ()),
)


def detect_profile(identity: str, wanted: str = "auto") -> Profile:
    """The profile named ``wanted``, or (auto) the first whose marker is in ``identity``."""
    if wanted != "auto":
        for p in PROFILES:
            if p.name == wanted:
                return p
        raise ValueError(f"unknown modem family {wanted!r}")
    low = identity.lower()
    for p in PROFILES:
        if any(marker in low for marker in p.match):
            return p
    return PROFILES[-1]


_PIN_STATE = re.compile(r"^\+CPIN:\s*(.+)$")


@dataclass(frozen=True)
class ModemInfo:
    family: str
    cnmi: str | None
    smsc: str | None
    signal: int | None
    network_clock: bool = False  # AT+CTZU=1 accepted: the modem's clock follows the network


def check_pin(
    session: ATSession, cfg: ModemConfig, *, may_enter_pin: bool = True, why_not: str = ""
) -> bool:
    """Make sure the SIM is ready; enter the PIN once if one is configured.

    A wrong PIN is never retried automatically (three tries lock the SIM): SimPinRejected,
    and the caller passes ``may_enter_pin=False`` from then on (``why_not`` then says why, in
    the error). A SIM that wants its PUK is never touched. Returns whether a PIN was entered.
    """
    state = _pin_state(session, cfg)
    if state == "READY":
        return False
    if state == "SIM PIN":
        pin = cfg.sim_pin()
        if not pin:
            raise SimPinError(
                f"the SIM in {cfg.name} needs a PIN: set modem.pin_env's variable "
                f"({cfg.pin_env}) or remove the PIN from the SIM"
            )
        if not may_enter_pin:
            raise SimPinRejected(
                why_not
                or f"the SIM in {cfg.name} refused this PIN before; not entering it again "
                f"(three wrong PINs lock the SIM): put the right PIN in {cfg.pin_env}, then "
                "restart sms1708"
            )
        try:
            session.command(f'AT+CPIN="{pin}"', timeout=cfg.command_timeout)
        except CommandFailed as e:
            raise SimPinRejected(
                f"the SIM in {cfg.name} refused the PIN in {cfg.pin_env} ({e.reply}); it is "
                f"never entered again (three wrong PINs lock the SIM): put the right PIN in "
                f"{cfg.pin_env}, then restart sms1708"
            ) from e
        after = _pin_state(session, cfg)
        if after == "READY":
            log.info("modem_sim_unlocked", modem=cfg.name)
            return True
        if after in _PUK_STATES:
            raise SimPinRejected(_puk_locked(cfg))
        raise SimPinError(f"the SIM in {cfg.name} is not ready after entering the PIN")
    if state in _PUK_STATES:
        raise SimPinError(_puk_locked(cfg))
    raise SimPinError(f"the SIM in {cfg.name} says {state!r}: it needs a technician")


_PUK_STATES = ("SIM PUK", "SIM PUK2", "PH-SIM PUK")


def _puk_locked(cfg: ModemConfig) -> str:
    return (
        f"the SIM in {cfg.name} is locked (it asks for its PUK after three wrong PINs); "
        "sms1708 never enters a PUK: put the SIM in a phone, enter the PUK from the operator "
        "and set a PIN (or none), then put that PIN in " + cfg.pin_env
    )


def _pin_state(session: ATSession, cfg: ModemConfig) -> str:
    try:
        lines = session.command("AT+CPIN?", timeout=cfg.command_timeout)
    except CommandFailed as e:
        if e.code == 10:
            raise SimPinError(f"no SIM card in {cfg.name} (+CME ERROR: 10)") from e
        raise
    for line in lines:
        m = _PIN_STATE.match(line)
        if m:
            return m.group(1).strip().strip('"').upper()
    raise ModemError(redact_at(f"unexpected answer to AT+CPIN?: {lines!r}"))


def resync(session: ATSession, cfg: ModemConfig) -> None:
    """Bring a modem left mid-command back to the command prompt.

    A process killed between ``AT+CMGS=<n>`` and its PDU leaves the modem waiting for SMS text:
    every later command would be taken as part of that SMS. ESC cancels the entry (nothing is
    sent); a plain ``AT`` then soaks up whatever the modem still had to say (a late answer
    is dropped by the session, see ``ATSession``).
    """
    session.write_raw(b"\x1b\r")
    with contextlib.suppress(CommandFailed, ModemTimeout):
        session.command("AT", timeout=min(2.0, cfg.command_timeout))


def initialise(session: ATSession, cfg: ModemConfig, *, may_enter_pin: bool = True) -> ModemInfo:
    """Run the init sequence. Raises ModemError/SimPinError when the modem cannot be used."""
    resync(session, cfg)
    for step in BASE_STEPS:
        _run(session, step, cfg)
    check_pin(session, cfg, may_enter_pin=may_enter_pin)
    for step in SMS_STEPS:
        _run(session, step, cfg)
    identity = " ".join(
        (session.try_command("AT+CGMI", timeout=cfg.command_timeout) or [])
        + (session.try_command("AT+CGMM", timeout=cfg.command_timeout) or [])
    )
    profile = detect_profile(identity, cfg.family)
    for step in profile.steps:
        _run(session, step, cfg)
    cnmi = None
    for value in cfg.cnmi:
        if session.try_command(f"AT+CNMI={value}", timeout=cfg.command_timeout) is not None:
            cnmi = value
            break
    if cnmi is None:
        log.warning(
            "modem_no_notifications",
            modem=cfg.name,
            hint="no CNMI setting accepted; relying on the storage poll alone",
        )
    # network time-zone updates: the modem's clock then tells the daemon the network's time
    network_clock = session.try_command("AT+CTZU=1", timeout=cfg.command_timeout) is not None
    smsc = None
    lines = session.try_command("AT+CSCA?", timeout=cfg.command_timeout) or []
    for line in lines:
        m = re.match(r'^\+CSCA:\s*"([^"]*)"', line)
        if m:
            smsc = m.group(1)
    signal = None
    for line in session.try_command("AT+CSQ", timeout=cfg.command_timeout) or []:
        m = re.match(r"^\+CSQ:\s*(\d+)", line)
        if m:
            signal = int(m.group(1))
    return ModemInfo(
        family=profile.name, cnmi=cnmi, smsc=smsc, signal=signal, network_clock=network_clock
    )


def _run(session: ATSession, step: Step, cfg: ModemConfig) -> None:
    if step.required:
        session.command(step.command, timeout=cfg.command_timeout)
    else:
        session.try_command(step.command, timeout=cfg.command_timeout)


def rssi_to_dbm(rssi: int) -> int | None:
    """27.007 +CSQ rssi (0..31, 99 unknown) -> dBm."""
    if rssi == 99 or rssi < 0 or rssi > 31:
        return None
    return -113 + 2 * rssi
