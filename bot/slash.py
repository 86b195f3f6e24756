"""What `/bounce ...` asks for: help, the approved list, the open cases, a digest, or a target with a window."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date, datetime

from bot.auth.health import parse_dns_target
from bot.freetext import plain_text
from bot.targets import Target, parse_target
from bot.timeutil import parse_day, parse_since

SUBCOMMANDS = ("help", "approved", "cases", "digest", "dns", "report")


@dataclass(frozen=True)
class BounceCommand:
    """kind: help | approved | cases | digest | dns | report | diagnose | invalid (then `error` says why)."""

    kind: str
    target: Target | None = None
    since: datetime | None = None
    day: date | None = None
    error: str | None = None
    dns_target: str | None = None
    dns_ip: str | None = None
    period: str | None = None  # report: the day as given (YYYY-MM-DD, today, yesterday), read in the report's zone


def parse_bounce(text: str, *, now: datetime | None = None) -> BounceCommand:
    """Parse the text after /bounce; never raises (bad input comes back as kind 'invalid')."""
    words = plain_text(text).split()
    if not words or words[0].lower() in ("help", "-h", "--help", "?"):
        return BounceCommand("help") if words else BounceCommand("invalid", error="nothing to look up")
    head = words[0].lower()
    if head in ("approved", "cases"):
        if len(words) > 1:
            return BounceCommand("invalid", error=f"`{head}` takes no arguments")
        return BounceCommand(head)
    if head == "digest":
        if len(words) > 2:
            return BounceCommand("invalid", error="`digest` takes at most a date (YYYY-MM-DD)")
        try:
            day = parse_day(words[1]) if len(words) == 2 else None
        except ValueError as exc:
            return BounceCommand("invalid", error=str(exc))
        return BounceCommand("digest", day=day)
    if head == "dns":
        return _parse_dns(words[1:])
    if head == "report":
        return _report(words)
    if len(words) > 2:
        return BounceCommand("invalid", error="give one target and at most a window, e.g. `alice@partner.example 7d`")
    try:
        target = parse_target(words[0])
        since = parse_since(words[1], now=now) if len(words) == 2 else None
    except ValueError as exc:
        return BounceCommand("invalid", error=str(exc))
    return BounceCommand("diagnose", target=target, since=since)


def _parse_dns(args: list[str]) -> BounceCommand:
    """`dns TARGET [IP]`: a domain (or address, or IP) and optionally the sending IP to evaluate SPF for."""
    if not 1 <= len(args) <= 2:
        return BounceCommand("invalid", error="`dns` takes a domain and at most a sending IP, "
                                              "e.g. `dns example.com 192.0.2.1`")
    try:
        parse_dns_target(args[0])
    except ValueError as exc:
        return BounceCommand("invalid", error=str(exc))
    try:
        ip = str(ipaddress.ip_address(args[1])) if len(args) == 2 else None
    except ValueError:
        return BounceCommand("invalid", error=f"`{args[1]}` is not an IP address")
    return BounceCommand("dns", dns_target=args[0], dns_ip=ip)


def _report(words: list[str]) -> BounceCommand:
    """`report [YYYY-MM-DD | today | yesterday]`."""
    if len(words) > 2:
        return BounceCommand("invalid", error="`report` takes at most a day (YYYY-MM-DD, today or yesterday)")
    word = words[1] if len(words) == 2 else None
    if word is not None and word.lower() not in ("today", "yesterday"):
        try:
            parse_day(word)
        except ValueError as exc:
            return BounceCommand("invalid", error=str(exc))
    return BounceCommand("report", period=word)
