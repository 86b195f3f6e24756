"""`bouncebot dns TARGET [--ip IP] [--json]`: MX, SPF, DMARC, DKIM, PTR/FCrDNS and block lists of a domain.

Problems are findings, not errors: the exit code is 0 whatever DNS says, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json

from bot.auth.dkim import selectors_in_headers
from bot.auth.health import check_health
from bot.auth.runner import AuthChecker
from bot.blacklists import BlacklistChecker
from bot.cli.context import CliContext, UsageError
from bot.render.dns import dns_text


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dns", help="DNS health of a sending domain: MX, SPF, DMARC, DKIM, PTR, block lists")
    p.add_argument("target", help="domain (or an address: its domain; or an IP: its PTR and block lists)")
    p.add_argument("--ip", action="append", default=[], metavar="IP",
                   help="sending IP to evaluate SPF and PTR for (repeatable; default $BOUNCEBOT_OUTBOUND_IPS)")
    p.add_argument("--selector", action="append", default=[], metavar="SEL",
                   help="DKIM selector to look up (repeatable; also $BOUNCEBOT_DKIM_SELECTORS)")
    p.add_argument("--headers", metavar="FILE", default=None,
                   help="a message or bounce whose DKIM-Signature headers name the selectors to check")
    p.add_argument("--no-blacklists", action="store_true", help="skip the block-list checks")
    p.add_argument("--json", action="store_true", help="print the result as JSON (docs/authentication.md)")
    p.set_defaults(func=cmd_dns)


def cmd_dns(args: argparse.Namespace, ctx: CliContext) -> int:
    settings = ctx.settings
    checker = AuthChecker.from_settings(settings)
    listings = None if args.no_blacklists else BlacklistChecker.from_settings(settings)
    selectors = list(args.selector)
    if args.headers:
        with open(args.headers, encoding="utf-8", errors="replace") as handle:
            signed = selectors_in_headers(handle.read())
        selectors += [s for d, s in signed if _same_domain(d, args.target)]
    try:
        health = check_health(checker, args.target, ips=args.ip, selectors=selectors, blacklists=listings,
                              outbound_ips=settings.outbound_ips)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(json.dumps(health.to_json(), indent=2) if args.json else dns_text(health.to_json()))
    return 0


def _same_domain(signing_domain: str, target: str) -> bool:
    return signing_domain == target.strip().lower().rstrip(".").rsplit("@", 1)[-1]
