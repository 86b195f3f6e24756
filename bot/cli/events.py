"""`bouncebot events TARGET` and `bouncebot purge`: look at and trim the tracking store."""

from __future__ import annotations

import argparse
import json

from bot.cli.context import CliContext, UsageError, positive_int
from bot.render.numbers import count
from bot.targets import parse_target
from bot.timeutil import parse_duration, parse_since, utcnow
from storage import queries
from storage.models import Event

_COLUMNS = ("time", "direction", "disposition", "sender", "recipient", "client_ip", "smtp_code",
            "enhanced_status", "reason", "cause", "dnsbl_zone", "reply_text")
_JSON_FIELDS = (*_COLUMNS, "source", "source_key", "client_host", "helo", "relay", "message_id", "queue_id",
                "size", "nrcpt", "stage", "rejected_by")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("events", help="list the tracking events for a target")
    p.add_argument("target", help="sender address, domain, IP, message-id (msgid:...), queue:ID or to:ADDRESS")
    p.add_argument("--since", default=None, help="how far back, e.g. 7d, 12h or 2026-11-01 (default: 30d)")
    p.add_argument("--limit", type=positive_int, default=200, help="at most this many events (default 200)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_events)
    purge = subparsers.add_parser("purge", help="delete events older than the retention")
    purge.add_argument("--older-than", default=None, help="e.g. 30d (default: the retention setting)")
    purge.set_defaults(func=cmd_purge)


def event_dict(event: Event) -> dict[str, object]:
    data: dict[str, object] = {}
    for name in _JSON_FIELDS:
        value = getattr(event, name)
        data[name] = value.isoformat() if name == "time" else value
    return data


def cmd_events(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        target = parse_target(args.target)
        since = parse_since(args.since or f"{ctx.settings.retention_days}d")
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    with ctx.store.session() as session:
        rows = queries.events_for(session, target.kind, target.value, since=since, limit=args.limit)
    if args.json:
        for event in rows:
            print(json.dumps(event_dict(event)))
        return 0
    if not rows:
        print(f"no events for {target.kind} {target.value} since {since:%Y-%m-%d %H:%M} UTC")
        return 0
    for event in rows:
        code = " ".join(str(x) for x in (event.smtp_code, event.enhanced_status) if x)
        who = f"{event.sender or '<>'} -> {event.recipient or '-'}"
        print(f"{event.time:%Y-%m-%d %H:%M:%S} {event.direction:8} {event.disposition:9} {who}"
              f" [{event.client_ip or '-'}] {code} {event.reason or ''}/{event.cause or ''}"
              f"{' zone=' + event.dnsbl_zone if event.dnsbl_zone else ''}")
        if event.reply_text:
            print(f"    {event.reply_text[:300]}")
    print(f"{count(len(rows), 'event')}{' (limit reached)' if len(rows) == args.limit else ''}")
    return 0


def cmd_purge(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        age = parse_duration(args.older_than or f"{ctx.settings.retention_days}d")
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not age:
        raise UsageError("--older-than 0 would delete every event; give an age such as 30d")
    cutoff = utcnow() - age
    with ctx.store.session() as session:
        removed = queries.purge_older_than(session, cutoff)
    print(f"purged {count(removed, 'event')} older than {cutoff:%Y-%m-%d %H:%M} UTC")
    return 0
