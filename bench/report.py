"""Benchmark: the traffic report of one day in a big store (target: under 1 s at 10 M events), SQLite and PostgreSQL.

The store is shaped as the Postfix ingest fills it: per message one `received` event (sender, client, size,
queue id) and its outcomes (storegen's mix: deliveries, rejects, bounces, deferrals), over 30 days.

    python -m bench.report --events 10000000                     # SQLite in a temporary file
    python -m bench.report --events 10000000 --pg postgresql://postgres@127.0.0.1:5432/test
    python -m bench.report --sqlite /tmp/r.db --reuse             # measure again without generating
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench import storegen
from bench.pgschema import create_schema, drop_schema
from bot.events import reverse_domain
from bot.report.build import build_report
from bot.store import Store

COLUMNS = (*storegen.COLUMNS, "queue_id", "size", "client_host", "relay")


def rows(n: int, pop: storegen.Population, end: datetime, days: int = 30) -> Iterator[tuple[Any, ...]]:
    """About n events in time order (as an ingest appends them): a `received` event for each message that got
    in, then its outcome."""
    rng = pop.rng
    span = days * 86400
    made = 0
    number = 0
    while made < n:
        number += 1
        (_, direction, disposition, code, status, reason, cause, zone, template) = rng.choices(
            storegen.OUTCOMES, weights=storegen._WEIGHTS)[0]
        d = pop.domain_index()
        when = end - timedelta(seconds=span * (1 - made / n) - rng.random())
        sender, rcpt, ip = pop.sender(d), f"staff{rng.randrange(2000)}@ours.example", pop.ip(d, rng.randrange(4))
        if direction == "outbound":
            sender, rcpt, ip = f"staff{rng.randrange(2000)}@ours.example", sender, "192.0.2.25"
        sender_domain = sender.rsplit("@", 1)[1]
        qid = f"{number:011X}"
        size = rng.randrange(900, 200_000)
        mid = f"{number}@{sender_domain}"
        host = f"mail.{sender_domain}" if direction == "inbound" else "groupware.ours.example"
        base = (sender, sender_domain, reverse_domain(sender_domain), rcpt, rcpt.rsplit("@", 1)[1], ip)
        if disposition != "rejected":
            yield (when - timedelta(seconds=1), "postfix", f"r{number}", "unknown", "received", sender,
                   sender_domain, reverse_domain(sender_domain), None, None, ip, None, None, None, None, None,
                   None, mid, qid, size, host, None)
            made += 1
        relay = "local" if direction == "inbound" else f"mx.{rcpt.rsplit('@', 1)[1]}[203.0.113.5]:25"
        reply = template.format(ip=ip, rcpt=rcpt, sender=sender)
        yield (when, "postfix", f"o{number}", direction, disposition, *base, code, status, reply, reason, cause,
               zone, mid, None if disposition == "rejected" else qid, None if disposition == "rejected" else size,
               host, None if disposition == "rejected" else relay)
        made += 1


def load(url: str, n: int, *, end: datetime) -> float:
    """Create the schema and load about n events with the secondary indexes dropped meanwhile; seconds taken."""
    return storegen.load(url, n, end=end, make_rows=rows, columns=COLUMNS)


def measure(name: str, url: str, end: datetime, repeats: int) -> None:
    store = Store.open(url)
    zone = ZoneInfo("UTC")
    day = (end - timedelta(days=2)).date()
    try:
        with store.engine.connect() as conn:
            total = conn.scalar(text("SELECT count(*) FROM events"))
        times = []
        for _ in range(repeats):
            with store.session() as session:
                started = time.perf_counter()
                report = build_report(session, day, day, zone, now=end)
                times.append(time.perf_counter() - started)
        t = report.totals
        print(f"{name}: {total:,} events; report of {day} ({t.received:,} received, {t.delivered:,} delivered, "
              f"{t.rejected:,} rejected, {t.deferrals:,} deferrals): median {statistics.median(times):.2f} s, "
              f"best {min(times):.2f} s of {repeats}")
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000_000, help="events in the 30-day store")
    p.add_argument("--sqlite", default=None, help="SQLite file (default: a temporary file)")
    p.add_argument("--no-sqlite", action="store_true")
    p.add_argument("--pg", default=None, help="PostgreSQL URL: also run there (in a fresh schema, dropped after)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--reuse", action="store_true", help="the SQLite file is loaded already")
    args = p.parse_args(argv)
    end = datetime(2026, 12, 7, tzinfo=UTC)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(args.sqlite) if args.sqlite else Path(folder) / "report.db"
            url = f"sqlite:///{path}"
            if not args.reuse:
                path.unlink(missing_ok=True)
                print(f"sqlite: loaded in {load(url, args.events, end=end):.0f} s")
            measure("sqlite", url, end, args.repeats)
    if args.pg:
        schema, url = create_schema(args.pg, "bench_report")
        try:
            print(f"postgresql: loaded in {load(url, args.events, end=end):.0f} s")
            measure("postgresql", url, end, args.repeats)
        finally:
            drop_schema(args.pg, schema)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
