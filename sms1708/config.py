"""Configuration: TOML file -> frozen dataclasses, validated, with clear errors.

Every problem raises :class:`~sms1708.errors.ConfigError` naming the key (``section.name``) and
what is wrong with it, so the CLI can print one line and exit with code 2.

Where the file comes from: ``--config PATH``, else ``$SMS1708_CONFIG``, else
``/etc/sms1708/sms1708.toml`` when it exists, else the built-in defaults.

Secrets (the upstream token, the signing secret, the SIM PIN) are read from environment
variables whose *names* are configured, never from the file itself.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import re
import string
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sms1708.core.replies import Guard
from sms1708.core.routing import DEFAULT_DESTINATION, ROUTE_KEYS, Route, Routing
from sms1708.errors import ConfigError

DEFAULT_PATH = Path("/etc/sms1708/sms1708.toml")
ENV_VAR = "SMS1708_CONFIG"

T = TypeVar("T")


@dataclass(frozen=True)
class ModemConfig:
    name: str = "modem0"
    family: str = "auto"
    port: str = ""
    baudrate: int = 115200
    rtscts: bool = False
    pin: str = ""
    pin_env: str = "SMS1708_SIM_PIN"
    memories: tuple[str, ...] = ("SM", "ME")
    poll_interval: float = 10.0
    command_timeout: float = 10.0
    list_timeout: float = 60.0
    send_timeout: float = 60.0
    cnmi: tuple[str, ...] = ("2,1,0,2,0", "2,1,0,0,0", "1,1,0,0,0")
    reconnect_max_delay: float = 30.0

    def sim_pin(self) -> str:
        """The PIN from the environment variable named by ``pin_env``, else ``pin``."""
        return os.environ.get(self.pin_env, "") or self.pin


@dataclass(frozen=True)
class StoreConfig:
    path: str = "/var/lib/sms1708/sms1708.db"


@dataclass(frozen=True)
class UpstreamConfig:
    """One destination (``[upstream]`` itself is the one-destination shorthand, and holds the
    defaults of every ``[[upstream.destination]]``)."""

    url: str = ""
    #: the destination's name: in the queue, `status`, `replay --destination`, the metrics
    name: str = DEFAULT_DESTINATION
    #: the tracking id texted to the citizen comes from the primary destination
    primary: bool = False
    #: which complaints go here (default: everything)
    route: Route = field(default_factory=Route)
    profile: str = "generic"
    token_env: str = "SMS1708_UPSTREAM_TOKEN"
    token_file: str = ""
    signing_secret_env: str = "SMS1708_SIGNING_SECRET"
    connect_timeout: float = 5.0
    timeout: float = 20.0
    retry_base: float = 10.0
    retry_cap: float = 1800.0
    max_age_days: float = 30.0
    lease_seconds: float = 120.0
    batch: int = 20
    concurrency: int = 4
    breaker_threshold: int = 5
    breaker_pause: float = 5.0
    breaker_max_pause: float = 300.0
    status_url: str = ""  # e.g. https://host/api/status/{tracking_id}; empty: no polling
    status_interval: float = 3600.0
    status_max_age_days: float = 30.0
    verify_tls: bool = True
    #: the acknowledgement rule: a 2xx whose body is a JSON object; with a field named here,
    #: that field must be in it (at the top level or under ``data``) too
    ack_field: str = ""
    #: answers are read up to this many bytes; a bigger 2xx answer is not an acknowledgement
    max_response_bytes: int = 1 << 20
    #: plain http:// to a host other than this box sends the token and citizens' numbers in
    #: clear; it is refused unless this is set
    allow_insecure: bool = False
    #: ``[[upstream.destination]]`` entries; empty: ``[upstream]`` is the one destination
    destinations: tuple[UpstreamConfig, ...] = ()

    def token(self) -> str:
        """The bearer token: from the variable named by ``token_env``, else ``token_file``.

        A token file must be readable by its owner only (mode 0600), like an SSH key.
        """
        if self.token_env and os.environ.get(self.token_env):
            return os.environ[self.token_env]
        if not self.token_file:
            return ""
        try:
            st = os.stat(self.token_file)
            if st.st_mode & 0o077:
                raise ConfigError(
                    f"{self.where}.token_file",
                    f"{self.token_file} is readable by others (mode {st.st_mode & 0o777:o}); "
                    f"run: chmod 600 {self.token_file}",
                )
            with open(self.token_file, encoding="utf-8") as f:
                return f.read().strip()
        except OSError as e:
            raise ConfigError(
                f"{self.where}.token_file", f"cannot read {self.token_file}: {e}"
            ) from e

    def signing_secret(self) -> str:
        return os.environ.get(self.signing_secret_env, "") if self.signing_secret_env else ""

    @property
    def where(self) -> str:
        """How errors name this destination's keys."""
        if self.name == DEFAULT_DESTINATION:
            return "upstream"
        return f"upstream.destination[{self.name}]"

    def active(self) -> tuple[UpstreamConfig, ...]:
        """The destinations to forward to: the entries, else ``[upstream]`` when it has a url."""
        if self.destinations:
            return self.destinations
        return (replace(self, primary=True),) if self.url else ()

    def routing(self) -> Routing:
        """Every complaint's destinations, for intake (queued even while no url is set)."""
        dests = self.destinations or (self,)
        primary = next((d.name for d in dests if d.primary), dests[0].name)
        return Routing(tuple((d.name, d.route) for d in dests), primary)


