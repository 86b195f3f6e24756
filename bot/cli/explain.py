"""`bouncebot explain FILE... [--json]`: read bounce messages and say, per recipient, why it bounced.

Needs no database. Each file is read on its own: a file that cannot be read or holds no bounce gets one
line on stderr and the others are still explained; the exit code is 1 when any file failed. A bounce refused
for authentication or reverse DNS gets the live checks (bot.bounce_auth) unless --no-live.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.bounce import BadMessage, Bounce, NotABounce, RecipientResult, explain_bounces
from bot.bounce_auth import BounceAuth, check_bounces
from bot.cli.context import CliContext
from bot.reasons import DESCRIPTIONS
from bot.render.auth import auth_text_lines
from bot.render.numbers import count

#: Read at most this much of a file: bounces are small, and a huge file is not one.
_MAX_BYTES = 20 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("explain", help="explain bounce messages (.eml files, DSNs, plain-text bounces)")
    p.add_argument("files", nargs="+", metavar="FILE", help="bounce message files ('-' reads standard input)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per file (JSON Lines): {file, recipients: [...], authentication} "
                        "or {file, error}")
    p.add_argument("--no-live", action="store_true",
                   help="skip the live SPF/DMARC/DKIM/PTR checks of bounces refused for authentication")
    p.set_defaults(func=cmd_explain)


def read_file(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read(_MAX_BYTES + 1)
    with Path(name).open("rb") as handle:
        return handle.read(_MAX_BYTES + 1)


def explain_file(name: str) -> tuple[list[Bounce], str | None]:
    """(bounces, None) or ([], the one-line reason the file could not be explained)."""
    try:
        data = read_file(name)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        return [], f"cannot read: {exc.strerror}"
    except OSError as exc:
        return [], f"cannot read: {exc}"
    if len(data) > _MAX_BYTES:
        return [], f"larger than {_MAX_BYTES // (1024 * 1024)} MB, not a bounce message"
    try:
        return explain_bounces(data), None
    except (BadMessage, NotABounce) as exc:
        return [], str(exc)


def _text_block(name: str, recipients: list[RecipientResult], auth: BounceAuth) -> str:
    lines = [f"{name}: {count(len(recipients), 'recipient')}"]
    for r in recipients:
        code = " ".join(str(x) for x in (r.smtp_code, r.status) if x)
        lines.append(f"  {r.address or '(unknown address)'}: {r.reason} / {r.cause}"
                     f"{' [' + code + ']' if code else ''}")
        if r.reason in DESCRIPTIONS:
            lines.append(f"    {DESCRIPTIONS[r.reason]}")
        if r.text:
            lines.append(f"    said: {r.text[:300]}")
    if auth.report is not None:
        lines += ["  " + line for chunk in auth_text_lines(auth.report, width=98) for line in chunk.splitlines()]
    if auth.note:
        lines.append(f"  {auth.note}")
    return "\n".join(lines)


def cmd_explain(args: argparse.Namespace, ctx: CliContext) -> int:
    failed = 0
    for name in args.files:
        bounces, error = explain_file(name)
        if error is not None:
            failed += 1
            print(f"bouncebot explain: {name}: {error}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": name, "recipients": [], "error": error}))
            continue
        recipients = [r for b in bounces for r in b.recipients]
        auth = check_bounces(bounces, ctx.settings, live=not args.no_live)
        if args.json:
            print(json.dumps({"file": name, "recipients": [r.as_dict() for r in recipients], **auth.to_json()},
                             ensure_ascii=False))
        else:
            print(_text_block(name, recipients, auth))
    return 1 if failed else 0
