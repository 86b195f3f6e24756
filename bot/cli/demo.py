"""`bouncebot demo`: ingest the sample Postfix log that ships with bouncebot and answer "why" for a few senders.

The newcomer's first run, without Slack: it uses the configured store (an SQLite file by default).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select

from bot.cli import terminal
from bot.cli.context import CliContext
from bot.diagnosis import diagnose
from bot.ingest.runner import Ingestor
from bot.render.text import render_text
from bot.targets import parse_target
from storage.models import Event

SAMPLE = "sample-maillog.log"
#: Senders of the sample log worth asking about, one per kind of answer.
DEMO_TARGETS = ("info@cheap-pills.example", "k.ito@osaka-trading.example", "nina.berg@example-corp.test")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="ingest the bundled sample log and answer 'why' for a few senders")
    p.add_argument("targets", nargs="*", help="what to ask about (default: a few senders of the sample)")
    p.set_defaults(func=cmd_demo)


def sample_path() -> Path:
    return Path(str(resources.files("bot") / "data" / SAMPLE))


def cmd_demo(args: argparse.Namespace, ctx: CliContext) -> int:
    path = sample_path()
    print(f"$ bouncebot ingest postfix {path}")
    result = Ingestor(ctx.store, "postfix").ingest(path)
    print(f"{result.stats.lines} lines read, {result.new_events} new events"
          f"{' (already ingested earlier)' if result.stats.lines and not result.new_events else ''}")
    with ctx.store.session() as session:
        first = session.scalar(select(func.min(Event.time)).where(Event.source == "postfix"))
        for text in args.targets or DEMO_TARGETS:
            target = parse_target(text)
            print(f"\n$ bouncebot why {text}\n")
            # The sample may be older than the retention window: search from its first line on.
            since = first - timedelta(minutes=1) if first else None
            print(render_text(diagnose(session, target, settings=ctx.settings, since=since), terminal.width()))
    print(f"\nThe events are in {ctx.settings.database_url}. Try: bouncebot events <sender>, "
          "bouncebot why <sender> --json, bouncebot blacklist <ip>.")
    return 0
