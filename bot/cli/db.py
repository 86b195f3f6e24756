"""`bouncebot db upgrade` and `bouncebot stats`."""

from __future__ import annotations

import argparse
import json

from bot.cli.context import CliContext
from storage import bulk, queries
from storage.db import current_revisions, head_revisions, make_engine, upgrade_or_explain


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply the schema migrations")
    up.set_defaults(func=cmd_upgrade)
    stats = subparsers.add_parser("stats", help="what the tracking store holds")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=cmd_stats)


def cmd_upgrade(args: argparse.Namespace, ctx: CliContext) -> int:
    engine = make_engine(ctx.settings.database_url)
    try:
        before = current_revisions(engine)
        built = upgrade_or_explain(engine)
        after = current_revisions(engine)
    finally:
        engine.dispose()
    if built:
        print(f"built {len(built)} event indexes an unfinished bulk load had deferred: {', '.join(built)}")
    state = "already current" if before == after else f"upgraded to {', '.join(sorted(after))}"
    print(f"database schema {state} (head {', '.join(sorted(head_revisions()))})")
    return 0


def cmd_stats(args: argparse.Namespace, ctx: CliContext) -> int:
    with ctx.store.session() as session:
        total = queries.total_events(session)
        by_source = queries.counts_by_source(session)
        newest = queries.newest_event_time(session)
    deferred = bulk.deferred_indexes(ctx.store.engine)
    if args.json:
        print(json.dumps({"events": total, "by_source": by_source,
                          "newest_event": newest.isoformat() if newest else None, "deferred_indexes": deferred}))
        return 0
    print(f"events: {total}")
    for source, count in sorted(by_source.items()):
        print(f"  {source}: {count}")
    print(f"newest event: {newest.isoformat() if newest else 'none yet'}")
    if deferred:
        print(f"indexes deferred by a bulk load that has not finished: {', '.join(deferred)} (lookups are slow "
              "until they are built: at the end of that load, by the next `bouncebot ingest`, or by "
              "`bouncebot db upgrade`)")
    return 0
