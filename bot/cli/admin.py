"""`bouncebot approved ...`, `bouncebot cases ...` and `bouncebot audit`: the records behind the Slack buttons.

The actor of a change made here is the OS user, as "cli:<user>", so the audit log tells it from Slack users.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot import approvals, audit, cases, export
from bot.cli.context import CliContext, UsageError, positive_int
from bot.render.numbers import count
from bot.timeutil import parse_duration, parse_since, utcnow


def cli_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}"[:64]


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_approved(subparsers)
    _register_cases(subparsers)
    p = subparsers.add_parser("audit", help="who approved, refused, removed, opened or closed what, and when")
    p.add_argument("--since", default="7d", help="how far back, e.g. 7d, 12h or 2026-11-01 (default: 7d)")
    p.add_argument("--limit", type=positive_int, default=500, help="at most this many entries (default 500)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_audit)


def _register_approved(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("approved", help="approved senders: list, add, remove, expire, export")
    sub = p.add_subparsers(dest="approved_command", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="the approved senders in force (--all: with removed and expired ones)")
    lst.add_argument("--all", action="store_true", help="history too: removed and expired approvals")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(func=cmd_approved_list)
    add = sub.add_parser("add", help="approve a sender address or a whole domain")
    add.add_argument("pattern", help="alice@partner.example, partner.example or *@partner.example")
    add.add_argument("--reason", required=True, help="why (shown in the export and the audit log)")
    add.add_argument("--expires", default=None, help="how long it holds, e.g. 30d or 12h (default: no expiry)")
    add.add_argument("--kind", choices=approvals.KINDS, default=None,
                     help="address or domain (default: inferred; domain with an address approves its domain)")
    add.set_defaults(func=cmd_approved_add)
    rm = sub.add_parser("remove", help="remove an approval (by pattern, or #ID)")
    rm.add_argument("pattern", help="the approved pattern, or #ID from `approved list --all`")
    rm.set_defaults(func=cmd_approved_remove)
    exp = sub.add_parser("expire", help="mark approvals past their expiry as expired now (the scheduler does too)")
    exp.set_defaults(func=cmd_approved_expire)
    out = sub.add_parser("export", help="write the approved senders for the gateway")
    out.add_argument("--format", choices=export.FORMATS, default=None,
                     help="postfix access map, csv of hosted-gateway patterns, or tmems list "
                          "(default: $BOUNCEBOT_APPROVED_EXPORT_FORMAT or postfix)")
    out.add_argument("--output", metavar="FILE", default=None, help="write here, atomically (default: stdout)")
    out.add_argument("--postmap", action="store_true",
                     help="run postmap on the written map (postfix format); the map is --output FILE, else "
                          "$BOUNCEBOT_APPROVED_EXPORT_PATH; the command is $BOUNCEBOT_POSTMAP (default: postmap "
                          "on PATH or in /usr/sbin)")
    out.set_defaults(func=cmd_approved_export)


def _register_cases(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("cases", help="support cases: open, list, show, close, reopen")
    sub = p.add_subparsers(dest="cases_command", metavar="ACTION", required=True)
    new = sub.add_parser("open", help="open a case about a target, with a snapshot of its diagnosis, and forward it")
    new.add_argument("target", help="the sender address, domain, IP or message-id it is about")
    new.add_argument("--title", required=True, help="one line saying what is wrong")
    new.add_argument("--description", default=None, help="more detail (optional)")
    new.add_argument("--no-live", action="store_true", help="snapshot the diagnosis without live DNS checks")
    new.set_defaults(func=cmd_cases_open)
    lst = sub.add_parser("list", help="cases, newest first")
    lst.add_argument("--status", choices=(*cases.STATUSES, "all"), default="open", help="default: open")
    lst.add_argument("--limit", type=positive_int, default=100, help="at most this many cases (default 100)")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(func=cmd_cases_list)
    show = sub.add_parser("show", help="one case with its diagnosis snapshot")
    show.add_argument("id", help="case number")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd_cases_show)
    for name, func in (("close", cmd_cases_close), ("reopen", cmd_cases_reopen)):
        c = sub.add_parser(name, help=f"{name} a case")
        c.add_argument("id", help="case number")
        c.set_defaults(func=func)


# --- approved ----------------------------------------------------------------------------------------------

def _when(value: datetime | None, empty: str = "-") -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else empty


def _approval_dict(approval: approvals.ApprovedSender, now: datetime) -> dict[str, object]:
    return {
        "id": approval.id, "pattern": approval.pattern, "kind": approval.kind,
        "gateway_pattern": export.gateway_pattern(approval), "status": approvals.status(approval, now),
        "reason": approval.reason, "approved_by": approval.approved_by, "created_at": approval.created_at.isoformat(),
        "expires_at": approval.expires_at.isoformat() if approval.expires_at else None,
        "removed_at": approval.removed_at.isoformat() if approval.removed_at else None,
        "removed_by": approval.removed_by,
    }


def cmd_approved_list(args: argparse.Namespace, ctx: CliContext) -> int:
    now = utcnow()
    with ctx.store.session() as session:
        rows = approvals.list_approvals(session) if args.all else approvals.list_active(session, now)
    if args.json:
        for approval in rows:
            print(json.dumps(_approval_dict(approval, now)))
        return 0
    if not rows:
        print("no approved senders" + ("" if args.all else " in force"))
        return 0
    for a in rows:
        state = approvals.status(a, now)
        extra = f" removed by {a.removed_by} {_when(a.removed_at)}" if state == "removed" else ""
        print(f"#{a.id:<5} {a.pattern:40} {a.kind:7} {state:7} until {_when(a.expires_at, 'no expiry'):16}"
              f" by {a.approved_by} {_when(a.created_at)}{extra}  {a.reason or ''}")
    print(count(len(rows), "approval"))
    return 0


def cmd_approved_add(args: argparse.Namespace, ctx: CliContext) -> int:
    now = utcnow()
    try:
        expires_at = now + parse_duration(args.expires) if args.expires else None
        with ctx.store.session() as session, _export_failure_printed_once():
            outcome = approvals.approve(session, pattern=args.pattern, kind=args.kind, reason=args.reason,
                                        actor=cli_actor(), expires_at=expires_at, settings=ctx.settings, now=now)
    except (ValueError, approvals.ApprovalError) as exc:
        raise UsageError(str(exc)) from exc
    a = outcome.approval
    if outcome.created:
        print(f"approved {a.kind} {a.pattern} (#{a.id}) until {_when(a.expires_at, 'no expiry')}")
    else:
        print(f"{a.pattern} is already approved (#{a.id}, by {outcome.winner_actor} {_when(a.created_at)})")
    return _export_warning(outcome.export_error)


def _export_warning(error: str | None) -> int:
    if error:
        print(f"bouncebot approved: warning: the approved senders export was not rewritten: {error}", file=sys.stderr)
        return 1
    return 0


class _ReportedHere(logging.Filter):
    """Drops bot.approvals' log line about a failed export: the command prints that failure itself, once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("approved senders export failed")


