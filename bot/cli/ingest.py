"""`bouncebot ingest SOURCE ...`: read gateway logs into the tracking store.

Each source is a sub-command registered by one function in SOURCE_COMMANDS; a new source (an API poller,
say) adds its own `register_*(sources)` function, here or in its own module, and one entry in that tuple.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cli.context import CliContext, UsageError
from bot.cli.ingest_tmems import register_tmems
from bot.ingest.runner import Ingestor, IngestResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ingest", help="read gateway logs into the tracking store")
    sources = parser.add_subparsers(dest="source", metavar="SOURCE")
    parser.set_defaults(func=lambda args, ctx: _missing_source(parser))
    for register_source in SOURCE_COMMANDS:
        register_source(sources)


def _missing_source(parser: argparse.ArgumentParser) -> int:
    raise UsageError(f"name a log source: {parser.format_usage().strip()}")


def _file_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="log file(s); each keeps its own cursor")
    parser.add_argument("--verbose", dest="show_skipped", action="store_true",
                        help="show examples of the lines that were skipped")
    parser.add_argument("--batch", type=int, default=None, metavar="LINES",
                        help="lines per transaction (default 10000)")


def register_postfix(sources: argparse._SubParsersAction) -> None:
    p = sources.add_parser("postfix", help="Postfix mail logs (syslog or maillog_file format)")
    _file_arguments(p)
    p.add_argument("--follow", action="store_true", help="keep reading as the file grows, across rotations")
    p.add_argument("--timezone", default=None, metavar="ZONE",
                   help="time zone of classic syslog stamps, e.g. Europe/Berlin (default: this machine's)")
    p.set_defaults(func=cmd_ingest_files, ingest_source="postfix")


def register_jsonl(sources: argparse._SubParsersAction) -> None:
    p = sources.add_parser("jsonl", help="JSON Lines events from any gateway (schema: docs/jsonl.md)")
    _file_arguments(p)
    p.set_defaults(func=cmd_ingest_files, ingest_source="jsonl", follow=False, timezone=None)


#: The `ingest` sub-commands, in help order.
SOURCE_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    register_postfix, register_jsonl, register_tmems)


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone: {name!r} (use e.g. UTC or Europe/Berlin)") from None


def cmd_ingest_files(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.follow and len(args.files) > 1:
        raise UsageError("--follow takes one FILE")
    if args.batch is not None and args.batch < 1:
        raise UsageError("--batch must be at least 1")
    for path in args.files:  # all readable before anything is stored
        if os.path.isdir(path):
            raise IsADirectoryError(21, "Is a directory", path)
        with open(path, "rb"):
            pass
    options: dict[str, Any] = {}
    if args.ingest_source == "postfix":
        options = {"tz": _zone(args.timezone), "local_domains": ctx.settings.local_domains}
    ingestor = Ingestor(ctx.store, args.ingest_source, parser_options=options,
                        **({"batch_lines": args.batch} if args.batch else {}))
    if args.follow:
        _stop_on_signals(ingestor)
    show = Progress(sys.stderr) if sys.stderr.isatty() else None
    for path in args.files:
        result = ingestor.ingest(path, follow=args.follow, progress=show.update if show else None)
        if show:
            show.finish()
        print(summary(args.ingest_source, result))
        if args.show_skipped or args.verbose:
            for line in skipped_examples(result):
                print(line)
    return 0


def _stop_on_signals(ingestor: Ingestor) -> None:
    """While following, Ctrl-C or SIGTERM end the run after the lines read so far are stored."""
    def stop(_signum: int, _frame: Any) -> None:
        ingestor.stop_requested = True
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def summary(source: str, result: IngestResult) -> str:
    stats = result.stats
    resumed = f", resumed at byte {result.resumed_at:,}" if result.resumed_at else ""
    notes = "".join(f"; {note}" for note in result.notes)
    unknown = "".join(f"\n  unrecognised [{kind}]: {count:,}, first: {stats.examples[kind][0]}"
                      for kind, count in stats.unrecognised.items())  # the next unknown shape is seen
    return (f"{source} {result.path}: {stats.lines:,} lines, {stats.events:,} events ({result.new_events:,} new), "
            f"{stats.skipped:,} skipped in {result.seconds:.1f}s ({result.lines_per_second:,.0f} lines/s)"
            f"{resumed}{notes}{unknown}")


def skipped_examples(result: IngestResult) -> list[str]:
    out = []
    for kind, examples in result.stats.examples.items():
        out.append(f"  skipped ({kind}), e.g.:")
        out.extend(f"    {example}" for example in examples)
    return out


class Progress:
    """A one-line progress bar on a terminal: position, lines/s, events, skipped."""

    def __init__(self, stream: Any, every: float = 0.2) -> None:
        self.stream = stream
        self.every = every
        self._last = 0.0
        self._drawn = False

    def update(self, result: IngestResult, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        share = done / total if total else 1.0
        filled = int(share * 20)
        self.stream.write(f"\r[{'#' * filled}{'.' * (20 - filled)}] {share:4.0%} {result.stats.lines:,} lines "
                          f"{result.lines_per_second:,.0f}/s {result.stats.events:,} events "
                          f"{result.stats.skipped:,} skipped ")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
