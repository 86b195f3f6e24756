"""Benchmark `why`: diagnosis latency for an address, a domain and an IP in a store of N events.

    python3 bench/why.py 10000000 --sqlite /tmp/why.db --pg postgresql://postgres@127.0.0.1/test

Fills the store (once; reused when it already holds N events) with N events over 30 days from 50,000 sender
domains with Zipf-like traffic, then times diagnose() (no live DNS checks) for random targets of each kind and
prints the median and p95; the busiest domain is reported on its own line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.storegen import Population, count, load
from bot.config import Settings
from bot.diagnosis import diagnose
from bot.store import Store
from bot.targets import Target


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_kind(store: Store, targets: list[Target], settings: Settings) -> list[float]:
    times = []
    for target in targets:
        with store.session() as session:
            started = time.perf_counter()
            diagnose(session, target, settings=settings)
            times.append((time.perf_counter() - started) * 1000)
    return times


def run(url: str, n: int, queries: int, domains: int) -> None:
    have = count(url)
    if have != n:
        if have:
            sys.exit(f"{url} holds {have} events, not {n}: use an empty database")
        print(f"loading {n:,} events into {url.split('?')[0]} ...", flush=True)
        print(f"  loaded in {load(url, n, domains=domains):.0f} s", flush=True)
    pop = Population(domains, seed=99)
    sample = [pop.rng.randrange(domains) for _ in range(queries)]
    kinds = {
        "address": [Target("address", f"user{pop.rng.randrange(12)}@{pop.domains[d]}") for d in sample],
        "domain": [Target("domain", pop.domains[d]) for d in sample],
        "ip": [Target("ip", Population.ip(d, pop.rng.randrange(4))) for d in sample],
    }
    store = Store.open(url)
    settings = Settings()
    engine = store.engine.dialect.name
    for kind, targets in kinds.items():
        time_kind(store, targets[:3], settings)  # warm the cache a little, like a running bot
        times = time_kind(store, targets, settings)
        print(f"{engine:10} {kind:8} n={len(times):4} median {statistics.median(times):7.1f} ms   "
              f"p95 {percentile(times, 0.95):7.1f} ms", flush=True)
    worst = time_kind(store, [Target("domain", pop.domains[0])] * 5, settings)
    print(f"{engine:10} busiest domain ({pop.domains[0]}, ~{pop.weights[0] / pop.total:.1%} of traffic): "
          f"median {statistics.median(worst):.0f} ms", flush=True)
    store.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("events", type=int, nargs="?", default=10_000_000)
    p.add_argument("--sqlite", default="/tmp/bouncebot-bench-why.db", help="SQLite file to use")
    p.add_argument("--pg", default=None, help="also run on this PostgreSQL URL (an empty database or schema)")
    p.add_argument("--queries", type=int, default=50, help="targets timed per kind")
    p.add_argument("--domains", type=int, default=50_000)
    args = p.parse_args()
    run(f"sqlite:///{args.sqlite}", args.events, args.queries, args.domains)
    if args.pg:
        run(args.pg, args.events, args.queries, args.domains)


if __name__ == "__main__":
    main()
