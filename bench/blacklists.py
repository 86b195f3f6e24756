"""Benchmark: bouncebot's BlacklistChecker vs pydnsbl on the same real rbldnsd, 20 zones, N IPs.

    python3 bench/blacklists.py [N_IPS] [--limit SECONDS] [--slow-ms MS] [--skip-pydnsbl]

Zones: 17 healthy ip4set zones, one slow (answers held back SLOW_MS by a delaying proxy), one dead (rbldnsd
ignores every query), one answering the error code 127.255.255.254 to everything (what Spamhaus answers to
queries from public resolvers). Every query of both checkers goes through the same proxy. Each IP is checked on
its own, one after the other; per-IP wall time, queries per second and false listings are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.blacklists import LISTED, UNKNOWN, BlacklistChecker, Zone
from tests.blacklists.dnsproxy import DelayingProxy
from tests.blacklists.rbldnsd import SOA, Rbldnsd

N_ZONES = 20
SLOW, DEAD, ERROR = "z18.bench.test", "z19.bench.test", "z20.bench.test"


def zone_names() -> list[str]:
    return [f"z{n:02d}.bench.test" for n in range(1, N_ZONES + 1)]


def make_ips(count: int) -> list[str]:
    base = int(ipaddress.IPv4Address("10.20.0.0"))
    return [str(ipaddress.IPv4Address(base + 7 * n + 1)) for n in range(count)]


def make_datasets(ips: list[str], rng: random.Random) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
    """Every zone but the dead and the error one lists ~5% of the IPs; returns the datasets and the truth."""
    truth: set[tuple[str, str]] = set()
    datasets: dict[tuple[str, str], str] = {}
    for zone in zone_names():
        if zone == DEAD:
            datasets[(zone, "acl")] = "0.0.0.0/0 :ignore\n::/0 :ignore\n"
            continue
        if zone == ERROR:
            datasets[(zone, "acl")] = "0.0.0.0/0 :127.255.255.254:Error: open resolver\n"
            continue
        listed = [ip for ip in ips if rng.random() < 0.05]
        truth.update((ip, zone) for ip in listed)
        datasets[(zone, "ip4set")] = SOA + ":127.0.0.2:listed $\n127.0.0.2\n" + "".join(f"{ip}\n" for ip in listed)
    return datasets, truth


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(name: str, per_ip: list[float], total: float, queries: int, false: int, missed: int,
            unknown: int) -> str:
    return (f"{name:12} per IP median {statistics.median(per_ip) * 1000:7.1f} ms  p95 "
            f"{percentile(per_ip, 0.95) * 1000:7.1f} ms  max {max(per_ip) * 1000:7.1f} ms  total {total:6.1f} s  "
            f"{queries / total:7.0f} queries/s  false listings {false}  missed {missed}  unknown {unknown}")


def bench_zones(names: list[str]) -> list[Zone]:
    return [Zone(name=z, kind="ip", codes={"127.0.0.2": "listed"}, query_zone=z) for z in names]


async def run_overhead(port: int, ips: list[str], limit: float) -> str:
    """The checker's own cost: the 18 zones that answer, straight to rbldnsd (no proxy, no slow or dead zone)."""
    checker = BlacklistChecker(bench_zones([z for z in zone_names() if z not in (SLOW, DEAD)]),
                               nameservers=["127.0.0.1"], port=port, timeout=limit)
    per_ip = []
    for ip in ips:
        t0 = time.perf_counter()
        await checker.check_async([ip])
        per_ip.append(time.perf_counter() - t0)
    return (f"{'overhead':12} 18 answering zones straight to rbldnsd, no proxy: per IP median "
            f"{statistics.median(per_ip[1:]) * 1000:.1f} ms, p95 {percentile(per_ip[1:], 0.95) * 1000:.1f} ms")


