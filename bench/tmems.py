"""TMEMS ingest throughput: N records through the fake log API (500 a page) into a fresh SQLite store.

    python3 bench/tmems.py [N] [--profile]

The fake server runs in its own process (as the real service would be elsewhere), serving N synthetic
records (80% accepted traffic with every action, 20% blocked) spread over the last two hours. Prints:
- server only: every page fetched and JSON-decoded, nothing mapped or stored (the ceiling the server sets);
- poll_once: the full path (fetch, map, classify, insert with dedup keys, cursor), records/s;
- a re-poll of the same window: everything fetched again, nothing new (the dedup path);
- mapping: the CPU time of Mapper.rows alone on the same synthetic records (best of 3), the part of the path
  that reads TMEMS's words; a CPU figure, so a loaded machine changes it far less than the wall-clock rates.

The polls run in the process as `bouncebot serve` runs them (bot.app): start-up objects frozen out of the
garbage collector's sight and the GIL switch interval at bot.app.GIL_SWITCH_INTERVAL. `--plain-process` keeps
Python's defaults (what `bouncebot ingest tmems` from a shell gets).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import GIL_SWITCH_INTERVAL  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.ingest.tmems import STREAMS, poll_once  # noqa: E402
from bot.ingest.tmems_client import PAGE_LIMIT, TmemsClient, iso  # noqa: E402
from bot.store import Store  # noqa: E402
from storage import queries  # noqa: E402

USER, KEY = "bench@ourcorp.example", "bench-key-0123456789"


def start_server(n: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.tmems.fake_tmems", "--synthetic", str(n), "--hours", "2",
         "--user", USER, "--key", KEY], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()  # type: ignore[union-attr]
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"the fake server did not start (got {url!r})")
    return proc, url


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): the server's share, whatever the load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU seconds of this process and of its children already reaped (the writer process, once a poll ended;
    the fake server runs until the end, so it is not among them)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def server_only(url: str, now: datetime) -> tuple[int, float]:
    """Fetch every page of every stream, decode, discard."""
    started = time.perf_counter()
    records = 0
    with TmemsClient(url, USER, KEY) as client:
        for stream in STREAMS:
            params = {**stream.params, "start": iso(now - timedelta(hours=3)), "end": iso(now),
                      "limit": str(PAGE_LIMIT)}
            for logs in client.pages(stream.path, params):
                records += len(logs)
    return records, time.perf_counter() - started


def mapping_cpu(n: int) -> float:
    """CPU microseconds a record for Mapper.rows over the benchmark's own synthetic records (best of 3)."""
    from bot.ingest.tmems_map import Mapper
    from tests.tmems.records import synthetic

    now = datetime.now(UTC)
    data = synthetic(n, now - timedelta(hours=2), now)
    best = float("inf")
    for _ in range(3):
        mapper = Mapper(Settings(local_domains=("ourcorp.example",)))
        started = time.process_time()
        for kind, records in data.items():
            rows = mapper.rows
            for record in records:
                rows(kind, record)
        best = min(best, time.process_time() - started)
    return 1e6 * best / max(n, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="records (default 100000)")
    parser.add_argument("--profile", action="store_true", help="profile the poll and print the top functions")
    parser.add_argument("--plain-process", action="store_true",
                        help="Python's default GC and GIL settings instead of those `bouncebot serve` runs with")
    args = parser.parse_args()
    proc, url = start_server(args.n)
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(database_url=f"sqlite:///{folder}/bench.db", tmems_url=url, tmems_user=USER,
                                tmems_api_key=KEY, local_domains=("ourcorp.example",))
            store = Store.open(settings)
            now = datetime.now(UTC)
            fetched, fetch_s = server_only(url, now)
            print(f"server only: {fetched:,} records in {fetch_s:.2f}s = {fetched / fetch_s:,.0f} records/s")
            if not args.plain_process:  # what bot.app.serve_* do once started
                gc.collect()
                gc.freeze()
                sys.setswitchinterval(GIL_SWITCH_INTERVAL)
            print(f"process:     {'Python defaults' if args.plain_process else 'as bouncebot serve runs'} "
                  f"(GIL switch interval {sys.getswitchinterval() * 1000:g} ms, "
                  f"{gc.get_freeze_count():,} start-up objects frozen)")
            profiler = cProfile.Profile() if args.profile else None
            started, cpu, server_cpu = time.perf_counter(), own_cpu(), cpu_seconds(proc.pid)
            if profiler:
                profiler.enable()
            summary = poll_once(store, settings, now=now, since=now - timedelta(hours=3))
            if profiler:
                profiler.disable()
            took = time.perf_counter() - started
            cpu, server_cpu = own_cpu() - cpu, cpu_seconds(proc.pid) - server_cpu
            print(f"poll_once:   {summary.records:,} records, {summary.new:,} new events in {took:.2f}s = "
                  f"{summary.records / took:,.0f} records/s ({summary.pages} pages, {summary.windows} windows, "
                  f"{len(summary.errors)} errors)")
            print(f"cpu:         bouncebot {1e6 * cpu / summary.records:.1f} us/record (with its writer process), "
                  f"server {1e6 * server_cpu / summary.records:.1f} us/record; load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            started = time.perf_counter()
            again = poll_once(store, settings, now=now, since=now - timedelta(hours=3))
            took2 = time.perf_counter() - started
            print(f"re-poll:     {again.records:,} records, {again.new:,} new in {took2:.2f}s = "
                  f"{again.records / took2:,.0f} records/s")
            with store.session() as session:
                print(f"store:       {queries.total_events(session):,} events")
            print(f"mapping:     {mapping_cpu(args.n):.1f} us/record CPU (Mapper.rows alone)")
            store.dispose()
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
                print(out.getvalue())
            return 0 if summary.ok and summary.records == args.n else 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
