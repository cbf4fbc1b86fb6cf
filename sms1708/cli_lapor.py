"""``sms1708 lapor``: the SP4N-LAPOR! topic tree and what each local category is filed under."""

from __future__ import annotations

import click

from sms1708 import sitetime
from sms1708.cli import EXIT_ATTENTION, EXIT_CONFIG, emit_json, fail, get_config, open_store
from sms1708.errors import ConfigError


@click.group("lapor")
def lapor() -> None:
    """SP4N-LAPOR! (the national complaint system): topics."""


@lapor.command("topics")
@click.option("--sync", is_flag=True, help="Fetch the topic tree from LAPOR! first and keep it.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def lapor_topics(ctx: click.Context, sync: bool, as_json: bool) -> None:
    """List the LAPOR! topic tree (as last synced) and the topic of each local category.

    Exit code 1 when a local category has no topic (its reports go with [lapor] default_topic).
    """
    from sms1708.table_files import load_tables
    from sms1708.upstream import lapor_topics as lt

    cfg = get_config(ctx)
    store = open_store(ctx, create=True)
    if sync:
        try:
            fetched = lt.fetch_topics(cfg.lapor, verify=cfg.upstream.verify_tls)
        except ConfigError as e:
            fail(str(e), EXIT_CONFIG)
        except lt.TopicsError as e:
            fail(f"topics not synced (the stored tree is unchanged): {e}", EXIT_ATTENTION)
        store.topics.replace([(t.id, t.parent, t.name) for t in fetched], now=sitetime.now())
        top = sum(1 for t in fetched if t.parent == 0)
        if not as_json:
            click.echo(f"synced {len(fetched)} LAPOR! topics ({top} top level)")
    topics = [lt.Topic(i, p, n) for i, p, n in store.topics.all()]
    synced_at = store.topics.synced_at()
    try:
        mapping = lt.load_map(cfg.lapor.topic_map)
        g = cfg.grammar
        categories = list(load_tables(g.keywords or None, g.categories or None).lexicon.categories)
    except ConfigError as e:
        fail(str(e), EXIT_CONFIG)
    resolved = lt.resolve(categories, mapping, topics, cfg.lapor)
    missing = [r.category for r in resolved if r.topic is None]
    if as_json:
        emit_json(
            {
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
                "without_topic": missing,
                "default_topic": cfg.lapor.default_topic,
            }
        )
    else:
        if not topics:
            click.echo("no LAPOR! topics stored yet: run `sms1708 lapor topics --sync`")
        else:
            when = sitetime.local(synced_at or 0).strftime("%Y-%m-%d %H:%M")
            click.echo(f"LAPOR! topics (synced {when}): id  topic_name")
            for line in lt.tree_lines(topics):
                click.echo(f"  {line}")
        click.echo("")
        click.echo("local category -> LAPOR! topic")
        for r in resolved:
            if r.topic is None:
                got = f"!! NO TOPIC (sent with default_topic {cfg.lapor.default_topic})"
            elif r.topic.parent == -1:  # an id from [lapor] topics that LAPOR! did not list
                note = "  !! not in the synced tree" if topics else ""
                got = f"{r.topic.id}  ([lapor] topics){note}"
            else:
                src = "[lapor] topics" if r.how == "config" else "mapping table"
                got = f"{r.topic.id}  {r.topic.name}  ({src})"
            click.echo(f"  {r.category:<28} {got}")
        if missing:
            click.echo("")
            click.echo(
                f"{len(missing)} categor{'y' if len(missing) == 1 else 'ies'} without a topic: "
                "edit the mapping table ([lapor] topic_map) or set an id under [lapor] topics"
            )
    if missing:
        ctx.exit(EXIT_ATTENTION)
