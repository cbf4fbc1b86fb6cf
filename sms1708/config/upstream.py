"""The declaration of ``[upstream]`` (and its ``[[upstream.destination]]`` entries) and
``[lapor]``: every key once, with its default, its check and what it means."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import ClassVar

from sms1708.config import checks as c
from sms1708.config.keys import Section, key
from sms1708.core.routing import DEFAULT_DESTINATION, Route, Routing
from sms1708.errors import ConfigError

_DESTINATIONS = """
--- Several destinations ------------------------------------------------------------------
One SMS may need to reach more than one place ("no wrong door"). Instead of [upstream] url,
list [[upstream.destination]] entries; every key of [upstream] above is the default for each
entry (url and status_url excepted). Each destination has its own queue row per complaint,
its own retries, breaker and concurrency: one being down never holds back another. The
complaint's `id` (Idempotency-Key) is the same for all. A complaint goes to every destination
whose `route` takes it (kinds, categories, kecamatan names, Kemendagri code prefixes; within a
list any entry matches, every list given must match; no route: everything); one that no route
takes goes to the primary. The tracking id texted to the citizen comes from the primary
(`primary = true`, default: the first entry), the only one asked for status (status_url).
Complaints queued before a switch from [upstream] url belong to the destination "upstream":
name the entry that replaces it "upstream" to keep them flowing.

Example: Muara Enim, SP4N-LAPOR! (everything) + the district's SPIKM (complaints and
aspirations from two kecamatan) + the PPID (information requests):

BEGIN EXAMPLE: several destinations
[[upstream.destination]]
name = "lapor"
primary = true
url = "https://api.lapor.go.id/v1/complaints"
profile = "lapor"
token_env = "SMS1708_LAPOR_TOKEN"
status_url = "https://api.lapor.go.id/v1/complaints/{tracking_id}"
ack_field = "tracking_id"

[[upstream.destination]]
name = "spikm"
url = "https://spikm.muaraenimkab.go.id/api/sms1708"
token_env = "SMS1708_SPIKM_TOKEN"
signing_secret_env = "SMS1708_SPIKM_SECRET"
concurrency = 2
route = { kinds = ["pengaduan", "aspirasi"], kecamatan = ["Lawang Kidul", "Tanjung Agung"] }

[[upstream.destination]]
name = "ppid"
url = "https://ppid.muaraenimkab.go.id/api/permohonan"
token_env = "SMS1708_PPID_TOKEN"
max_age_days = 14.0
route = { kinds = ["informasi"] }
END EXAMPLE
"""


@dataclass(frozen=True)
class UpstreamConfig:
    """One destination (``[upstream]`` itself is the one-destination shorthand, and holds the
    defaults of every ``[[upstream.destination]]``)."""

    SECTION: ClassVar[Section] = Section("upstream", after=_DESTINATIONS)

    url: str = key("", c.url, "empty: keep everything queued (nothing is lost)")
    name: str = key(
        DEFAULT_DESTINATION,
        c.name,
        "the destination's name: in the queue, `status`, `replay --destination`, the metrics",
        in_file=False,
    )
    primary: bool = key(
        False,
        c.flag,
        "the tracking id texted to the citizen comes from the primary destination",
        in_file=False,
    )
    route: Route = key(  # noqa: RUF009 - Route is frozen: one shared default is safe
        Route(), c.route, "which complaints go here (default: everything)", in_file=False
    )
    profile: str = key(
        "generic",
        c.choice(
            "generic", "lapor", generic="documented JSON webhook", lapor="SP4N-LAPOR! mapping"
        ),
    )
    token_env: str = key("SMS1708_UPSTREAM_TOKEN", c.text, "env var holding the bearer token")
    token_file: str = key("", c.text, "... or a file holding it (must be mode 0600)")
    signing_secret_env: str = key(
        "SMS1708_SIGNING_SECRET", c.text, "env var holding the HMAC signing secret"
    )
    connect_timeout: float = key(5.0, c.pos_float, "seconds to open the connection")
    timeout: float = key(
        20.0, c.pos_float, "the whole request, connect to last byte (not per read)"
    )
    retry_base: float = key(10.0, c.pos_float, "first retry after up to 10 s, doubling ...")
    retry_cap: float = key(1800.0, c.pos_float, "... up to 30 minutes between attempts")
    max_age_days: float = key(
        30.0,
        c.pos_float,
        "after this, an undelivered complaint goes to `dead` (never deleted)",
    )
    lease_seconds: float = key(
        120.0, c.pos_float, "a claimed complaint goes back to the queue if not finished by then"
    )
    batch: int = key(20, c.pos_int, "complaints claimed per round")
    concurrency: int = key(
        4, c.pos_int, "requests in flight at once (one keep-alive connection each)"
    )
    breaker_threshold: int = key(
        5, c.pos_int, "failures in a row that pause sending (circuit breaker) ..."
    )
    breaker_pause: float = key(
        5.0, c.pos_float, "... for 5 s, doubling while the probes keep failing ..."
    )
    breaker_max_pause: float = key(300.0, c.pos_float, "... up to 5 minutes")
    status_url: str = key(
        "",
        c.status_url,
        "optional: GET this for each delivered complaint's status, e.g."
        ' "https://host/api/status/{tracking_id}" (JSON {"status": "..."}); a changed status'
        " is texted to the citizen",
    )
    status_interval: float = key(3600.0, c.pos_float, "ask again after this many seconds ...")
    status_max_age_days: float = key(
        30.0, c.pos_float, "... for complaints delivered within this many days"
    )
    verify_tls: bool = key(True, c.flag, "check the upstream's HTTPS certificate")
    ack_field: str = key(
        "",
        c.text,
        "a 2xx counts as delivered only with a JSON object body; name a field here (e.g."
        ' "tracking_id") to require it in that object too (at the top level or under data)',
    )
    max_response_bytes: int = key(
        1 << 20,
        c.pos_int,
        "answers are read up to this; a bigger 2xx is not an acknowledgement",
    )
    allow_insecure: bool = key(
        False,
        c.flag,
        "http:// is refused (token and numbers in clear) except to this box itself (127.0.0.1,"
        " localhost); true allows it on a closed network",
    )
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

    SECTION: ClassVar[Section] = Section(
        "lapor", header='only for upstream.profile = "lapor"; see sms1708/upstream/lapor.py'
    )

    topics: tuple[tuple[str, int], ...] = key(
        (),
        c.topics,
        "category -> LAPOR! topic id (ask the admin); wins over topic_map",
        shown="{ infrastruktur = 0, kesehatan = 0 }",
        commented=True,
    )
    default_topic: int = key(0, c.whole, "0: the LAPOR! verifiers choose the topic")
    source: str = key("SMS 1708", c.text, "the channel named in each report")
    topics_url: str = key(
        "",
        c.url,
        "the gettopics URL (POST) of the LAPOR! data API (`sms1708 lapor topics --sync`)",
    )
    keytoken_env: str = key(
        "SMS1708_LAPOR_KEYTOKEN", c.text, "env var holding the KEYTOKEN for gettopics"
    )
    topic_map: str = key(
        "",
        c.text,
        "category -> LAPOR! topic names; empty = sms1708/data/lapor-topics.toml",
    )

    def keytoken(self) -> str:
        return os.environ.get(self.keytoken_env, "") if self.keytoken_env else ""

    def topic_for(self, category: str | None) -> int:
        return dict(self.topics).get(category or "", self.default_topic)
