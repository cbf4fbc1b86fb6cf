"""SP4N-LAPOR! topics: fetch the topic tree, map local categories to topic ids.

Documented (the LAPOR! data API): ``gettopics`` is a POST with a ``KEYTOKEN`` and answers a
JSON array of ``{"id", "parent", "topic_name"}``, ``parent`` 0 for a top-level topic.

NOT documented where this was written, and so kept here, in one place, to change when the
district holds the spec: how the KEYTOKEN travels (sent here as a ``KEYTOKEN`` request header,
see :data:`KEYTOKEN_HEADER`), the request body (none is sent) and what an error answer looks
like (any non-2xx status is an error; its body is not read). An answer that is not the
documented array is refused whole, never half-stored.

The mapping table (``sms1708/data/lapor-topics.toml``, or the operator's ``[lapor] topic_map``)
names, per local category, LAPOR! topic names (or ids); the first that exists in the synced tree
wins. An id under ``[lapor] topics`` in the configuration wins over the table; a category with
neither gets ``[lapor] default_topic``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from sms1708 import sitetime
from sms1708.config import Config, LaporConfig
from sms1708.errors import ConfigError
from sms1708.store.topics import synced_topics
from sms1708.table_files import read_table

#: how the KEYTOKEN is sent (an assumption: see the module docstring)
KEYTOKEN_HEADER = "KEYTOKEN"
SHIPPED_MAP = "lapor-topics.toml"


class TopicsError(Exception):
    """The topic tree could not be fetched or was not the documented shape."""


@dataclass(frozen=True)
class Topic:
    id: int
    parent: int
    name: str


def _as_int(v: Any, what: str) -> int:
    if isinstance(v, bool):
        raise TopicsError(f"{what} is not a number: {v!r}")
    try:
        return int(v)
    except (TypeError, ValueError):
        raise TopicsError(f"{what} is not a number: {v!r}") from None


def parse_topics(payload: Any) -> list[Topic]:
    """The documented answer -> topics; :class:`TopicsError` for anything else."""
    if not isinstance(payload, list):
        raise TopicsError("the answer is not a JSON array of topics")
    out: list[Topic] = []
    seen: set[int] = set()
    for n, item in enumerate(payload):
        if not isinstance(item, Mapping) or not {"id", "parent", "topic_name"} <= set(item):
            raise TopicsError(f"topic #{n} lacks id, parent or topic_name")
        tid = _as_int(item["id"], f"topic #{n} id")
        name = item["topic_name"]
        if not isinstance(name, str) or not name.strip():
            raise TopicsError(f"topic {tid} has no topic_name")
        if tid in seen:
            raise TopicsError(f"topic id {tid} appears twice")
        seen.add(tid)
        out.append(
            Topic(tid, _as_int(item["parent"], f"topic {tid} parent"), " ".join(name.split()))
        )
    if not out:
        raise TopicsError("the answer holds no topics")
    return out


def fetch_topics(cfg: LaporConfig, *, timeout: float = 20.0, verify: bool = True) -> list[Topic]:
    """POST to ``[lapor] topics_url`` with the KEYTOKEN; the topics of the answer."""
    if not cfg.topics_url:
        raise ConfigError("lapor.topics_url", "is empty: set the gettopics URL of LAPOR!")
    token = cfg.keytoken()
    if not token:
        raise ConfigError(
            "lapor.keytoken_env", f"the environment variable {cfg.keytoken_env!r} is not set"
        )
    try:
        with httpx.Client(timeout=timeout, verify=verify) as client:
            res = client.post(cfg.topics_url, headers={KEYTOKEN_HEADER: token})
    except httpx.HTTPError as e:
        raise TopicsError(f"cannot reach {cfg.topics_url}: {type(e).__name__}") from None
    if not 200 <= res.status_code < 300:
        raise TopicsError(f"{cfg.topics_url} answered HTTP {res.status_code}")
    try:
        payload = res.json()
    except ValueError:
        raise TopicsError("the answer is not JSON") from None
    return parse_topics(payload)


# ----------------------------------------------------------------------------- the mapping


def _norm(name: str) -> str:
    return " ".join(name.lower().replace(",", " ").split())


def map_from_dict(data: Mapping[str, Any]) -> dict[str, tuple[str | int, ...]]:
    """Validate a parsed mapping table: category -> topic names or ids."""
    if set(data) - {"topics"}:
        raise ConfigError(sorted(set(data) - {"topics"})[0], "unknown section (expected topics)")
    table = data.get("topics")
    if not isinstance(table, Mapping) or not table:
        raise ConfigError("topics", "missing: category = [topic names or ids]")
    out: dict[str, tuple[str | int, ...]] = {}
    for cat, items in table.items():
        items = [items] if isinstance(items, str | int) else items
        if not isinstance(items, list) or not items:
            raise ConfigError(f"topics.{cat}", "must be a list of topic names or ids")
        for x in items:
            if (
                isinstance(x, bool)
                or not isinstance(x, str | int)
                or (isinstance(x, str) and not x.strip())
            ):
                raise ConfigError(f"topics.{cat}", f"{x!r} is not a topic name or id")
        out[str(cat)] = tuple(items)
    return out


def load_map(path: str = "") -> dict[str, tuple[str | int, ...]]:
    """The operator's mapping table, or the shipped one."""
    return read_table(path or None, SHIPPED_MAP, map_from_dict)