@contextmanager
def _export_failure_printed_once() -> Iterator[None]:
    logger = logging.getLogger("bot.approvals")
    quiet = _ReportedHere()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def cmd_approved_remove(args: argparse.Namespace, ctx: CliContext) -> int:
    text = args.pattern.strip()
    ident = text[1:] if text.startswith("#") else None
    try:
        with ctx.store.session() as session, _export_failure_printed_once():
            if ident is not None:
                if not ident.isdigit():
                    raise UsageError(f"not an approval id: {text!r}")
                outcome = approvals.remove(session, approval_id=int(ident), actor=cli_actor(), settings=ctx.settings)
            else:
                outcome = approvals.remove(session, pattern=text, actor=cli_actor(), settings=ctx.settings)
    except (approvals.ApprovalError, approvals.UnknownApproval) as exc:
        raise UsageError(str(exc).strip("'\"")) from exc
    a = outcome.approval
    if outcome.removed:
        print(f"removed {a.kind} {a.pattern} (#{a.id})")
    else:
        print(f"{a.pattern} (#{a.id}) was already removed by {outcome.removed_by} {_when(a.removed_at)}")
    return _export_warning(outcome.export_error)


def cmd_approved_expire(args: argparse.Namespace, ctx: CliContext) -> int:
    with ctx.store.session() as session:
        expired = approvals.expire_due(session, settings=ctx.settings)  # a failed export is logged there
    for a in expired:
        print(f"expired {a.kind} {a.pattern} (#{a.id}, ended {_when(a.expires_at)})")
    print(f"{count(len(expired), 'approval')} expired")
    return 0


def cmd_approved_export(args: argparse.Namespace, ctx: CliContext) -> int:
    fmt = args.format or ctx.settings.approved_export_format
    try:
        fmt = export.check_format(fmt)
        # with --postmap the map goes where the gateway reads it: --output, else BOUNCEBOT_APPROVED_EXPORT_PATH
        output = args.output or (ctx.settings.approved_export_path if args.postmap else None)
        if args.postmap and not output:
            raise UsageError("--postmap needs a file: --output FILE or BOUNCEBOT_APPROVED_EXPORT_PATH")
        postmap = export.find_postmap(ctx.settings.postmap_command) if args.postmap else None
        with ctx.store.session() as session:
            result, text = export.export_active(session, path=Path(output) if output else None,
                                                fmt=fmt, postmap=postmap)
    except export.ExportError as exc:
        raise UsageError(str(exc)) from exc
    if result.path is None:
        print(text, end="")
        return 0
    ran = f"; ran {' '.join(result.postmap)}" if result.postmap else ""
    print(f"wrote {count(result.count, 'approved sender')} to {result.path} ({result.format}){ran}")
    if fmt == "tmems":
        print(f"paste the patterns into Trend Micro Email Security: {export.TMEMS_WHERE} > Approved Senders")
    return 0


