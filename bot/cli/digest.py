"""`bouncebot digest`: print the digest of a day in the terminal, write its chart, or post it to Slack."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.context import CliContext, UsageError
from bot.digest.chart import render_chart
from bot.digest.period import Period, default_period, resolve_zone
from bot.digest.post import build_digest, publish
from bot.digest.render import render_text
from bot.ports import Chat, ChatError
from bot.timeutil import parse_day


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("digest", help="the digest of blocked and bounced mail for a day")
    p.add_argument("--date", default=None, help="local day YYYY-MM-DD (default: yesterday in the digest's zone)")
    p.add_argument("--week", action="store_true", help="the 7 days ending with --date instead of one day")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--print", dest="post", action="store_false", help="print it as text (the default)")
    mode.add_argument("--post", dest="post", action="store_true", help="post it to Slack (not counted as the daily)")
    p.add_argument("--chart", metavar="FILE", default=None, help="also write the chart as PNG to FILE")
    p.add_argument("--channel", default=None, help="channel to post to (default: the first digest channel)")
    p.add_argument("--json", action="store_true", help="print the content as JSON instead of text")
    p.set_defaults(func=cmd_digest, post=False)


def _chat(ctx: CliContext) -> Chat:
    """The Slack client, from the composition root (bot/app.py): bot/ itself never imports the Slack SDK."""
    from bot.app import make_chat  # imported here: the other digest modes never load slack_bolt

    return make_chat(ctx.settings)


def cmd_digest(args: argparse.Namespace, ctx: CliContext) -> int:
    zone = resolve_zone(ctx.settings.digest_timezone)
    days = 7 if args.week else 1
    try:
        period = Period(parse_day(args.date), days) if args.date else default_period(datetime.now(UTC), zone, days)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    channel = args.channel or next((c.partition(":")[0] for c in ctx.settings.digest_channels), None)
    if args.post and not channel:
        raise UsageError("--post needs --channel or BOUNCEBOT_DIGEST_CHANNELS")
    chat = _chat(ctx) if args.post else None
    digest = build_digest(ctx.store, ctx.settings, period, zone=zone)
    if args.chart:
        path = render_chart(digest, Path(args.chart))
        if not args.json:
            print(f"chart written to {path}")
    if chat is not None and channel:
        try:
            posted = publish(chat, channel, digest)
        except ChatError as exc:
            print(f"bouncebot digest: {exc}", file=sys.stderr)
            return 1
        note = "" if posted.chart_uploaded or digest.empty else ", chart not uploaded (see the log)"
        print(f"posted to {channel} (ts {posted.ts}){note}")
        return 0
    if args.json:
        print(json.dumps(digest.to_json(), indent=2))
    else:
        print(render_text(digest), end="")
    return 0