@dataclass(frozen=True)
class LaporConfig:
    """The SP4N-LAPOR! profile's mapping (see ``sms1708/upstream/lapor.py``)."""

    topics: tuple[tuple[str, int], ...] = ()  # category -> LAPOR! topic id (wins over the map)
    default_topic: int = 0  # 0: leave the topic to the LAPOR! verifiers
    source: str = "SMS 1708"
    topics_url: str = ""  # the gettopics URL (POST) of the LAPOR! data API
    keytoken_env: str = "SMS1708_LAPOR_KEYTOKEN"  # env var holding the KEYTOKEN
    topic_map: str = ""  # category -> topic names; empty: sms1708/data/lapor-topics.toml

    def keytoken(self) -> str:
        return os.environ.get(self.keytoken_env, "") if self.keytoken_env else ""

    def topic_for(self, category: str | None) -> int:
        return dict(self.topics).get(category or "", self.default_topic)


@dataclass(frozen=True)
class RepliesConfig:
    enabled: bool = True
    language: str = "id"
    own_number: str = ""
    min_sender_digits: int = 8
    block_list: tuple[str, ...] = ()
    per_sender_per_hour: int = 3
    daily_budget: int = 300
    loop_repeats: int = 3
    max_per_hour: int = 200
    notify_tracking: bool = True
    #: seconds a receipt waits for the upstream's tracking id, so that one SMS carries both
    receipt_wait_seconds: float = 5.0
    delivery_reports: bool = True
    retry_base: float = 30.0
    retry_cap: float = 1800.0
    max_attempts: int = 5

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
    timeout: float = 3600.0
    max_parts: int = 40


@dataclass(frozen=True)
class FollowupsConfig:
    """An SMS without a keyword this soon after the sender's last report adds to it."""

    window_minutes: float = 30.0  # 0: only SMS that name the report (#125, TAMBAH 125) join


@dataclass(frozen=True)
class RetentionConfig:
    days: float = 365.0  # finished complaints (delivered, or handled locally)
    dead_days: float = 730.0  # complaints that never got through (dead): longer, not never


@dataclass(frozen=True)
class GrammarConfig:
    """Operator's own tables; empty = the shipped ones (see sms1708/data/*.toml)."""

    keywords: str = ""
    categories: str = ""
    places: str = ""


@dataclass(frozen=True)
class DaemonConfig:
    status_file: str = ""  # empty: $RUNTIME_DIRECTORY/status.json, else next to the database
    metrics_file: str = ""  # empty: no metrics; e.g. /run/sms1708/metrics.prom
    metrics_interval: float = 60.0


#: Indonesia's three zones, by the names operators use
ZONE_ALIASES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
_FIXED = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}


@dataclass(frozen=True)
class SiteConfig:
    #: the office's zone for stats, charts, exports, reply texts and status dates: an IANA
    #: name ("Asia/Makassar"), WIB/WITA/WIT, or a fixed offset ("+08:00")
    timezone: str = "Asia/Jakarta"

    def zone(self) -> dt.tzinfo:
        return parse_zone(self.timezone)


@dataclass(frozen=True)
class ClockConfig:
    network_time: bool = True  # correct the box clock from the modem's clock / SMSC timestamps
    warn_minutes: float = 3.0  # `status` says "box clock off by N" beyond this


