"""Benchmark: the traffic report of one day in a big store (target: under 1 s at 10 M events), SQLite and PostgreSQL.

The store is shaped as the Postfix ingest fills it: per message one `received` event (sender, client, size,
queue id) and its outcomes (storegen's mix: deliveries, rejects, bounces, deferrals), over 30 days.

    python -m bench.report --events 10000000                     # SQLite in a temporary file
    python -m bench.report --events 10000000 --pg postgresql://postgres@127.0.0.1:5432/test
    python -m bench.report --sqlite /tmp/r.db --reuse             # measure again without generating
    python -m bench.report --no-sqlite --pg URL --pg-schema bench_report_10m [--reuse]   # keep the PostgreSQL store

Each run: the schema upgrade, the day's report from the events (--live), its first report (which builds the
day's rollup), the report with the rollup current (the figure the target is about), and the report after 5,000
late events were appended to that day (topped up by id).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench import storegen
from bench.pgschema import create_named_schema, create_schema, drop_schema, schema_url
from bot.events import reverse_domain
from bot.report.build import build_report
from bot.rollups import bound
from bot.store import Store
from storage.db import make_engine, upgrade

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


def _timed(store: Store, day: date, zone: ZoneInfo, end: datetime, *, use_rollup: bool = True) -> tuple[float, Any]:
    with store.session() as session:
        started = time.perf_counter()
        report = build_report(session, day, day, zone, now=end, use_rollup=use_rollup)
        return time.perf_counter() - started, report


def _late_events(store: Store, day: date, n: int) -> None:
    """n copies of the day's events appended with new keys (what an ingest adds between two reports)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    columns = [c for c in COLUMNS if c != "source_key"]
    names = ", ".join(columns)
    with store.engine.begin() as conn:
        conn.execute(bound(
            f"INSERT INTO events (source_key, {names}) SELECT source_key || :suffix, {names} FROM events "  # noqa: S608
            "WHERE time >= :start AND time < :end LIMIT :n"),
            {"start": start, "end": start + timedelta(days=1), "n": n, "suffix": f"-late{time.time_ns()}"})


def measure(name: str, url: str, end: datetime, repeats: int, *, live: bool) -> None:
    engine = make_engine(url)
    started = time.perf_counter()
    upgrade(engine)  # a store made by an older version gets the rollup tables and the deferred index
    engine.dispose()
    upgraded = time.perf_counter() - started
    store = Store.open(url)
    zone = ZoneInfo("UTC")
    day = (end - timedelta(days=2)).date()
    try:
        with store.engine.connect() as conn:
            total = conn.scalar(text("SELECT count(*) FROM events"))
        print(f"{name}: {total:,} events; schema upgrade {upgraded:.1f} s")
        if live:
            took, _ = _timed(store, day, zone, end, use_rollup=False)
            print(f"{name}: report of {day} from the events (no rollup): {took:.2f} s")
        with store.engine.begin() as conn:  # the day's rollup from scratch, as the first report of a day finds it
            conn.execute(text("DELETE FROM report_rollup WHERE day = :d"), {"d": day.isoformat()})
            conn.execute(text("DELETE FROM report_rollup_days WHERE day = :d"), {"d": day.isoformat()})
        first, _ = _timed(store, day, zone, end)
        times = [_timed(store, day, zone, end)[0] for _ in range(repeats)]
        report = _timed(store, day, zone, end)[1]
        t = report.totals
        print(f"{name}: report of {day} ({t.received:,} received, {t.delivered:,} delivered, {t.rejected:,} "
              f"rejected, {t.deferrals:,} deferrals): first (builds the day's rollup) {first:.2f} s; rollup current: "
              f"median {statistics.median(times):.3f} s, best {min(times):.3f} s of {repeats}")
        _late_events(store, day, 5_000)
        late, _ = _timed(store, day, zone, end)
        print(f"{name}: after 5,000 late events into that day (added to its rollup by id): {late:.3f} s")
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000_000, help="events in the 30-day store")
    p.add_argument("--sqlite", default=None, help="SQLite file (default: a temporary file)")
    p.add_argument("--no-sqlite", action="store_true")
    p.add_argument("--pg", default=None, help="PostgreSQL URL: also run there (in a fresh schema, dropped after)")
    p.add_argument("--pg-schema", default=None, help="keep the PostgreSQL store in this schema (with --reuse: "
                                                      "it is loaded already)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--reuse", action="store_true", help="the stores are loaded already")
    p.add_argument("--live", action="store_true", help="also time the report from the events, without the rollup")
    args = p.parse_args(argv)
    end = datetime(2026, 12, 7, tzinfo=UTC)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(args.sqlite) if args.sqlite else Path(folder) / "report.db"
            url = f"sqlite:///{path}"
            if not args.reuse:
                path.unlink(missing_ok=True)
                print(f"sqlite: loaded in {load(url, args.events, end=end):.0f} s")
            measure("sqlite", url, end, args.repeats, live=args.live)
    if args.pg:
        keep = args.pg_schema is not None
        schema, url = (args.pg_schema, schema_url(args.pg, args.pg_schema)) if keep else create_schema(
            args.pg, "bench_report")
        try:
            if not (keep and args.reuse):
                if keep:
                    create_named_schema(args.pg, schema)
                print(f"postgresql: loaded in {load(url, args.events, end=end):.0f} s")
            measure("postgresql", url, end, args.repeats, live=args.live)
        finally:
            if not keep:
                drop_schema(args.pg, schema)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
