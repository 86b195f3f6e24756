"""Fast generator of a realistic tracking store (N events over 30 days, many sender domains) for benchmarks.

Rows are written with the database's own bulk path (executemany on SQLite, COPY on PostgreSQL), with the
secondary indexes dropped during the load and rebuilt after, which is how one loads 10 M rows in minutes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from bot.events import reverse_domain
from storage import partitions
from storage.db import make_engine, upgrade

COLUMNS = ("time", "source", "source_key", "direction", "disposition", "sender", "sender_domain",
           "sender_domain_rev", "recipient", "recipient_domain", "client_ip", "smtp_code", "enhanced_status",
           "reply_text", "reason", "cause", "dnsbl_zone", "message_id")

#: (weight, direction, disposition, code, status, reason, cause, zone, text)
OUTCOMES = (
    (55, "inbound", "delivered", 250, "2.0.0", "delivered", "delivered", None, "delivered to mailbox"),
    (12, "outbound", "delivered", 250, "2.0.0", "delivered", "delivered", None, "250 2.0.0 Ok: queued"),
    (8, "inbound", "rejected", 554, "5.7.1", "blocked", "gateway_reputation", "zen.spamhaus.org",
     "Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org"),
    (6, "inbound", "rejected", 550, "5.1.1", "userunknown", "invalid_recipient", None,
     "<{rcpt}>: Recipient address rejected: User unknown in local recipient table"),
    (5, "inbound", "rejected", 554, "5.7.1", "rejected", "gateway_policy", None,
     "<{sender}>: Sender address rejected: Access denied"),
    (3, "inbound", "rejected", 552, "5.3.4", "mesgtoobig", "gateway_policy", None, "Message size exceeds fixed limit"),
    (4, "outbound", "bounced", 550, "5.1.1", "userunknown", "invalid_recipient", None,
     "host mx.remote said: 550 5.1.1 <{rcpt}>: Recipient address rejected"),
    (3, "outbound", "bounced", 550, "5.7.26", "authfailure", "remote_policy", None,
     "host gmail-smtp-in.l.google.com said: 550-5.7.26 Unauthenticated email is not accepted due to DMARC"),
    (4, "outbound", "deferred", 451, "4.3.0", "systemerror", "transient", None,
     "host mx.remote said: 451 Temporary local problem - please try later"),
)
_WEIGHTS = [o[0] for o in OUTCOMES]


class Population:
    """Domains with Zipf-like traffic shares, a few senders and client IPs each."""

    def __init__(self, domains: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        kinds = ("mail", "corp", "shop", "news")
        self.domains = [f"d{i:05d}-{kinds[i % 4]}.example" for i in range(domains)]
        self.weights = [1.0 / (i + 1) ** 0.8 for i in range(domains)]
        self.cum = []
        total = 0.0
        for w in self.weights:
            total += w
            self.cum.append(total)
        self.total = total

    def domain_index(self) -> int:
        import bisect

        return bisect.bisect_left(self.cum, self.rng.random() * self.total)

    def sender(self, d: int) -> str:
        return f"user{self.rng.randrange(12)}@{self.domains[d]}"

    @staticmethod
    def ip(d: int, k: int) -> str:
        n = d * 4 + k
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def rows(n: int, pop: Population, end: datetime, days: int = 30) -> Iterator[tuple[Any, ...]]:
    rng = pop.rng
    span = days * 86400
    outcomes = rng.choices(OUTCOMES, weights=_WEIGHTS, k=n)
    for i, (_, direction, disposition, code, status, reason, cause, zone, template) in enumerate(outcomes):
        d = pop.domain_index()
        when = end - timedelta(seconds=rng.random() * span)
        sender = pop.sender(d)
        rcpt = f"staff{rng.randrange(2000)}@ours.example"
        ip = pop.ip(d, rng.randrange(4))
        if direction == "outbound":
            sender, rcpt, ip = f"staff{rng.randrange(2000)}@ours.example", sender, "192.0.2.25"
        sender_domain = sender.rsplit("@", 1)[1]
        reply = template.format(ip=ip, rcpt=rcpt, sender=sender)
        yield (when, "bench", f"b{i}", direction, disposition, sender, sender_domain, reverse_domain(sender_domain),
               rcpt, rcpt.rsplit("@", 1)[1], ip, code, status, reply, reason, cause, zone,
               f"{i}.{rng.randrange(1 << 30)}@{sender_domain}")


def _secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type='index' "
                                      "AND tbl_name='events' AND name LIKE 'ix_%'"))
        else:
            found = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename='events' "
                                      "AND indexname LIKE 'ix_%' AND schemaname = current_schema()"))
        # pg_indexes shows a partitioned table's index as "ON ONLY events", which would index no partition.
        return [(name, sql.replace(" ON ONLY ", " ON ")) for name, sql in found]


def load(url: str, n: int, *, domains: int = 50_000, end: datetime | None = None, batch: int = 50_000,
         make_rows: Callable[[int, Population, datetime], Iterator[tuple[Any, ...]]] | None = None,
         columns: tuple[str, ...] = COLUMNS) -> float:
    """Create the schema and load n events (`make_rows`' values in `columns` order, default: `rows`) with the
    secondary indexes dropped meanwhile; returns seconds taken."""
    end = end or datetime.now(UTC)
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    indexes = _secondary_indexes(engine)
    with engine.begin() as conn:
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        partitions.ensure_partitions(conn, [(end - timedelta(days=k)).date() for k in range(32)])
    pop = Population(domains)
    make_rows = make_rows or rows
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA synchronous=OFF")
            placeholders = ",".join("?" * len(columns))
            sql = f"INSERT INTO events ({','.join(columns)}) VALUES ({placeholders})"  # noqa: S608
            chunk: list[tuple[Any, ...]] = []
            for row in make_rows(n, pop, end):
                chunk.append((row[0].replace(tzinfo=None).isoformat(" "), *row[1:]))
                if len(chunk) >= batch:
                    cur.executemany(sql, chunk)
                    chunk.clear()
            if chunk:
                cur.executemany(sql, chunk)
        else:
            with cur.copy(f"COPY events ({','.join(columns)}) FROM STDIN") as copy:
                for row in make_rows(n, pop, end):
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        for _, sql in indexes:
            conn.execute(text(sql))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE events"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def count(url: str) -> int:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM events")) or 0
    finally:
        engine.dispose()
