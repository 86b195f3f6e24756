"""Benchmark: the digest of one day with many blocked events, in a 30-day store (SQLite and PostgreSQL).

    python3 bench/digest.py --total 10000000 --blocked 1000000 [--pg postgresql://...] [--sqlite FILE]

Generates the store (fast: sqlite3 executemany without the ORM; COPY on PostgreSQL), then times, without
posting: the first digest (the rollup of 15 days built from raw events), the steady state (the rollup kept
current, as the scheduler does every few minutes), and a digest after late events arrived for the day.
"Compute" is compute_digest (rollup refresh + every section); "render" is Block Kit + text + the PNG chart.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bot.digest.chart import render_chart
from bot.digest.content import compute_digest
from bot.digest.period import Period, day_bounds
from bot.digest.render import render_blocks, render_text
from bot.store import Store
from storage import partitions
from storage.db import make_engine, normalize_url, upgrade
from storage.models import Event

D = date(2026, 11, 29)            # the digest's day; the store holds D-28 .. D+1 (30 days)
DAYS = [D + timedelta(days=i) for i in range(-28, 2)]
COLUMNS = ("time", "source", "source_key", "direction", "disposition", "sender", "sender_domain",
           "sender_domain_rev", "recipient", "recipient_domain", "client_ip", "smtp_code", "enhanced_status",
           "reply_text", "reason", "cause", "dnsbl_zone")
CHUNK = 50_000

# (cause, reason, code, status, text, zone) of gateway rejections, with weights
GATEWAY = [
    (("gateway_reputation", "blocked", 554, "5.7.1", "Service unavailable; Client host [{ip}] blocked using "
      "zen.spamhaus.org", "zen.spamhaus.org"), 55),
    (("gateway_reputation", "badreputation", 550, "5.7.1", "Client host [{ip}] has a poor reputation", None), 15),
    (("gateway_policy", "spamdetected", 550, "5.7.1", "Message rejected as spam by content filter", None), 15),
    (("gateway_policy", "policyviolation", 550, "5.7.1", "Sender address rejected: Access denied", None), 8),
    (("gateway_policy", "mesgtoobig", 552, "5.3.4", "Message size exceeds fixed limit", None), 2),
    (("gateway_policy", "requireptr", 450, "4.7.1", "Client host rejected: cannot find your hostname", None), 5),
]
REMOTE = [
    (("remote_blacklist", "blocked", 550, "5.7.1", "host said: 550 5.7.1 blocked using b.barracudacentral.org",
      "b.barracudacentral.org"), 30),
    (("invalid_recipient", "userunknown", 550, "5.1.1", "host said: 550 5.1.1 User unknown", None), 40),
    (("recipient_unavailable", "mailboxfull", 552, "5.2.2", "host said: 552 5.2.2 Mailbox full", None), 15),
    (("remote_policy", "policyviolation", 550, "5.7.26", "host said: 550 5.7.26 DMARC policy violation", None), 15),
]


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    """Cumulative weights of a Zipf-like distribution: a few senders send most of the spam."""
    return list(itertools.accumulate(1.0 / (k ** s) for k in range(1, n + 1)))


class Pools:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.spam_domains = [f"bulk{i}.example" for i in range(20_000)]
        self.spam_senders = [f"u{i}@{self.spam_domains[i % 20_000]}" for i in range(200_000)]
        self.spam_ips = [f"203.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(50_000)]
        self.legit_domains = [f"partner{i}.example" for i in range(5_000)]
        self.legit_senders = [f"p{i}@{self.legit_domains[i % 5_000]}" for i in range(50_000)]
        self.legit_ips = [f"198.51.{i // 256 % 256}.{i % 256}" for i in range(5_000)]
        self.users = [f"user{i}@our.example" for i in range(2_000)]
        self.remote_domains = [f"remote{i}.example" for i in range(10_000)]
        self.w_spam = zipf_weights(len(self.spam_senders))
        self.w_ips = zipf_weights(len(self.spam_ips))
        self.w_legit = zipf_weights(len(self.legit_senders), 0.9)
        self.w_remote = zipf_weights(len(self.remote_domains))
        self.gateway = [g for g, _ in GATEWAY]
        self.w_gateway = list(itertools.accumulate(w for _, w in GATEWAY))
        self.remote = [r for r, _ in REMOTE]
        self.w_remote_reason = list(itertools.accumulate(w for _, w in REMOTE))


def _rev(domain: str) -> str:
    return ".".join(reversed(domain.split("."))) + "."


CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]


def rows_for_day(pools: Pools, day: date, normal: int, extra_blocked: int, keys: Iterator[int],
                 stamp: Callable[[str], str]) -> Iterator[list[tuple]]:
    """Rows of one UTC day in chunks: `normal` mixed traffic plus `extra_blocked` blocked spam."""
    rng = pools.rng
    prefix = day.isoformat() + " "
    total = normal + extra_blocked
    done = 0
    while done < total:
        n = min(CHUNK, total - done)
        seconds = sorted(rng.randrange(86_400) for _ in range(n))
        kinds = rng.choices(("acc", "rej", "inv", "out", "bnc", "def", "spam"),
                            cum_weights=(62, 87, 90, 98, 99.5, 100, 100), k=n)
        spam_senders = rng.choices(pools.spam_senders, cum_weights=pools.w_spam, k=n)
        spam_ips = rng.choices(pools.spam_ips, cum_weights=pools.w_ips, k=n)
        legit = rng.choices(pools.legit_senders, cum_weights=pools.w_legit, k=n)
        gateway = rng.choices(pools.gateway, cum_weights=pools.w_gateway, k=n)
        chunk = []
        for i in range(n):
            kind = kinds[i] if done + i < normal else ("fp" if rng.random() < 0.001 else "spam")
            t = stamp(prefix + CLOCK[seconds[i]])
            key = f"b{next(keys)}"
            user = pools.users[i % 2000]
            if kind == "acc":
                s = legit[i]
                d = s.partition("@")[2]
                chunk.append((t, "bench", key, "inbound", "delivered", s, d, _rev(d), user, "our.example",
                              pools.legit_ips[i % 5000], 250, "2.0.0", None, "delivered", "delivered", None))
            elif kind in ("rej", "spam", "fp"):
                s = legit[i] if kind == "fp" else spam_senders[i]
                d = s.partition("@")[2]
                ip = pools.legit_ips[i % 5000] if kind == "fp" else spam_ips[i]
                cause, reason, code, status, msg, zone = gateway[i]
                chunk.append((t, "bench", key, "inbound", "rejected", s, d, _rev(d), user, "our.example", ip, code,
                              status, msg.replace("{ip}", ip), reason, cause, zone))
            elif kind == "inv":
                s = spam_senders[i]
                d = s.partition("@")[2]
                rcpt = f"gone{rng.randrange(50)}@our.example"
                chunk.append((t, "bench", key, "inbound", "rejected", s, d, _rev(d), rcpt, "our.example",
                              spam_ips[i], 550, "5.1.1", "Recipient address rejected: User unknown",
                              "userunknown", "invalid_recipient", None))
            else:
                remote = rng.choices(pools.remote_domains, cum_weights=pools.w_remote)[0]
                rcpt = f"r{i % 100}@{remote}"
                if kind == "out":
                    row = ("delivered", 250, "2.0.0", None, "delivered", "delivered", None)
                elif kind == "bnc":
                    pick = rng.choices(pools.remote, cum_weights=pools.w_remote_reason)[0]
                    cause, reason, code, status, msg, zone = pick
                    row = ("bounced", code, status, msg, reason, cause, zone)
                else:
                    row = ("deferred", 451, "4.7.1", "host said: 451 try again later", "systemerror", "transient", None)
                disposition, code, status, msg, reason, cause, zone = row
                chunk.append((t, "bench", key, "outbound", disposition, user, "our.example", _rev("our.example"),
                              rcpt, remote, None, code, status, msg, reason, cause, zone))
        done += n
        yield chunk


def plan(total: int, blocked: int) -> dict[date, tuple[int, int]]:
    """{day: (normal events, extra blocked)}: the other events spread evenly, the blocked ones on D."""
    normal = max(0, total - blocked)
    per_day, rest = divmod(normal, len(DAYS))
    return {d: (per_day + (1 if i < rest else 0), blocked if d == D else 0) for i, d in enumerate(DAYS)}


def drop_indexes(url: str) -> Callable[[], None]:
    """Drop the event table's secondary indexes for the bulk load; returns what re-creates them (sorted builds
    are much faster than 10 M random B-tree inserts)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for index in Event.__table__.indexes:
            index.drop(conn)

    def recreate() -> None:
        t = time.perf_counter()
        with engine.begin() as conn:
            for index in Event.__table__.indexes:
                index.create(conn)
        print(f"  indexes re-created in {time.perf_counter() - t:.0f} s", flush=True)
        engine.dispose()
    return recreate


