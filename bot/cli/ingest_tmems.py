"""`bouncebot ingest tmems [--since 2h] [--once]`: poll Trend Micro Email Security's log API.

Without --once it polls every BOUNCEBOT_TMEMS_POLL_MINUTES until Ctrl-C (or SIGTERM), finishing the poll in
progress first; a setup error (401/403/404) ends the loop, since polling again cannot fix it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from bot.cli.context import CliContext, UsageError
from bot.ingest.tmems import PollSummary, poll_once
from bot.ingest.tmems_health import record
from bot.timeutil import parse_since, utcnow


def register_tmems(sources: argparse._SubParsersAction) -> None:
    p = sources.add_parser("tmems", help="poll Trend Micro Email Security's mail tracking and policy event logs",
                           description="Poll the TMEMS log API (BOUNCEBOT_TMEMS_URL, _USER, _API_KEY). The API "
                                       "keeps 72 hours; each stream resumes where the last poll ended.")
    p.add_argument("--since", default=None, metavar="WHEN",
                   help="reach back at least this far, e.g. 2h or 2026-11-30T06:00Z (at most 72h; never skips "
                        "what the cursor says is still missing)")
    p.add_argument("--once", action="store_true", help="poll once and exit (default: every tmems_poll_minutes)")
    p.set_defaults(func=cmd_ingest_tmems)


def report(summary: PollSummary) -> None:
    """The summary on stdout; lost data, errors and warnings on stderr, one line each. A service that could not
    be used at all is one line on stderr, saying what to check, and nothing else."""
    if summary.unusable:
        print(f"error: {summary.errors[0]}", file=sys.stderr, flush=True)
        return
    print(summary.line(), flush=True)
    for gap in summary.gaps:
        print(f"error: {gap}", file=sys.stderr)
    for error in summary.errors:
        print(f"error: {error}", file=sys.stderr)
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    sys.stderr.flush()


def cmd_ingest_tmems(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if since is not None and since > utcnow():
        raise UsageError(f"--since {args.since} is in the future")
    ctx.settings.require("tmems_url", "tmems_user", "tmems_api_key")
    if ctx.settings.tmems_poll_minutes < 1:
        raise UsageError("BOUNCEBOT_TMEMS_POLL_MINUTES must be at least 1")
    with _poller_log_quiet(not args.verbose):
        return _run(args, ctx, since)


@contextmanager
def _poller_log_quiet(quiet: bool) -> Iterator[None]:
    """The summary reports every error and gap itself, once: the poller's own log lines would say it all a
    second time (and a retry line per attempt). -v shows them."""
    loggers = [logging.getLogger(name) for name in ("bot.ingest.tmems", "bot.ingest.tmems_client")]
    levels = [lg.level for lg in loggers]
    if quiet:
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _run(args: argparse.Namespace, ctx: CliContext, since: datetime | None) -> int:
    if args.once:
        summary = poll_once(ctx.store, ctx.settings, since=since)
        record(ctx.store, summary, ctx.settings)
        report(summary)
        return 0 if summary.ok else 1
    stop = threading.Event()
    _stop_on_signals(stop)
    interval = ctx.settings.tmems_poll_minutes * 60
    while not stop.is_set():
        summary = poll_once(ctx.store, ctx.settings, since=since)
        record(ctx.store, summary, ctx.settings)
        report(summary)
        if summary.stopped:
            return 1
        since = None  # --since reaches back once; afterwards the cursors lead
        stop.wait(interval)
    print("stopped", file=sys.stderr)
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    """Ctrl-C or SIGTERM: finish the poll in progress (its windows are stored), then leave; a second Ctrl-C
    leaves at once (the unfinished window is fetched again next time)."""
    def handler(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
