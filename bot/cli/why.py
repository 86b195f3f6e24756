"""`bouncebot why TARGET`: the diagnosis in the terminal (text or JSON)."""

from __future__ import annotations

import argparse
import json

from bot.cli import terminal
from bot.cli.context import CliContext, UsageError
from bot.diagnosis import diagnose
from bot.diagnosis.contacts import soa_lookup_from_settings
from bot.diagnosis.live import checker_from_settings
from bot.render.text import render_text
from bot.targets import parse_target
from bot.timeutil import parse_since


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("why", help="why did mail from TARGET bounce? (address, domain, IP, message-id)")
    p.add_argument("target", help="sender address, domain, IP or message-id (<id@host> or msgid:id)")
    p.add_argument("--since", default=None, help="how far back, e.g. 7d, 12h or 2026-11-01 (default: the retention)")
    p.add_argument("--until", default=None, help="end of the window (default: now)")
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON (docs/diagnosis-json.md)")
    p.add_argument("--no-live", action="store_true", help="skip the live DNS checks (block lists, SOA contact)")
    p.set_defaults(func=cmd_why)


def cmd_why(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        target = parse_target(args.target)
        since = parse_since(args.since) if args.since else None
        until = parse_since(args.until) if args.until else None
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if since and until and since >= until:
        raise UsageError(f"--since ({since:%Y-%m-%d %H:%M} UTC) is not before --until ({until:%Y-%m-%d %H:%M} UTC): "
                         "the window is empty; --since is the older end, e.g. --since 7d --until 1d")
    settings = ctx.settings
    checker = None if args.no_live else checker_from_settings(settings)
    soa = None if args.no_live else soa_lookup_from_settings(settings)
    with ctx.store.session() as session:
        diagnosis = diagnose(session, target, settings=settings, since=since, until=until,
                             checker=checker, soa_lookup=soa)
    print(json.dumps(diagnosis.to_json(), indent=2) if args.json else render_text(diagnosis, terminal.width()))
    return 0
