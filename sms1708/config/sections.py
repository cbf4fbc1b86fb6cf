"""The declaration: every section and key of the config file, once, with its default, its check
and what it means (``[upstream]`` and ``[lapor]`` are in :mod:`sms1708.config.upstream`).

:data:`SECTIONS` lists the sections in the order of the example file; the loader and the example
file are both made from it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from typing import ClassVar

from sms1708.config import checks as c
from sms1708.config.keys import Section, key
from sms1708.config.upstream import LaporConfig, UpstreamConfig
from sms1708.core.replies import Guard

#: the comment at the top of the example file
FILE_HEADER = """
sms1708 configuration. Copy to /etc/sms1708/sms1708.toml and edit.
Every key is optional except modem.port; the values shown are the defaults.
Secrets (upstream token, signing secret, SIM PIN) are NOT kept here: put them in the
service's environment file (/etc/sms1708/secrets.env, mode 0600) under the names below.
"""


@dataclass(frozen=True)
class ModemConfig:
    SECTION: ClassVar[Section] = Section(
        "modem",
        after="Several modems: replace [modem] with one [[modems]] table per modem, each with its"
        " own name.",
    )

    name: str = key("modem0", c.text, "in `status`, the log and the metrics")
    family: str = key(
        "auto",
        c.choice(
            "auto", "huawei", "simcom", "wavecom", "quectel", "zte", "generic", auto="from AT+CGMI"
        ),
    )
    port: str = key(
        "",
        c.text,
        "the modem's serial port: the one key without a default",
        before="Use the stable path under /dev/serial/by-id/: /dev/ttyUSB0 can change after a"
        " replug.\nHuawei sticks expose several ports; use the one that answers AT and sends"
        " +CMTI.",
        shown='"/dev/serial/by-id/usb-HUAWEI_Technology_HUAWEI_Mobile-if00-port0"',
    )
    baudrate: int = key(115200, c.baud, "serial line speed")
    rtscts: bool = key(
        False, c.flag, "true only for modems with RTS/CTS wired (most USB sticks: false)"
    )
    pin: str = key("", c.text, "better: leave empty and set the variable named by pin_env")
    pin_env: str = key(
        "SMS1708_SIM_PIN",
        c.text,
        "a PIN the SIM refused is never entered again (daemon and check)",
    )
    memories: tuple[str, ...] = key(
        ("SM", "ME"), c.memories, "SMS storages to read: SIM and modem memory"
    )
    poll_interval: float = key(
        10.0, c.pos_float, "seconds between storage polls (also finds missed notifications)"
    )
    command_timeout: float = key(10.0, c.pos_float, "seconds an ordinary AT command may take")
    list_timeout: float = key(
        60.0, c.pos_float, "AT+CMGL of a full SIM takes a while at 115200 baud"
    )
    send_timeout: float = key(60.0, c.pos_float, "AT+CMGS waits for the network")
    cnmi: tuple[str, ...] = key(
        ("2,1,0,2,0", "2,1,0,0,0", "1,1,0,0,0"),
        c.str_tuple,
        "tried in order; store-and-notify (+CMTI)",
    )
    reconnect_max_delay: float = key(
        30.0, c.pos_float, "longest wait, in seconds, between tries to reopen a lost modem"
    )

    def sim_pin(self) -> str:
        """The PIN from the environment variable named by ``pin_env``, else ``pin``."""
        return os.environ.get(self.pin_env, "") or self.pin


@dataclass(frozen=True)
class StoreConfig:
    SECTION: ClassVar[Section] = Section("store")

    path: str = key(
        "/var/lib/sms1708/sms1708.db", c.text, "the SQLite database: every SMS and the queue"
    )


@dataclass(frozen=True)
class RepliesConfig:
    SECTION: ClassVar[Section] = Section("replies")

    enabled: bool = key(
        True, c.flag, "false: no automatic SMS at all (an operator's `send` still goes)"
    )
    language: str = key("id", c.choice("id", "en"))
    own_number: str = key("", c.text, "the gateway SIM's number: never reply to it (loops)")
    min_sender_digits: int = key(8, c.pos_int, "shorter senders are short codes: no reply")
    block_list: tuple[str, ...] = key(
        (),
        c.str_list,
        'numbers never answered, e.g. ["+6281100000000"] (or at run time, without a restart:'
        " `sms1708 block NUMBER`)",
    )
    per_sender_per_hour: int = key(
        3,
        c.pos_int,
        "at most this many SMS to one number in any hour",
        before="every SMS the gateway sends counts below: receipts, help, CEK answers, tracking"
        " ids, status\nchanges and `sms1708 send` (a refused one is kept as 'suppressed' with"
        " the reason)",
    )
    daily_budget: int = key(
        300,
        c.pos_int,
        "SMS per modem per day (from local midnight; `status` shows the same count); then"
        " reports are still kept, unanswered",
    )
    loop_repeats: int = key(
        3, c.pos_int, "the same text from one number this often in an hour: stop answering"
    )
    max_per_hour: int = key(
        200,
        c.pos_int,
        "SMS per hour from the gateway SIM (XL flags > 360/hour as spam); above it replies"
        " wait, nothing is dropped",
    )
    notify_tracking: bool = key(
        True,
        c.flag,
        "one more SMS when the upstream gives a tracking id, and one when its status changes"
        " (not to senders whose receipt was suppressed; within the limits above)",
    )
    receipt_wait_seconds: float = key(
        5.0,
        c.nonneg_float,
        "a receipt waits this long for the upstream's tracking id: when it comes in time, ONE"
        " SMS carries both numbers (the usual case with the upstream up); later, a separate"
        " tracking SMS follows. 0: send the receipt at once (two SMS per complaint)",
    )
    delivery_reports: bool = key(
        True, c.flag, "ask the network for a status report on each reply (free to receive)"
    )
    retry_base: float = key(30.0, c.pos_float, "a reply that failed is tried again after 30 s ...")
    retry_cap: float = key(1800.0, c.pos_float, "... doubling up to 30 minutes")
    max_attempts: int = key(
        5,
        c.pos_int,
        "also caps sends whose outcome is unknown (modem lost after AT+CMGS)",
    )

    def guard(self) -> Guard:
        """The guards every SMS the gateway sends passes (``core.gate``)."""
        return Guard(
            own_number=self.own_number,
            min_sender_digits=self.min_sender_digits,
            block_list=self.block_list,
            per_sender_per_hour=self.per_sender_per_hour,
            daily_budget=self.daily_budget,
            loop_repeats=self.loop_repeats,
            enabled=self.enabled,
        )


@dataclass(frozen=True)
class MultipartConfig:
    SECTION: ClassVar[Section] = Section("multipart")

    timeout: float = key(
        3600.0, c.pos_float, "release a long SMS with a missing part after an hour, flagged"
    )
    max_parts: int = key(40, c.pos_int, "the longest SMS kept whole, in parts")


@dataclass(frozen=True)
class FollowupsConfig:
    """An SMS without a keyword this soon after the sender's last report adds to it."""

    SECTION: ClassVar[Section] = Section(
        "followups",
        intro="""
An SMS WITHOUT a keyword from the same number this many minutes after its last report is
added to that report ("lubangnya besar, dekat SD 5") and forwarded as an update of it
(`update_of`), not counted as a new report. An SMS naming the report (#125 ..., TAMBAH 125 ...)
is added whatever the time, if it is the sender's own report. 0: only named ones join.
A wrongly joined SMS: `sms1708 detach ID`.
""",
    )

    window_minutes: float = key(
        30.0, c.minutes, "0: only SMS that name the report (#125, TAMBAH 125) join"
    )