async def run_bouncebot(port: int, ips: list[str], limit: float, truth: set[tuple[str, str]]) -> str:
    zones = bench_zones(zone_names())
    checker = BlacklistChecker(zones, nameservers=["127.0.0.1"], port=port, timeout=limit)
    per_ip, false, missed, unknown = [], 0, 0, 0
    started = time.perf_counter()
    for ip in ips:
        t0 = time.perf_counter()
        results = await checker.check_async([ip])
        per_ip.append(time.perf_counter() - t0)
        for r in results:
            expected = (ip, r.zone) in truth
            false += r.result == LISTED and not expected
            missed += expected and r.result != LISTED
            unknown += r.result == UNKNOWN
    total = time.perf_counter() - started
    lines = [summary("bouncebot", per_ip, total, checker.queries_sent, false, missed, unknown)]
    one_trip = [t for ip, t in zip(ips, per_ip, strict=True) if (ip, SLOW) not in truth][1:]
    two_trips = [t for ip, t in zip(ips, per_ip, strict=True) if (ip, SLOW) in truth]
    lines.append(f"{'':12} IPs not listed on the slow zone (first IP excluded): median "
                 f"{statistics.median(one_trip) * 1000:.1f} ms, p95 {percentile(one_trip, 0.95) * 1000:.1f} ms; "
                 f"listed there ({len(two_trips)}, A then TXT = two slow round trips): median "
                 f"{statistics.median(two_trips) * 1000 if two_trips else 0:.1f} ms")
    batch = BlacklistChecker(zones, nameservers=["127.0.0.1"], port=port, timeout=limit)
    started = time.perf_counter()
    results = await batch.check_async(ips)
    total = time.perf_counter() - started
    false = sum(r.result == LISTED and (r.target, r.zone) not in truth for r in results)
    lines.append(f"{'batch':12} all {len(ips)} IPs in one check_async call: {total:.2f} s, "
                 f"{batch.queries_sent / total:.0f} queries/s, false listings {false}")
    return "\n".join(lines)


def run_pydnsbl(port: int, ips: list[str], limit: float, truth: set[tuple[str, str]], *, defaults: bool) -> str:
    import aiodns
    from pydnsbl import DNSBLIpChecker
    from pydnsbl.providers import Provider

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    timeout, tries = (5.0, 2) if defaults else (limit, 1)
    checker = DNSBLIpChecker(providers=[Provider(z) for z in zone_names()], timeout=timeout, tries=tries, loop=loop)
    checker._resolver = aiodns.DNSResolver(nameservers=["127.0.0.1"], timeout=timeout, tries=tries, loop=loop,
                                           udp_port=port, tcp_port=port)  # its resolver, pointed at our server
    per_ip, false, missed, unknown = [], 0, 0, 0
    failed: Counter[str] = Counter()
    started = time.perf_counter()
    for ip in ips:
        t0 = time.perf_counter()
        result = checker.check(ip)
        per_ip.append(time.perf_counter() - t0)
        detected = set(result.detected_by)
        false += len({z for z in detected if (ip, z) not in truth})
        missed += len({z for z in zone_names() if (ip, z) in truth} - detected)
        unknown += len(result.failed_providers)
        failed.update(p.host for p in result.failed_providers)
    total = time.perf_counter() - started
    loop.close()
    return (summary("pydnsbl", per_ip, total, len(ips) * N_ZONES, false, missed, unknown)
            + f"\n{'':12} failed lookups by zone: {dict(sorted(failed.items()))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ips", type=int, nargs="?", default=200, help="number of IPs to check (default 200)")
    parser.add_argument("--limit", type=float, default=1.0, help="per-zone time limit in seconds (default 1.0)")
    parser.add_argument("--slow-ms", type=float, default=300, help="delay of the slow zone (default 300 ms)")
    parser.add_argument("--skip-pydnsbl", action="store_true")
    parser.add_argument("--pydnsbl-defaults", action="store_true",
                        help="pydnsbl with its own defaults (timeout 5 s, 2 tries) instead of --limit and 1 try")
    args = parser.parse_args()
    rng = random.Random(5782)
    ips = make_ips(args.ips)
    datasets, truth = make_datasets(ips, rng)
    server = Rbldnsd.start(datasets)
    proxy = DelayingProxy(server.port, {SLOW: args.slow_ms / 1000})
    try:
        port = proxy.start()
        print(f"{args.ips} IPs x {N_ZONES} zones (1 slow at {args.slow_ms:.0f} ms, 1 dead, 1 answering "
              f"127.255.255.254), per-zone limit {args.limit} s, {len(truth)} true listings")
        print(asyncio.run(run_bouncebot(port, ips, args.limit, truth)))
        print(asyncio.run(run_overhead(server.port, ips, args.limit)))
        if not args.skip_pydnsbl:
            print(run_pydnsbl(port, ips, args.limit, truth, defaults=args.pydnsbl_defaults))
        print(f"slowest answering zone: {args.slow_ms:.0f} ms; target per-IP wall time <= {args.slow_ms + 50:.0f} ms")
    finally:
        proxy.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
