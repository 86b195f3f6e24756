"""Benchmark: ingest a synthetic Postfix log of N messages; compare with pflogsumm on the same file.

    python3 bench/ingest.py 100000                       # SQLite only
    python3 bench/ingest.py 100000 --pg postgresql://postgres@127.0.0.1:5432/test

Each run is a child process, so its peak RSS and CPU time are its own (os.wait4: the CPU time includes the writer
process a large ingestion starts, which the child reaps; the peak RSS is the larger of the two). Two ingestion figures:
`bouncebot ingest postfix` as users run it (the whole CLI, all command modules imported) and the ingestion
library alone (bot.ingest.runner.Ingestor), which is what the CLI spends its time in.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgschema import create_schema, drop_schema  # noqa: E402
from bench.postfix_synth import write_log  # noqa: E402

LIBRARY = """
import json, sys
from bot.ingest.runner import Ingestor
from bot.store import Store
store = Store.open(sys.argv[1])
result = Ingestor(store, "postfix").ingest(sys.argv[2])
print(json.dumps({"lines": result.stats.lines, "events": result.stats.events, "new": result.new_events,
                  "skipped": result.stats.skipped, "notes": result.notes}))
"""
CLI = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
#: --no-bulk: the event indexes are kept up to date during the load, as before storage.bulk (for comparison).
NO_BULK = "import storage.bulk; storage.bulk.BULK_MIN_ROWS = 1 << 62; "


@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    rss_mb: float
    output: str


def measure(name: str, argv: list[str]) -> Run:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        out.seek(0)
        output = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed: {proc.stderr.read() if proc.stderr else ''}")
    return Run(name, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", type=int, help="messages in the generated log")
    parser.add_argument("--pg", metavar="URL", help="also ingest into this PostgreSQL database (a new schema)")
    parser.add_argument("--keep", metavar="DIR", help="keep the log and the SQLite files in DIR")
    parser.add_argument("--log", metavar="FILE", help="use this log (of `messages` messages) instead of generating")
    parser.add_argument("--no-bulk", action="store_true",
                        help="keep the event indexes up to date during the load (no storage.bulk), for comparison")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.log:
        log = Path(args.log)
        with open(log, "rb") as counting:
            lines = sum(1 for _ in counting)
    else:
        log = work / "maillog"
        lines = write_log(log, args.messages)
    size_mb = log.stat().st_size / 1e6
    print(f"log: {args.messages:,} messages, {lines:,} lines, {size_mb:,.1f} MB "
          f"({'counted' if args.log else 'generated'} in {time.monotonic() - started:.1f}s)")
    runs: list[tuple[Run, int]] = []
    pflogsumm = shutil.which("pflogsumm") or "/usr/sbin/pflogsumm"
    if Path(pflogsumm).exists():
        runs.append((measure("pflogsumm", [pflogsumm, str(log)]), 0))
    else:
        print("pflogsumm is not installed (apt-get install pflogsumm): no comparison")
    from storage.db import make_engine, upgrade
    for name in ("library.db", "cli.db"):  # a fresh store for each run
        for old in work.glob(f"{name}*"):
            old.unlink()
    targets = [("sqlite", f"sqlite:///{work / 'library.db'}", f"sqlite:///{work / 'cli.db'}")]
    schemas = []
    notes: list[str] = []
    if args.pg:
        lib_schema, lib_url = create_schema(args.pg)
        cli_schema, cli_url = create_schema(args.pg)
        schemas = [lib_schema, cli_schema]
        targets.append(("postgresql", lib_url, cli_url))
    try:
        for backend, lib_url, cli_url in targets:
            for url in (lib_url, cli_url):
                engine = make_engine(url)
                upgrade(engine)
                engine.dispose()
            prelude = NO_BULK if args.no_bulk else ""
            lib = measure(f"ingest library -> {backend}", [sys.executable, "-c", prelude + LIBRARY, lib_url, str(log)])
            summary = json.loads(lib.output)
            events = summary["events"]
            notes += [f"ingest library -> {backend}: {note}" for note in summary["notes"]]
            runs.append((lib, events))
            cli = measure(f"bouncebot ingest postfix -> {backend}",
                          [sys.executable, "-c", prelude + CLI, "--database", cli_url, "ingest", "postfix", str(log)])
            runs.append((cli, events))
    finally:
        for schema in schemas:
            drop_schema(args.pg, schema)
    base = runs[0][0] if runs and runs[0][0].name == "pflogsumm" else None
    print(f"{'run':38} {'wall s':>8} {'lines/s':>10} {'events/s':>10} {'cpu s':>8} {'lines/cpu-s':>12} "
          f"{'peak RSS':>9} {'vs pflogsumm (wall, cpu)':>26}")
    for run, events in runs:
        ratio = f"{(base.wall / run.wall):.2f}x, {(base.cpu / run.cpu):.2f}x" if base else "-"
        print(f"{run.name:38} {run.wall:8.1f} {lines / run.wall:10,.0f} {events / run.wall:10,.0f} "
              f"{run.cpu:8.1f} {lines / run.cpu:12,.0f} {run.rss_mb:7.0f}MB {ratio:>26}")
    print("(ratio > 1: faster than pflogsumm; pflogsumm only counts, ingestion also classifies and stores)")
    for note in notes:
        print(note)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
