"""Benchmark: authentication checks per second against a real NSD on loopback.

    python3 bench/auth.py [N_DOMAINS] [--concurrency C] [--timeout SECONDS]

N domains, each with an SPF record that includes one of ten relay records, a DMARC record, a DKIM key, an MX
whose host has an address, and that host's IP with a forward-confirmed PTR. One full check = SPF (evaluated
for the host's IP: 3 DNS questions), DMARC, DKIM, PTR + forward confirmation, MX + its host's A/AAAA: 9-10
questions. Every domain is checked once cold (no cache: each domain is new), one at a time and then C at once,
then once more from the cache (kept an hour here, so that a long run still hits it).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.auth import AuthChecker, AuthReport, AuthRequest
from tests.auth.nsd import RSA_2048, SOA, Nsd, find_nsd, txt


def host_ip(n: int) -> str:
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("198.18.0.0")) + n + 1))


def zones(count: int) -> dict[str, str]:
    forward = [SOA]
    forward += [f"_spf.relay{r} {txt(f'v=spf1 ip4:192.0.2.{r * 16}/28 ~all')}\n" for r in range(10)]
    reverse = [SOA]
    for n in range(count):
        ip = host_ip(n)
        forward.append(f"d{n} {txt(f'v=spf1 include:_spf.relay{n % 10}.bench.example ip4:{ip} -all')}\n"
                       f"_dmarc.d{n} {txt('v=DMARC1; p=reject; rua=mailto:dmarc@bench.example')}\n"
                       f"s1._domainkey.d{n} {txt('v=DKIM1; k=rsa; p=' + RSA_2048)}\n"
                       f"d{n} MX 10 mx.d{n}\nmx.d{n} A {ip}\n")
        octets = ip.split(".")
        reverse.append(f"{octets[3]}.{octets[2]} PTR mx.d{n}.bench.example.\n")
    return {"bench.example": "".join(forward), "18.198.in-addr.arpa": "".join(reverse)}


def request(n: int) -> AuthRequest:
    return AuthRequest(f"d{n}.bench.example", host_ip(n), ("s1",), f"d{n}.bench.example")


def verify(report: AuthReport) -> bool:
    return all(r.verdict == "ok" for _, r in report.results())


async def concurrent(checker: AuthChecker, indexes: range, width: int) -> tuple[float, int]:
    good = 0
    started = time.perf_counter()
    for start in range(indexes.start, indexes.stop, width):
        batch = range(start, min(start + width, indexes.stop))
        reports = await asyncio.gather(*(checker.check_async(request(n)) for n in batch))
        good += sum(verify(r) for r in reports)
    return time.perf_counter() - started, good


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("domains", type=int, nargs="?", default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    binary = find_nsd()
    if not binary:
        print("nsd is not installed (apt-get install nsd)", file=sys.stderr)
        return 1
    half = args.domains // 2
    server = Nsd.start(zones(args.domains), binary=binary)
    try:
        checker = AuthChecker(nameservers=["127.0.0.1"], port=server.port, timeout=args.timeout,
                              cache_size=args.domains * 10, cache_ttl=3600.0)
        times, good = [], 0
        cpu = time.process_time()
        started = time.perf_counter()
        for n in range(half):
            one = time.perf_counter()
            good += verify(checker.check(request(n)))
            times.append((time.perf_counter() - one) * 1000)
        sequential = time.perf_counter() - started
        cpu_sequential = time.process_time() - cpu
        cpu = time.process_time()
        wall, good_c = asyncio.run(concurrent(checker, range(half, args.domains), args.concurrency))
        cpu_concurrent = time.process_time() - cpu
        started = time.perf_counter()
        for n in range(args.domains):
            checker.check(request(n))
        cached = time.perf_counter() - started
    finally:
        server.stop()
    rest = args.domains - half
    q = statistics.quantiles(times, n=100)
    print(f"domains: {args.domains}; every check all ok: {good + good_c == args.domains} ({good + good_c})")
    print(f"one at a time ({half}): {half / sequential:,.0f} checks/s; per check p50 {q[49]:.1f} ms, "
          f"p95 {q[94]:.1f} ms, max {max(times):.1f} ms; CPU {cpu_sequential / half * 1000:.1f} ms per check")
    print(f"{args.concurrency} at once ({rest}): {rest / wall:,.0f} checks/s; "
          f"CPU {cpu_concurrent / rest * 1000:.1f} ms per check")
    print(f"from the cache ({args.domains}): {args.domains / cached:,.0f} checks/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