@dataclass(frozen=True)
class Resolved:
    category: str
    topic: Topic | None  # None: no topic found (the default_topic is sent)
    how: str  # "config" | "map" | "none"


def resolve(
    categories: Sequence[str],
    mapping: Mapping[str, Sequence[str | int]],
    topics: Sequence[Topic],
    cfg: LaporConfig,
) -> list[Resolved]:
    """What each local category is filed under."""
    by_id = {t.id: t for t in topics}
    by_name: dict[str, Topic] = {}
    for t in topics:
        by_name.setdefault(_norm(t.name), t)
    explicit = dict(cfg.topics)
    out: list[Resolved] = []
    for cat in categories:
        if cat in explicit:
            tid = explicit[cat]
            out.append(Resolved(cat, by_id.get(tid, Topic(tid, -1, "?")), "config"))
            continue
        found = None
        for item in mapping.get(cat, ()):
            found = by_id.get(item) if isinstance(item, int) else by_name.get(_norm(item))
            if found is not None:
                break
        out.append(Resolved(cat, found, "map" if found else "none"))
    return out


# ----------------------------------------------------------------------------- the store


def stored_topics(db_path: str) -> list[Topic]:
    """The topic tree as last synced (read-only; empty when never synced or no database)."""
    rows = synced_topics(db_path)
    return [Topic(i, p, n) for i, p, n in rows]


class TopicIds:
    """category -> topic id for the forwarder: the synced tree (re-read at most every
    ``refresh`` seconds, so a sync reaches a running daemon) and the mapping table."""

    def __init__(
        self,
        cfg: Config,
        *,
        refresh: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self.mapping = load_map(cfg.lapor.topic_map)
        self.refresh = refresh
        self.clock = clock
        self._ids: dict[str, int] = {}
        self._at: float | None = None

    def __call__(self, category: str | None) -> int:
        now = self.clock()
        if self._at is None or now - self._at >= self.refresh:
            topics = stored_topics(self.cfg.store.path)
            cats = sorted(set(self.mapping) | {c for c, _ in self.cfg.lapor.topics})
            self._ids = {
                r.category: r.topic.id
                for r in resolve(cats, self.mapping, topics, self.cfg.lapor)
                if r.topic is not None
            }
            self._at = now
        return self._ids.get(category or "", self.cfg.lapor.default_topic)


def tree_lines(topics: Sequence[Topic]) -> list[str]:
    """The tree, children indented under their parent (orphans listed at the top level)."""
    ids = {t.id for t in topics}
    children: dict[int, list[Topic]] = {}
    for t in topics:
        children.setdefault(t.parent if t.parent in ids else 0, []).append(t)
    out: list[str] = []

    def walk(parent: int, depth: int) -> None:
        for t in sorted(children.get(parent, []), key=lambda x: (x.name.lower(), x.id)):
            out.append(f"{t.id:>6}  {'  ' * depth}{t.name}")
            if t.id != parent and depth < 10:
                walk(t.id, depth + 1)

    walk(0, 0)
    return out


def without_topic(resolved: Sequence[Resolved]) -> list[str]:
    """The local categories no topic was found for (their reports go with default_topic)."""
    return [r.category for r in resolved if r.topic is None]


def mapping_report(
    topics: Sequence[Topic],
    resolved: Sequence[Resolved],
    synced_at: float | None,
    default_topic: int,
) -> dict[str, Any]:
    """The stored tree and what each local category is filed under (``lapor topics --json``)."""
    return {
        "synced_at": synced_at,
        "topics": [{"id": t.id, "parent": t.parent, "topic_name": t.name} for t in topics],
        "categories": {
            r.category: {
                "topic_id": r.topic.id if r.topic else None,
                "topic_name": r.topic.name if r.topic else None,
                "from": r.how,
            }
            for r in resolved
        },
        "without_topic": without_topic(resolved),
        "default_topic": default_topic,
    }


def mapping_lines(
    topics: Sequence[Topic],
    resolved: Sequence[Resolved],
    synced_at: float | None,
    default_topic: int,
) -> list[str]:
    """The same as text (``lapor topics``): the tree, then each category and its topic, with
    what to do about a category without one."""
    if not topics:
        out = ["no LAPOR! topics stored yet: run `sms1708 lapor topics --sync`"]
    else:
        when = sitetime.local(synced_at or 0).strftime("%Y-%m-%d %H:%M")
        out = [f"LAPOR! topics (synced {when}): id  topic_name"]
        out += [f"  {line}" for line in tree_lines(topics)]
    out += ["", "local category -> LAPOR! topic"]
    for r in resolved:
        if r.topic is None:
            got = f"!! NO TOPIC (sent with default_topic {default_topic})"
        elif r.topic.parent == -1:  # an id from [lapor] topics that LAPOR! did not list
            note = "  !! not in the synced tree" if topics else ""
            got = f"{r.topic.id}  ([lapor] topics){note}"
        else:
            src = "[lapor] topics" if r.how == "config" else "mapping table"
            got = f"{r.topic.id}  {r.topic.name}  ({src})"
        out.append(f"  {r.category:<28} {got}")
    missing = without_topic(resolved)
    if missing:
        out += [
            "",
            f"{len(missing)} categor{'y' if len(missing) == 1 else 'ies'} without a topic: "
            "edit the mapping table ([lapor] topic_map) or set an id under [lapor] topics",
        ]
    return out
