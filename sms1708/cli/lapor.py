"""``sms1708 lapor``: the SP4N-LAPOR! topic tree and what each local category is filed under."""

from __future__ import annotations

import click

from sms1708 import sitetime
from sms1708.cli.common import EXIT_ATTENTION, EXIT_CONFIG, emit_json, fail, get_config, open_store
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
    shown = (topics, resolved, synced_at, cfg.lapor.default_topic)
    if as_json:
        emit_json(lt.mapping_report(*shown))
    else:
        for line in lt.mapping_lines(*shown):
            click.echo(line)
    if lt.without_topic(resolved):
        ctx.exit(EXIT_ATTENTION)