def parse_zone(text: str) -> dt.tzinfo:
    """An IANA zone name, WIB/WITA/WIT, or an offset "+07:00" / "+7"."""
    name = ZONE_ALIASES.get(text.strip().upper(), text.strip())
    m = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", name)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
        if minutes > 14 * 60:
            raise ValueError(f"offset out of range: {text!r}")
        sign = -1 if m.group(1) == "-" else 1
        return dt.timezone(dt.timedelta(minutes=sign * minutes), name)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        if name in _FIXED:  # no tz database on the box: Indonesia keeps no summer time
            return dt.timezone(dt.timedelta(hours=_FIXED[name]), name)
        raise ValueError(f"unknown time zone {text!r}") from e


@dataclass(frozen=True)
class WebConfig:
    """The operator console (`sms1708 web`)."""

    listen: str = "127.0.0.1:8708"
    #: "auto": Secure cookies when the request came over HTTPS (through the TLS proxy, which
    #: must send X-Forwarded-Proto); true: always (the browser then needs HTTPS); false: never
    secure_cookies: str = "auto"
    trusted_proxy: str = "127.0.0.1"  # the reverse proxy whose X-Forwarded-* headers count
    session_minutes: float = 30.0  # a session ends after this long without a request
    session_max_hours: float = 12.0  # and after this long in any case
    language: str = "id"  # id | en: the default language of the pages
    threads: int = 4


@dataclass(frozen=True)
class LogConfig:
    format: str = "auto"
    level: str = "info"


