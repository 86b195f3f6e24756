"""Benchmark approvals: N approvers clicking at once, and the gateway export of M approved senders.

    python3 bench/approvals.py 50 --export 10000 --pg postgresql://postgres@127.0.0.1/test

1. N threads (each with its own session) approve the same sender at once: exactly one must win; prints the
   wall time and the per-click latency (p50, p99).
2. N threads approve N different senders at once: throughput of conditional writes.
3. M active approvals exported as a Postfix map with postmap (when installed), and as CSV: the time an
   approve/remove click spends rewriting the gateway's list.
Runs on a fresh SQLite file and, with --pg, in a fresh PostgreSQL schema (dropped afterwards).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text

from bot import approvals, export
from bot.store import Store
from storage.db import make_engine, normalize_url, upgrade
from storage.models import ApprovedSender


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def concurrently(store: Store, n: int, pattern_of) -> tuple[float, list[float], int]:
    barrier = threading.Barrier(n)
    latencies: list[float] = []
    created: list[bool] = []
    lock = threading.Lock()

    def click(i: int) -> None:
        with store.session() as session:
            barrier.wait()
            started = time.perf_counter()
            outcome = approvals.approve(session, pattern=pattern_of(i), reason="bench", actor=f"U{i}",
                                        request_key=f"bench:{uuid.uuid4().hex}")
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                created.append(outcome.created)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - started) * 1000, latencies, sum(created)


def fill(store: Store, m: int) -> None:
    now = datetime.now(UTC)
    rows = [{"pattern": f"user{i}@sender{i % 997}.example" if i % 3 else f"sender{i}.example",
             "kind": "address" if i % 3 else "domain", "reason": "bench", "approved_by": "U1", "created_at": now,
             "active_key": None} for i in range(m)]
    for row in rows:
        row["active_key"] = f"{row['kind']}:{row['pattern']}"
    with store.session() as session:
        session.execute(insert(ApprovedSender), rows)
        session.commit()


def run(label: str, url: str, n: int, m: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(url)
    try:
        concurrently(store, n, lambda i: f"warm{i}@warm.example")  # open the pool's connections first
        wall, lat, won = concurrently(store, n, lambda i: "alice@partner.example")
        print(f"{label}: {n} approvers of one sender at once: {won} approval(s); wall {wall:.0f} ms, "
              f"click p50 {percentile(lat, .5):.1f} ms, p99 {percentile(lat, .99):.1f} ms")
        wall, lat, won = concurrently(store, n, lambda i: f"user{i}@distinct.example")
        print(f"{label}: {n} approvers of {n} senders at once: {won} approval(s); wall {wall:.0f} ms "
              f"({n / wall * 1000:.0f}/s), click p50 {percentile(lat, .5):.1f} ms, p99 {percentile(lat, .99):.1f} ms")
        fill(store, m)
        folder = Path(tempfile.mkdtemp(prefix="bench-approvals-"))
        try:
            try:
                postmap: tuple[str, ...] | None = export.find_postmap(None)
            except export.ExportError as exc:
                print(f"{label}: {exc}: the postmap run is left out")
                postmap = None
            runs = [("postfix", None), ("postfix", postmap), ("csv", None)] if postmap else [
                ("postfix", None), ("csv", None)]
            for fmt, pm in runs:
                with store.session() as session:
                    started = time.perf_counter()
                    result, _ = export.export_active(session, path=folder / f"approved.{fmt}", fmt=fmt, postmap=pm)
                    took = (time.perf_counter() - started) * 1000
                what = f"{fmt}{' + postmap' if pm else ''}"
                print(f"{label}: export of {result.count} approved senders as {what}: {took:.0f} ms")
        finally:
            shutil.rmtree(folder)
    finally:
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="concurrent approvers (threads)")
    parser.add_argument("--export", type=int, default=10_000, help="approved senders to export (default 10000)")
    parser.add_argument("--pg", default=None, help="also run on this PostgreSQL (a fresh schema, dropped after)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run("sqlite", f"sqlite:///{folder}/bench.db", args.n, args.export)
    if args.pg:
        admin = create_engine(normalize_url(args.pg))
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in args.pg else "?"
            run("postgresql", f"{normalize_url(args.pg)}{sep}options={quote(f'-csearch_path={schema}')}",
                args.n, args.export)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
