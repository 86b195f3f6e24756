"""Throughput of bot.reasons.classify as ingestion calls it: one call per event.

    python3 bench/classify.py [N]          (default 200000 events)

Replies are drawn from a realistic mix (Postfix gateway rejects, remote bounces, deferrals, deliveries); half
of them carry a unique address and IP, as real logs do, so that the memo cannot answer everything.
Prints calls per second and microseconds per call, cold (unique texts) and warm (repeated texts).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.reasons import classify
from bot.reasons.chain import _classify

TEMPLATES = [
    (550, "5.1.1", "<{a}>: Recipient address rejected: User unknown in local recipient table", "RCPT", "gateway",
     "rejected"),
    (554, "5.7.1", "Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
     "https://www.spamhaus.org/query/ip/{ip}", "RCPT", "gateway", "rejected"),
    (554, "5.7.1", "<{a}>: Sender address rejected: Access denied", "RCPT", "gateway", "rejected"),
    (504, "5.5.2", "<{h}>: Helo command rejected: need fully-qualified hostname", "RCPT", "gateway", "rejected"),
    (552, "5.3.4", "Message size exceeds fixed limit", "MAIL", "gateway", "rejected"),
    (550, "5.7.606", "Access denied, banned sending IP [{ip}]. To request removal from this list please visit "
     "https://sender.office.com/", "RCPT", "remote", "bounced"),
    (550, "5.7.26", "550-5.7.26 Unauthenticated email from {h} is not 550-5.7.26 accepted due to domain's DMARC "
     "policy. gsmtp", "DATA", "remote", "bounced"),
    (552, "5.2.2", "<{a}> Quota exceeded (mailbox for user is full)", "DATA", "remote", "bounced"),
    (451, "4.0.0", "Temporary local problem - please try later", "RCPT", "remote", "deferred"),
    (None, "4.4.1", "connect to {h}[{ip}]:25: Connection timed out", None, "remote", "deferred"),
    (550, "5.7.1", "Message rejected as spam by Content Filtering.", "DATA", "remote", "bounced"),
    (250, "2.0.0", "Ok: queued as 4F2A1160010", "DATA", "remote", "delivered"),
]


def events(n: int, unique_share: float, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        code, status, text, stage, side, disposition = rng.choice(TEMPLATES)
        if rng.random() < unique_share:
            values = {"a": f"user{i}@domain{i % 50000}.example", "ip": f"203.0.{(i >> 8) & 255}.{i & 255}",
                      "h": f"mx{i}.domain{i % 50000}.example"}
        else:
            values = {"a": "someone@example.org", "ip": "203.0.113.45", "h": "mx.example.org"}
        out.append((code, status, text.format(**values), stage, side, disposition))
    return out


def timed(batch: list[tuple]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): the CPU figure is the one to trust on a shared machine."""
    started, cpu = time.perf_counter(), time.process_time()
    for code, status, text, stage, side, disposition in batch:
        classify(smtp_code=code, enhanced_status=status, text=text, stage=stage, side=side,
                 disposition=disposition)
    return time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 200_000
    for label, share in (("cold (all texts unique)", 1.0), ("mixed (half unique)", 0.5),
                         ("warm (repeated texts)", 0.0)):
        runs = []
        for seed in (1, 2, 3):
            batch = events(n, share, seed)
            _classify.cache_clear()
            runs.append(timed(batch))
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"{label:26} {n} calls: wall {wall:6.2f} s, CPU {cpu:6.2f} s  "
              f"{n / cpu:9.0f} calls per CPU-second  {1e6 * cpu / n:6.1f} us CPU per call")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
