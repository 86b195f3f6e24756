"""`bouncebot report`: pflogsumm's traffic report (totals, per hour or day, domains, top lists, problems, the
deferred queue) computed from the store, as text or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.context import CliContext, UsageError
from bot.report.chart import render_hours_chart
from bot.report.service import make_report, resolve_days, today_in
from bot.report.text import render_text


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="the traffic report (pflogsumm's figures) of a day or a period")
    p.add_argument("--date", default=None,
                   help="local day YYYY-MM-DD, 'today', 'yesterday' or 3d (default: yesterday, in the digest's zone)")
    p.add_argument("--since", default=None, help="first local day of a period (YYYY-MM-DD or e.g. 7d)")
    p.add_argument("--until", default=None, help="last local day of the period (default: today)")
    p.add_argument("--json", action="store_true", help="print JSON (fields: docs/report.md)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="rows in each top list (default 10)")
    p.add_argument("--chart", metavar="FILE", default=None, help="also write the per-hour chart as PNG to FILE")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.top < 1 or args.top > 1000:
        raise UsageError("--top must be between 1 and 1000")
    try:
        first, last = resolve_days(args.date, args.since, args.until, today=today_in(ctx.settings))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    report = make_report(ctx.store, ctx.settings, first, last, top=args.top)
    if args.chart:
        render_hours_chart(report, Path(args.chart))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render_text(report), end="")
        if args.chart:
            print(f"chart written to {args.chart}")
    return 0
