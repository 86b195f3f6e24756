"""`bouncebot ingest SOURCE ...`: read gateway logs into the tracking store.

Each source is a sub-command registered by one function in SOURCE_COMMANDS; a new source (an API poller,
say) adds its own `register_*(sources)` function, here or in its own module, and one entry in that tuple.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tqdm import tqdm

from bot.cli import terminal
from bot.cli.context import CliContext, UsageError
from bot.cli.ingest_tmems import register_tmems
from bot.ingest.runner import Ingestor, IngestResult, binary_reason
from bot.render.numbers import count, num


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
    parser.add_argument("--show-skipped", action="store_true",
                        help="show examples of the lines that were skipped (--verbose does too)")
    parser.add_argument("--from-start", action="store_true",
                        help="forget where the last run stopped and read each file from its first line (its skipped "
                             "lines are counted and shown again; stored events are not added twice)")
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
    for path in args.files:  # all readable, and text, before anything is stored
        if os.path.isdir(path):
            raise IsADirectoryError(21, "Is a directory", path)
        with open(path, "rb") as handle:
            refused = binary_reason(handle.read(4096))
        if refused:
            raise UsageError(f"{path}: {refused}")
    if args.follow and args.from_start:
        raise UsageError("--from-start reads a file again once; it does not go with --follow")
    options: dict[str, Any] = {}
    if args.ingest_source == "postfix":
        options = {"tz": _zone(args.timezone), "local_domains": ctx.settings.local_domains}
    ingestor = Ingestor(ctx.store, args.ingest_source, parser_options=options,
                        **({"batch_lines": args.batch} if args.batch else {}))
    if args.follow:
        _stop_on_signals(ingestor)
    for path in args.files:
        show = Progress.on_terminal(path, follow=args.follow)
        try:
            result = ingestor.ingest(path, follow=args.follow, progress=show.update if show else None,
                                     from_start=args.from_start)
        finally:
            if show:
                show.finish()
        print(summary(args.ingest_source, result))
        if args.show_skipped or args.verbose:
            for line in skipped_examples(result):
                print(line)
        elif result.stats.skipped:
            print(skipped_hint(args.ingest_source, path))
    return 0


def skipped_hint(source: str, path: str) -> str:
    """How to see the skipped lines: on this run with --show-skipped, or after it by reading the file again."""
    return (f"  to see examples of the skipped lines: bouncebot ingest {source} {path} --from-start --show-skipped "
            "(reads the file again; nothing is stored twice)")


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
    """Live progress of one file on a terminal, drawn by tqdm: bytes read of the file, rate, ETA, and the lines,
    events and skipped lines so far. None of it when stdout is not a terminal (a cron job, a pipe, a log file)."""

    def __init__(self, path: str, *, follow: bool = False, stream: Any = None, every: float = 0.2) -> None:
        self.path, self.follow, self.every = path, follow, every
        self.stream = stream if stream is not None else sys.stderr
        self._bar: tqdm[Any] | None = None

    @classmethod
    def on_terminal(cls, path: str, *, follow: bool = False) -> Progress | None:
        return cls(path, follow=follow) if sys.stdout.isatty() and sys.stderr.isatty() else None

    def update(self, result: IngestResult, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = tqdm(total=None if self.follow else total, initial=0, unit="B", unit_scale=True,
                             unit_divisor=1024, desc=os.path.basename(self.path), file=self.stream, leave=False,
                             ncols=terminal.width(), nrows=terminal.height(), mininterval=self.every, smoothing=0.1)
        if not self.follow and total > (self._bar.total or 0):
            self._bar.total = total  # the file grew while it was read
        self._bar.update(done - self._bar.n)
        stats = result.stats
        self._bar.set_postfix_str(f"{count(stats.lines, 'line')}, {count(stats.events, 'event')}, "
                                  f"{num(stats.skipped)} skipped", refresh=False)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