def load_sqlite(path: Path, total: int, blocked: int, seed: int) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    recreate = drop_indexes(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    pools = Pools(random.Random(seed))
    keys = itertools.count(1)
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
    done = 0
    for day, (normal, extra) in plan(total, blocked).items():
        for chunk in rows_for_day(pools, day, normal, extra, keys, lambda s: s + ".000000"):
            conn.executemany(sql, chunk)
            done += len(chunk)
        conn.commit()
        print(f"  sqlite: {day} loaded ({done:,} events)", flush=True)
    conn.close()
    recreate()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def _tsv(value: object) -> str:
    return "\\N" if value is None else str(value)


def load_pg(url: str, total: int, blocked: int, seed: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        partitions.ensure_partitions(conn, [d + timedelta(days=i) for d in DAYS for i in (-1, 0, 1)])
    recreate = drop_indexes(url)
    pools = Pools(random.Random(seed))
    keys = itertools.count(1)
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        done = 0
        for day, (normal, extra) in plan(total, blocked).items():
            with cur.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for chunk in rows_for_day(pools, day, normal, extra, keys, lambda s: s + "+00"):
                    buf = io.StringIO()
                    for row in chunk:
                        buf.write("\t".join(_tsv(v) for v in row))
                        buf.write("\n")
                    copy.write(buf.getvalue())
                    done += len(chunk)
            raw.driver_connection.commit()
            print(f"  postgresql: {day} loaded ({done:,} events)", flush=True)
    finally:
        raw.close()
    recreate()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE events"))
    engine.dispose()


def add_late(store: Store, count: int, zone: ZoneInfo, seed: int) -> None:
    """Late events for D (a shipper catching up) and for today, inserted as ingestion would."""
    from storage.queries import insert_events
    rng = random.Random(seed + 1)
    run = time.time_ns()  # new source keys on every run, so a re-run with --reuse really adds events
    start, end = day_bounds(D, zone)
    rows = []
    for i in range(count):
        when = start + (end - start) * rng.random() if i % 2 else datetime.combine(D + timedelta(days=1),
                                                                                      datetime.min.time(), UTC)
        rows.append({"time": when, "source": "bench", "source_key": f"late{seed}-{run}-{i}", "direction": "inbound",
                     "disposition": "rejected", "sender": f"late{i % 300}@bulk{i % 50}.example",
                     "sender_domain": f"bulk{i % 50}.example", "sender_domain_rev": _rev(f"bulk{i % 50}.example"),
                     "recipient": "user1@our.example", "recipient_domain": "our.example",
                     "client_ip": f"203.0.113.{i % 250}", "reason": "blocked", "cause": "gateway_reputation"})
    with store.engine.begin() as conn:
        for k in range(0, len(rows), 5000):
            insert_events(conn, rows[k:k + 5000])


def run_digest(store: Store, zone: ZoneInfo, chart: Path) -> tuple[float, float, float, int]:
    now = datetime.combine(D + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=9)
    t0 = time.perf_counter()
    digest = compute_digest(store, Period(D), zone, local_domains=("our.example",), now=now)
    t1 = time.perf_counter()
    render_blocks(digest)
    render_text(digest)
    t2 = time.perf_counter()
    render_chart(digest, chart)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, digest.blocked.current


def measure(name: str, url: str, zone: ZoneInfo, repeats: int, late: int, seed: int) -> None:
    store = Store.open(url)
    chart = Path(tempfile.mkdtemp()) / "chart.png"
    with store.engine.connect() as conn:
        built_before = conn.scalar(text("SELECT COUNT(*) FROM digest_rollup_days WHERE built_through_id >= 0"))
    what = "rollup already built (--reuse)" if built_before else "rollup of 15 days built from raw events"
    try:
        cold = run_digest(store, zone, chart)
        print(f"{name}: first digest ({what}): compute {cold[0]:.2f} s, "
              f"render {cold[1] * 1000:.0f} ms + chart {cold[2]:.2f} s; blocked on {D}: {cold[3]:,}")
        warm = [run_digest(store, zone, chart) for _ in range(repeats)]
        comp = [w[0] + w[1] + w[2] for w in warm]
        med = [statistics.median(w[k] for w in warm) for k in range(3)]
        print(f"{name}: digest with the rollup current (x{repeats}): compute {med[0]:.3f} s,"
              f" render {med[1] * 1000:.0f} ms, chart {med[2]:.2f} s;"
              f" total median {statistics.median(comp):.2f} s, max {max(comp):.2f} s")
        if late:
            add_late(store, late, zone, seed)
            after = run_digest(store, zone, chart)
            print(f"{name}: after {late:,} late events (half for {D}): compute {after[0]:.3f} s, "
                  f"total {sum(after[:3]):.2f} s; blocked on {D}: {after[3]:,}")
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--total", type=int, default=10_000_000, help="events in the 30-day store")
    p.add_argument("--blocked", type=int, default=1_000_000, help="extra blocked events on the digest's day")
    p.add_argument("--sqlite", default=None, help="SQLite file (default: a temporary file)")
    p.add_argument("--pg", default=None, help="PostgreSQL URL: also run there (in a fresh schema bench_digest)")
    p.add_argument("--no-sqlite", action="store_true")
    p.add_argument("--zone", default="UTC")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--late", type=int, default=10_000, help="late events inserted before the last run")
    p.add_argument("--reuse", action="store_true", help="skip generation (the stores exist already)")
    p.add_argument("--seed", type=int, default=6)
    args = p.parse_args(argv)
    zone = ZoneInfo(args.zone)
    print(f"digest benchmark: {args.total:,} events over 30 days, {args.blocked:,} extra blocked on {D},"
          f" zone {zone.key}, {os.cpu_count()} CPUs")
    if not args.no_sqlite:
        path = Path(args.sqlite or Path(tempfile.gettempdir()) / "bouncebot-bench-digest.db")
        if not args.reuse:
            t = time.perf_counter()
            load_sqlite(path, args.total, args.blocked, args.seed)
            print(f"sqlite: generated in {time.perf_counter() - t:.0f} s ({path.stat().st_size / 1e9:.1f} GB)")
        measure("sqlite", f"sqlite:///{path}", zone, args.repeats, args.late, args.seed)
    if args.pg:
        base = normalize_url(args.pg)
        admin = make_engine(base)
        if not args.reuse:
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS bench_digest CASCADE"))
                conn.execute(text("CREATE SCHEMA bench_digest"))
        admin.dispose()
        url = f"{base}{'&' if '?' in base else '?'}options={quote('-csearch_path=bench_digest')}"
        if not args.reuse:
            t = time.perf_counter()
            load_pg(url, args.total, args.blocked, args.seed)
            print(f"postgresql: generated in {time.perf_counter() - t:.0f} s")
        measure("postgresql", url, zone, args.repeats, args.late, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