@dataclass(frozen=True)
class Config:
    modems: tuple[ModemConfig, ...] = field(default_factory=lambda: (ModemConfig(),))
    store: StoreConfig = field(default_factory=StoreConfig)
    upstream: UpstreamConfig = field(default_factory=UpstreamConfig)
    lapor: LaporConfig = field(default_factory=LaporConfig)
    replies: RepliesConfig = field(default_factory=RepliesConfig)
    multipart: MultipartConfig = field(default_factory=MultipartConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    followups: FollowupsConfig = field(default_factory=FollowupsConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    grammar: GrammarConfig = field(default_factory=GrammarConfig)
    log: LogConfig = field(default_factory=LogConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    clock: ClockConfig = field(default_factory=ClockConfig)
    web: WebConfig = field(default_factory=WebConfig)
    source: str = "built-in defaults"

    @property
    def modem(self) -> ModemConfig:
        """The first (usually the only) modem."""
        return self.modems[0]


# ---------------------------------------------------------------------------------------------
# validation helpers: each takes (key, value) and returns the typed value or raises ConfigError


def _str(key: str, v: Any) -> str:
    if not isinstance(v, str):
        raise ConfigError(key, f"must be a string, got {v!r}")
    return v


def _bool(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(key, f"must be true or false, got {v!r}")
    return v


def _pos_int(key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ConfigError(key, f"must be a positive integer, got {v!r}")
    return v


def _nonneg_float(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
        raise ConfigError(key, f"must be a number >= 0 (seconds), got {v!r}")
    return float(v)


def _pos_float(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
        raise ConfigError(key, f"must be a positive number (seconds), got {v!r}")
    return float(v)


def _str_tuple(key: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise ConfigError(key, f"must be a non-empty list of strings, got {v!r}")
    return tuple(v)


def _str_list(key: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(key, f"must be a list of strings, got {v!r}")
    return tuple(v)


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def check(key: str, v: Any) -> str:
        if v not in choices:
            raise ConfigError(key, f"must be one of {', '.join(choices)}; got {v!r}")
        return str(v)

    return check


BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


def _baud(key: str, v: Any) -> int:
    n = _pos_int(key, v)
    if n not in BAUDRATES:
        raise ConfigError(key, f"must be a standard baud rate ({', '.join(map(str, BAUDRATES))})")
    return n


def _url(key: str, v: Any) -> str:
    s = _str(key, v).strip()
    if s and not (s.startswith("http://") or s.startswith("https://")):
        raise ConfigError(key, f"must start with http:// or https:// (or be empty), got {s!r}")
    return s


def _int(key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ConfigError(key, f"must be a whole number (0 or more), got {v!r}")
    return v


def _minutes(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 7 * 24 * 60:
        raise ConfigError(key, f"must be a number of minutes from 0 to 10080 (a week), got {v!r}")
    return float(v)


def _topics(key: str, v: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(v, Mapping):
        raise ConfigError(key, "must be a table: category = topic id, e.g. { kesehatan = 12 }")
    return tuple((str(k), _int(f"{key}.{k}", i)) for k, i in v.items())


STATUS_PLACEHOLDERS = ("tracking_id", "key")


def _status_url(key: str, v: Any) -> str:
    s = _url(key, v)
    if not s:
        return s
    example = "e.g. https://host/status/{tracking_id}"
    try:
        fields = list(string.Formatter().parse(s))
    except ValueError as e:
        raise ConfigError(key, f"bad braces ({e}); {example}") from None
    names = set()
    for _text, name, spec, conv in fields:
        if name is None:
            continue
        if name not in STATUS_PLACEHOLDERS or spec or conv:
            whole = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            raise ConfigError(
                key, f"unknown placeholder {whole} (use {{tracking_id}} or {{key}}); {example}"
            )
        names.add(name)
    if not names:
        raise ConfigError(key, f"must contain {{tracking_id}} or {{key}}, {example}")
    return s


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_insecure(up: UpstreamConfig, where: str = "upstream") -> None:
    """Plain http:// only to this box itself, or where the operator said so."""
    if up.allow_insecure:
        return
    for key, url in ((f"{where}.url", up.url), (f"{where}.status_url", up.status_url)):
        if url.startswith("http://") and not _loopback(url):
            raise ConfigError(
                key,
                "http:// would send the token and citizens' numbers in clear; use https://"
                f" (or set {where}.allow_insecure = true for a closed office network)",
            )


def _timezone(key: str, v: Any) -> str:
    text = _str(key, v)
    try:
        parse_zone(text)
    except ValueError as e:
        raise ConfigError(key, f'{e} (e.g. "Asia/Jakarta", "WITA" or "+09:00")') from e
    return text


_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_CODE = re.compile(r"[0-9]{2}(\.[0-9]{2,4}){0,3}\.?")
#: keys of [upstream] that are not defaults for its [[upstream.destination]] entries
_OWN_KEYS = ("url", "status_url", "name", "primary", "route", "destination")


def _name(key: str, v: Any) -> str:
    s = _str(key, v)
    if not _NAME.fullmatch(s):
        raise ConfigError(
            key, f"must be a short name of a-z, 0-9, - and _ (e.g. lapor, spikm), got {s!r}"
        )
    return s


def _route(key: str, v: Any) -> Route:
    from sms1708.core.grammar import FORWARDED_KINDS

    if not isinstance(v, Mapping):
        raise ConfigError(key, 'must be a table, e.g. { kinds = ["informasi"] }')
    values: dict[str, tuple[str, ...]] = {}
    for k, items in v.items():
        if k not in ROUTE_KEYS:
            raise ConfigError(f"{key}.{k}", f"unknown key (known keys: {', '.join(ROUTE_KEYS)})")
        values[k] = _str_list(f"{key}.{k}", items)
    for kind in values.get("kinds", ()):
        if kind not in FORWARDED_KINDS:
            known = ", ".join(sorted(FORWARDED_KINDS))
            raise ConfigError(f"{key}.kinds", f"unknown kind {kind!r} (forwarded kinds: {known})")
    for code in values.get("location_codes", ()):
        if not _CODE.fullmatch(code):
            raise ConfigError(
                f"{key}.location_codes",
                f"{code!r} is not a Kemendagri code prefix (e.g. 16.03 or 16.03.01)",
            )
    return Route(**values)


def _destinations(raw: Mapping[str, Any]) -> UpstreamConfig:
    """``[upstream]``, with its ``[[upstream.destination]]`` entries (each inherits the keys
    of ``[upstream]`` that it does not set, except url, status_url, name, primary, route)."""
    for key in ("name", "primary", "route"):
        if key in raw:
            raise ConfigError(
                f"upstream.{key}",
                "belongs in an [[upstream.destination]] entry ([upstream] url is the one"
                " destination named upstream, which takes everything)",
            )
    entries = raw.get("destination")
    base = {k: v for k, v in raw.items() if k != "destination"}
    up: UpstreamConfig = _section("upstream", base)
    if entries is None:
        _check_insecure(up)
        return up
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            "upstream.destination", "must be an array of tables ([[upstream.destination]])"
        )
    if up.url or up.status_url:
        key = "upstream.url" if up.url else "upstream.status_url"
        raise ConfigError(
            key, "use either [upstream] url or [[upstream.destination]] entries, not both"
        )
    inherited = {k: v for k, v in base.items() if k not in _OWN_KEYS}
    dests: list[UpstreamConfig] = []
    for i, entry in enumerate(entries):
        where = f"upstream.destination[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(where, "must be a table")
        for key in ("name", "url"):
            if not entry.get(key):
                raise ConfigError(f"{where}.{key}", "is required for every destination")
        if "destination" in entry:
            raise ConfigError(f"{where}.destination", "destinations do not nest")
        d: UpstreamConfig = _section("upstream", {**inherited, **entry}, prefix=where)
        _check_insecure(d, where)
        dests.append(d)
    names = [d.name for d in dests]
    for n in names:
        if names.count(n) > 1:
            raise ConfigError("upstream.destination", f"two destinations are named {n!r}")
    primaries = [d.name for d in dests if d.primary]
    if len(primaries) > 1:
        raise ConfigError(
            "upstream.destination",
            f"only one destination may be primary; {', '.join(primaries)} all say primary = true",
        )
    if not primaries:
        dests[0] = replace(dests[0], primary=True)
    for i, d in enumerate(dests):
        if d.status_url and not d.primary:
            raise ConfigError(
                f"upstream.destination[{i}].status_url",
                "only the primary destination is asked for status (its tracking id is the"
                " one the citizen knows)",
            )
    return replace(up, destinations=tuple(dests))


def _listen(key: str, v: Any) -> str:
    s = _str(key, v).strip()
    host, sep, port = s.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(key, f"must be HOST:PORT, e.g. 127.0.0.1:8708, got {s!r}")
    return s


def _tristate(key: str, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v in ("auto", "true", "false"):
        return str(v)
    raise ConfigError(key, f'must be true, false or "auto", got {v!r}')


def _memories(key: str, v: Any) -> tuple[str, ...]:
    mems = _str_tuple(key, v)
    for m in mems:
        if m not in ("SM", "ME", "MT", "SR", "BM"):
            raise ConfigError(key, f"unknown SMS storage {m!r} (use SM and/or ME)")
    return mems


_SCHEMA: dict[str, dict[str, Callable[[str, Any], Any]]] = {
    "modem": {
        "name": _str,
        "family": _choice("auto", "huawei", "simcom", "wavecom", "quectel", "zte", "generic"),
        "port": _str,
        "baudrate": _baud,
        "rtscts": _bool,
        "pin": _str,
        "pin_env": _str,
        "memories": _memories,
        "poll_interval": _pos_float,
        "command_timeout": _pos_float,
        "list_timeout": _pos_float,
        "send_timeout": _pos_float,
        "cnmi": _str_tuple,
        "reconnect_max_delay": _pos_float,
    },
    "store": {"path": _str},
    "upstream": {
        "url": _url,
        "name": _name,
        "primary": _bool,
        "route": _route,
        "profile": _choice("generic", "lapor"),
        "token_env": _str,
        "token_file": _str,
        "signing_secret_env": _str,
        "connect_timeout": _pos_float,
        "timeout": _pos_float,
        "retry_base": _pos_float,
        "retry_cap": _pos_float,
        "max_age_days": _pos_float,
        "lease_seconds": _pos_float,
        "batch": _pos_int,
        "concurrency": _pos_int,
        "breaker_threshold": _pos_int,
        "breaker_pause": _pos_float,
        "breaker_max_pause": _pos_float,
        "status_url": _status_url,
        "status_interval": _pos_float,
        "status_max_age_days": _pos_float,
        "verify_tls": _bool,
        "ack_field": _str,
        "max_response_bytes": _pos_int,
        "allow_insecure": _bool,
    },
    "replies": {
        "enabled": _bool,
        "language": _choice("id", "en"),
        "own_number": _str,
        "min_sender_digits": _pos_int,
        "block_list": _str_list,
        "per_sender_per_hour": _pos_int,
        "daily_budget": _pos_int,
        "loop_repeats": _pos_int,
        "max_per_hour": _pos_int,
        "notify_tracking": _bool,
        "receipt_wait_seconds": _nonneg_float,
        "delivery_reports": _bool,
        "retry_base": _pos_float,
        "retry_cap": _pos_float,
        "max_attempts": _pos_int,
    },
    "lapor": {
        "topics": _topics,
        "default_topic": _int,
        "source": _str,
        "topics_url": _url,
        "keytoken_env": _str,
        "topic_map": _str,
    },
    "multipart": {"timeout": _pos_float, "max_parts": _pos_int},
    "retention": {"days": _pos_float, "dead_days": _pos_float},
    "followups": {"window_minutes": _minutes},
    "grammar": {"keywords": _str, "categories": _str, "places": _str},
    "daemon": {"status_file": _str, "metrics_file": _str, "metrics_interval": _pos_float},
    "site": {"timezone": _timezone},
    "clock": {"network_time": _bool, "warn_minutes": _pos_float},
    "web": {
        "listen": _listen,
        "secure_cookies": _tristate,
        "trusted_proxy": _str,
        "session_minutes": _pos_float,
        "session_max_hours": _pos_float,
        "language": _choice("id", "en"),
        "threads": _pos_int,
    },
    "log": {
        "format": _choice("auto", "json", "console"),
        "level": _choice("debug", "info", "warning", "error"),
    },
}

_CLASSES: dict[str, type] = {
    "modem": ModemConfig,
    "store": StoreConfig,
    "upstream": UpstreamConfig,
    "replies": RepliesConfig,
    "lapor": LaporConfig,
    "multipart": MultipartConfig,
    "retention": RetentionConfig,
    "followups": FollowupsConfig,
    "daemon": DaemonConfig,
    "grammar": GrammarConfig,
    "log": LogConfig,
    "site": SiteConfig,
    "clock": ClockConfig,
    "web": WebConfig,
}


def _section(name: str, raw: Any, prefix: str | None = None) -> Any:
    where = prefix or name
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "must be a table")
    schema = _SCHEMA[name]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(f"{where}.{key}", f"unknown key (known keys: {known})")
        values[key] = schema[key](f"{where}.{key}", value)
    return _CLASSES[name](**values)


def from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> Config:
    """Validate a parsed TOML document and build the :class:`Config`."""
    known = {*_SCHEMA, "modems"}
    for key in data:
        if key not in known:
            raise ConfigError(key, f"unknown section (known: {', '.join(sorted(known))})")
    if "modem" in data and "modems" in data:
        raise ConfigError("modems", "use either [modem] or [[modems]], not both")
    if "modems" in data:
        raw_list = data["modems"]
        if not isinstance(raw_list, list) or not raw_list:
            raise ConfigError("modems", "must be a non-empty array of tables ([[modems]])")
        modems = tuple(_section("modem", m, prefix=f"modems[{i}]") for i, m in enumerate(raw_list))
        names = [m.name for m in modems]
        if len(set(names)) != len(names):
            raise ConfigError("modems", f"every modem needs its own name; got {names}")
    else:
        modems = (_section("modem", data.get("modem", {})),)
    kwargs: dict[str, Any] = {"modems": modems, "source": source}
    up_raw = data.get("upstream", {})
    if not isinstance(up_raw, Mapping):
        raise ConfigError("upstream", "must be a table")
    kwargs["upstream"] = _destinations(up_raw)
    for name in (
        "store",
        "lapor",
        "replies",
        "multipart",
        "retention",
        "followups",
        "daemon",
        "grammar",
        "log",
        "site",
        "clock",
        "web",
    ):
        kwargs[name] = _section(name, data.get(name, {}))
    cfg = Config(**kwargs)
    if not cfg.store.path:
        raise ConfigError("store.path", "must not be empty")
    if cfg.retention.dead_days < cfg.retention.days:
        raise ConfigError(
            "retention.dead_days",
            f"must be at least retention.days ({cfg.retention.days:g}): a complaint that never"
            " got through is kept longer than a finished one, for operators to replay",
        )
    return cfg


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the configuration from ``path`` (or the usual places, see module docstring)."""
    if path is None:
        env = os.environ.get(ENV_VAR)
        if env:
            path = env
        elif DEFAULT_PATH.exists():
            path = DEFAULT_PATH
        else:
            return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("--config", f"file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("--config", f"cannot read {p}: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("--config", f"{p} is not valid TOML: {e}") from None
    return from_mapping(data, source=str(p))