@dataclass(frozen=True)
class RetentionConfig:
    SECTION: ClassVar[Section] = Section("retention")

    days: float = key(
        365.0,
        c.pos_float,
        "`sms1708 purge` removes personal data from finished complaints (delivered, or handled"
        " locally) older than this (UU 27/2022), and from SMS operators sent, attempt details"
        " and error texts of that age",
    )
    dead_days: float = key(
        730.0,
        c.pos_float,
        "complaints that never got through (dead) are purged after this longer time (at least"
        " `days`); queued/retrying ones never",
    )


@dataclass(frozen=True)
class GrammarConfig:
    """Operator's own tables; empty = the shipped ones (see sms1708/data/*.toml)."""

    SECTION: ClassVar[Section] = Section(
        "grammar", header="your own tables; empty = the shipped ones in sms1708/data/"
    )

    keywords: str = key(
        "",
        c.text,
        'e.g. "/etc/sms1708/keywords.toml" (start from a copy of the shipped file)',
    )
    categories: str = key("", c.text, "category lexicon")
    places: str = key(
        "",
        c.text,
        "gazetteer of kecamatan and desa (the shipped one: Kab. Muara Enim); make yours with"
        " `sms1708 places import FILE --kabupaten 16.03 --out PATH`",
    )


@dataclass(frozen=True)
class SiteConfig:
    SECTION: ClassVar[Section] = Section("site")

    timezone: str = key(
        "Asia/Jakarta",
        c.timezone,
        "the office's zone for stats, charts, exports, reply texts, `status` dates and the daily"
        ' reply budget\'s midnight: WIB | WITA | WIT, an IANA name ("Asia/Makassar") or an'
        ' offset ("+09:00"); not the box\'s own zone',
    )

    def zone(self) -> dt.tzinfo:
        return c.parse_zone(self.timezone)


