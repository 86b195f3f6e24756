"""`bouncebot blacklist TARGET...` and `bouncebot blacklist --health`: live DNS block-list checks.

A listing is a finding, not an error: the exit code is 0 whatever the lists say, and 2 only for bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter

from bot.blacklists import BlacklistChecker, InvalidTarget, ListingResult, ZoneHealth, parse_check_target
from bot.blacklists.failures import resolver_problem
from bot.cli.context import CliContext, UsageError
from bot.cli.terminal import wrap

_MAX_TEXT = 70


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("blacklist", help="check IPs and domains on DNS block lists (or --health)")
    p.add_argument("targets", nargs="*", metavar="TARGET", help="IPv4, IPv6 address or domain")
    p.add_argument("--json", action="store_true", help="a JSON list of results")
    p.add_argument("--health", action="store_true", help="check every zone against its RFC 5782 test entries")
    p.add_argument("--timeout", type=float, default=None, help="seconds per zone (default $BOUNCEBOT_DNS_TIMEOUT)")
    p.add_argument("--zones", default=None, metavar="FILE", help="zones file (default $BOUNCEBOT_DNSBL_ZONES)")
    p.set_defaults(func=cmd_blacklist)


def cmd_blacklist(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.targets and not args.health:
        raise UsageError("give at least one IP address or domain, or --health")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    settings = ctx.settings
    if args.timeout is not None:
        settings = dataclasses.replace(settings, dns_timeout=args.timeout)
    if args.zones:
        settings = dataclasses.replace(settings, dnsbl_zones_file=args.zones)
    try:
        for target in args.targets:
            parse_check_target(target)  # bad input is refused before any zone is asked
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from exc
    checker = BlacklistChecker.from_settings(settings)
    verdicts = checker.health() if args.health else []
    results = checker.check(args.targets) if args.targets else []
    if args.json:  # one document: a list, or {"health": [...], "results": [...]} when both were asked
        health_json = [v.to_json() for v in verdicts]
        results_json = [r.to_json() for r in results]
        if args.health and args.targets:
            print(json.dumps({"health": health_json, "results": results_json}, indent=2))
        else:
            print(json.dumps(health_json if args.health else results_json, indent=2))
        return 0
    if args.health:
        print(health_table(verdicts))
    if args.targets:
        print(results_table(results, resolver=checker.resolver_description()))
    return 0


def _clip(text: str, width: int = _MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _detail(result: ListingResult) -> str:
    if result.result == "listed":
        return f"{' '.join(result.codes)} {result.meaning}"
    if result.why:
        return result.why
    return ""


def results_table(results: list[ListingResult], *, resolver: str = "in use") -> str:
    rows = [("TARGET", "ZONE", "RESULT", "CODES / MEANING / WHY", "TXT", "MS")]
    for r in results:
        rows.append((r.target, r.zone, r.result + ("" if r.trustworthy else "!"), _clip(_detail(r)),
                     _clip(r.txt, 50), "cached" if r.cached else f"{r.ms:.0f}"))
    lines = _align(rows)
    for target in dict.fromkeys(r.target for r in results):
        mine = [r for r in results if r.target == target]
        counts = Counter(r.result for r in mine)
        listed = [r.zone for r in mine if r.result == "listed"]
        summary = f"{target}: listed on {counts['listed']} of {len(mine)} lists"
        if listed:
            summary += f" ({', '.join(listed)})"
        if counts["unknown"]:
            summary += f"; {counts['unknown']} could not be checked"
        if counts["not_applicable"]:
            summary += f"; {counts['not_applicable']} do not apply"
        lines.append(summary)
        for r in mine:
            if r.result == "listed" and r.delist_url:
                lines.append(f"    {r.zone}: {r.delist_url}")
    if any(not r.trustworthy for r in results):
        lines.append("! this list failed its RFC 5782 self-test (the row says how), so its answer is not trusted")
    problem = resolver_problem(results, resolver)
    if problem:
        lines.append(wrap(problem))
    return "\n".join(lines)


def health_table(verdicts: list[ZoneHealth]) -> str:
    rows = [("ZONE", "STATE", "WHY", "MS")]
    rows += [(v.zone, v.state, _clip(v.why, 100), f"{v.ms:.0f}") for v in verdicts]
    return "\n".join(_align(rows))


def _align(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