# --- cases -------------------------------------------------------------------------------------------------

def _case_id(text: str) -> int:
    digits = text.strip().lstrip("#")
    if not digits.isdigit():
        raise UsageError(f"not a case number: {text!r}")
    return int(digits)


def cmd_cases_open(args: argparse.Namespace, ctx: CliContext) -> int:
    """As the Slack modal does: a fresh diagnosis as the snapshot, the case stored (audited), then forwarded to
    the configured webhook / e-mail; a failed forward is reported, the case stays open either way."""
    from bot.case_forwarding import forward_case
    from bot.diagnosis import diagnose
    from bot.diagnosis.live import checker_from_settings
    from bot.targets import parse_target

    try:
        target = parse_target(args.target)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    actor = cli_actor()
    checker = None if args.no_live else checker_from_settings(ctx.settings)
    with ctx.store.session() as session:
        diagnosis = diagnose(session, target, settings=ctx.settings, checker=checker)
        try:
            case, _created = cases.open_case(session, target=target.value, title=args.title,
                                             description=args.description, snapshot=diagnosis.to_json(),
                                             opened_by=actor)
        except cases.CaseError as exc:
            raise UsageError(str(exc)) from exc
        results = forward_case(session, case=case, settings=ctx.settings, actor=actor)
    print(f"case #{case.id} opened: {case.title} ({case.target})")
    failed = 0
    for result in results:
        if result.ok:
            print(f"  forwarded by {result.target}: {result.detail}")
        else:
            failed += 1
            print(f"bouncebot cases: forwarding by {result.target} failed: {result.detail}", file=sys.stderr)
    return 1 if failed else 0


def cmd_cases_list(args: argparse.Namespace, ctx: CliContext) -> int:
    status = None if args.status == "all" else args.status
    with ctx.store.session() as session:
        rows = cases.list_cases(session, status=status, limit=args.limit)
    if args.json:
        for case in rows:
            print(json.dumps(cases.case_dict(case)))
        return 0
    if not rows:
        print("no cases" if status is None else f"no {status} cases")
        return 0
    for c in rows:
        print(f"#{c.id:<5} {c.status:6} {_when(c.created_at)} {c.target:40} {c.title}  (by {c.opened_by})")
    print(count(len(rows), "case"))
    return 0


def cmd_cases_show(args: argparse.Namespace, ctx: CliContext) -> int:
    case_id = _case_id(args.id)
    with ctx.store.session() as session:
        case = cases.get_case(session, case_id)
    if case is None:
        raise UsageError(f"no case #{case_id}")
    data = cases.case_dict(case)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"case #{case.id}: {case.title}")
    for key in ("status", "target", "opened_by", "created_at", "closed_by", "closed_at", "reopened_by",
                "reopened_at", "channel", "thread_ts"):
        if data[key] is not None:
            print(f"  {key}: {data[key]}")
    if case.description:
        print(f"  description: {case.description}")
    if case.snapshot:
        print("  diagnosis snapshot:")
        for line in json.dumps(case.snapshot, indent=2, sort_keys=True).splitlines():
            print(f"    {line}")
    return 0


def _change_case(args: argparse.Namespace, ctx: CliContext, *, close: bool) -> int:
    case_id = _case_id(args.id)
    change_fn = cases.close_case if close else cases.reopen_case
    try:
        with ctx.store.session() as session:
            change = change_fn(session, case_id=case_id, actor=cli_actor())
    except cases.UnknownCase as exc:
        raise UsageError(str(exc).strip("'\"")) from exc
    verb = "closed" if close else "reopened"
    if change.changed:
        print(f"case #{case_id} {verb}")
    else:
        state = "closed" if close else "open"
        print(f"case #{case_id} is already {state}" + (f" ({verb} by {change.by})" if change.by else ""))
    return 0


def cmd_cases_close(args: argparse.Namespace, ctx: CliContext) -> int:
    return _change_case(args, ctx, close=True)


def cmd_cases_reopen(args: argparse.Namespace, ctx: CliContext) -> int:
    return _change_case(args, ctx, close=False)


# --- audit -------------------------------------------------------------------------------------------------

def cmd_audit(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    with ctx.store.session() as session:
        rows = audit.list_entries(session, since=since, limit=args.limit)
    if args.json:
        for entry in rows:
            print(json.dumps(audit.entry_dict(entry)))
        return 0
    if not rows:
        print(f"no audit entries since {since:%Y-%m-%d %H:%M} UTC")
        return 0
    for e in rows:
        where = f" in {e.channel}" + (f" ({e.message_ts})" if e.message_ts else "") if e.channel else ""
        print(f"{e.time:%Y-%m-%d %H:%M:%S} {e.actor:20} {e.action:13} {e.outcome:9} {e.target or '-'}{where}")
    print(count(len(rows), "entry"))
    return 0