@dataclass(frozen=True)
class ClockConfig:
    SECTION: ClassVar[Section] = Section(
        "clock", header='time you can trust (README: "Troubleshooting: wrong clock")'
    )

    network_time: bool = key(
        True,
        c.flag,
        "correct the box clock from network time: the modem's clock (with AT+CTZU=1, where the"
        " operator sends time) and SMSC timestamps",
    )
    warn_minutes: float = key(3.0, c.pos_float, '`status` says "box clock off by N" beyond this')


@dataclass(frozen=True)
class DaemonConfig:
    SECTION: ClassVar[Section] = Section("daemon")

    status_file: str = key(
        "", c.text, "empty: /run/sms1708/status.json under systemd, else beside the db"
    )
    metrics_file: str = key(
        "", c.text, 'e.g. "/run/sms1708/metrics.prom" (Prometheus text; off when empty)'
    )
    metrics_interval: float = key(60.0, c.pos_float, "seconds between writes of the metrics file")


@dataclass(frozen=True)
class LogConfig:
    SECTION: ClassVar[Section] = Section("log")

    format: str = key("auto", c.choice("auto", "json", "console"))
    level: str = key("info", c.choice("debug", "info", "warning", "error"))


@dataclass(frozen=True)
class WebConfig:
    """The operator console (`sms1708 web`)."""

    SECTION: ClassVar[Section] = Section(
        "web", header="the operator console: `sms1708 web` (sms1708-web.service)"
    )

    listen: str = key(
        "127.0.0.1:8708",
        c.listen,
        "the box only; for the office LAN put nginx with TLS in front",
    )
    secure_cookies: str = key(
        "auto",
        c.tristate,
        "auto: Secure cookies when the request came over HTTPS (the proxy must send"
        " X-Forwarded-Proto); true: always (the browser then needs HTTPS); false: never",
    )
    trusted_proxy: str = key(
        "127.0.0.1", c.text, "whose X-Forwarded-For / -Proto headers are believed"
    )
    session_minutes: float = key(30.0, c.pos_float, "a login ends after this long without a click")
    session_max_hours: float = key(12.0, c.pos_float, "and after this long in any case")
    language: str = key(
        "id",
        c.choice("id", "en"),
        "default language of the pages (each user can switch)",
    )
    threads: int = key(4, c.pos_int, "requests served at once")


@dataclass(frozen=True)
class Config:
    """The whole file: one field per section, in the example file's order."""

    modems: tuple[ModemConfig, ...] = field(default_factory=lambda: (ModemConfig(),))
    store: StoreConfig = field(default_factory=StoreConfig)
    upstream: UpstreamConfig = field(default_factory=UpstreamConfig)
    lapor: LaporConfig = field(default_factory=LaporConfig)
    replies: RepliesConfig = field(default_factory=RepliesConfig)
    multipart: MultipartConfig = field(default_factory=MultipartConfig)
    followups: FollowupsConfig = field(default_factory=FollowupsConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    grammar: GrammarConfig = field(default_factory=GrammarConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    clock: ClockConfig = field(default_factory=ClockConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    log: LogConfig = field(default_factory=LogConfig)
    web: WebConfig = field(default_factory=WebConfig)
    #: where the values came from (a path, or "built-in defaults"): not a key of the file
    source: str = "built-in defaults"

    @property
    def modem(self) -> ModemConfig:
        """The first (usually the only) modem."""
        return self.modems[0]


def _sections() -> tuple[type, ...]:
    """The section classes, read off :class:`Config`'s fields (``modems`` holds ``[modem]``)."""
    out: list[type] = []
    for f in dataclasses.fields(Config):
        if f.default_factory is not dataclasses.MISSING:
            made = f.default_factory()
            out.append(type(made[0] if isinstance(made, tuple) else made))
    return tuple(out)


#: the sections of the file, in the example file's order
SECTIONS: tuple[type, ...] = _sections()
