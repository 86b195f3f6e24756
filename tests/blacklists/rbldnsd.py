"""A real rbldnsd for tests and benchmarks, serving the REAL zone names on 127.0.0.1 and a free port.

Production code runs unchanged against it: `BlacklistChecker(zones, nameservers=["127.0.0.1"], port=server.port)`
(or `settings_for(server)`). Other test packages reuse the fixtures:

    from tests.blacklists.rbldnsd import rbldnsd_server, settings_for  # noqa: F401  (pytest fixture)

`HEALTHY` lists every default zone with its RFC 5782 test points and a few listings (see the LISTED_* names);
`FAULTY` serves the same real names with each fault of ../shared/recipes/rbldnsd.md. `DelayingProxy` sits in
front of a server and holds back the answers of chosen zones, to make a slow zone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest

from bot.config import Settings
from tests.blacklists.dnsproxy import DelayingProxy
from tests.support import free_port, stop_server, unavailable

SOA = "$SOA 0 ns.bouncebot.test. hostmaster.bouncebot.test. 0 1h 15m 1d 60\n$TTL 60\n"

# Addresses and domains the HEALTHY server lists (documentation ranges only).
LISTED_IP = "192.0.2.99"             # ZEN 127.0.0.3 + 127.0.0.4 with TXT, SpamCop, Mailspike, SpamRATS
CLEAN_IP = "192.0.2.1"
PBL_RANGE = "198.51.100.0/24"        # ZEN 127.0.0.11 ...
PBL_EXCLUDED = "198.51.100.7"        # ... except this one
LISTED_IP6 = "2001:db8:bad::25"      # ZEN ip6trie 2001:db8:bad::/48
EXCLUDED_IP6 = "2001:db8:bad::1"
CLEAN_IP6 = "2001:db8:600d::25"
PHISH_PARENT = "phish.example"       # DBL ".phish.example": the domain and every subdomain
REGISTRABLE_LISTED = "spamdomain.co.uk"  # DBL exact entry: "mail.spamdomain.co.uk" is listed via its registrable
URIBL_LISTED = "bulk-sender.example"  # URIBL 127.0.0.6: black + grey (bitmask)


def ip4set(body: str) -> str:
    return SOA + body


HEALTHY: dict[tuple[str, str], str] = {
    ("zen.spamhaus.org", "ip4set"): ip4set(
        ":127.0.0.2:Listed in test SBL, see https://check.spamhaus.org/listed/?searchterm=$\n"
        "127.0.0.2\n127.0.0.2 :127.0.0.4:XBL test entry $\n"
        f"{LISTED_IP} :127.0.0.3:CSS listing for $\n{LISTED_IP} :127.0.0.4:XBL listing for $ (exploited host)\n"
        f"{PBL_RANGE} :127.0.0.11:PBL policy block $\n!{PBL_EXCLUDED}\n"),
    ("zen.spamhaus.org", "ip6trie"): (
        "$TTL 60\n::ffff:7f00:2 :127.0.0.2:IPv6 test point\n"
        "2001:db8:bad::/48 :127.0.0.3:CSS IPv6 listing $\n!2001:db8:bad::1\n"),
    ("dbl.spamhaus.org", "dnset"): ip4set(
        ":127.0.1.2:Domain $ listed in test DBL (spam)\ndbltest.com\n"
        f".{PHISH_PARENT} :127.0.1.4:Phish domain $\n{REGISTRABLE_LISTED}\n"),
    ("bl.spamcop.net", "ip4set"): ip4set(f":127.0.0.2:Blocked - see https://www.spamcop.net/bl.shtml?$\n"
                                         f"127.0.0.2\n{LISTED_IP}\n"),
    ("b.barracudacentral.org", "ip4set"): ip4set(":127.0.0.2:Barracuda test\n127.0.0.2\n"),
    ("bl.mailspike.net", "ip4set"): ip4set(":127.0.0.2:Mailspike\n127.0.0.2\n"
                                           f"{LISTED_IP}\n{LISTED_IP} :127.0.0.11:Mailspike L4\n"),
    ("psbl.surriel.com", "ip4set"): ip4set(":127.0.0.2:PSBL test\n127.0.0.2\n"),
    ("dnsbl-1.uceprotect.net", "ip4set"): ip4set(":127.0.0.2:UCEPROTECT test\n127.0.0.2\n"),
    ("all.s5h.net", "ip4set"): ip4set(":127.0.0.2:s5h test\n127.0.0.2\n"),
    ("bl.0spam.org", "ip4set"): ip4set(":127.0.0.2:0spam test\n127.0.0.2\n"),
    ("all.spamrats.com", "ip4set"): ip4set(":127.0.0.38:SpamRATS $\n127.0.0.2\n"
                                           f"{LISTED_IP} :127.0.0.38:RATS-Spam $\n"),
    ("multi.surbl.org", "dnset"): ip4set(":127.0.0.88:SURBL test\ntest.surbl.org\n"),
    ("multi.uribl.com", "dnset"): ip4set(":127.0.0.14:URIBL test\ntest.uribl.com\n"
                                         f"{URIBL_LISTED} :127.0.0.6:black and grey $\n"),
}

IGNORE_ALL = "0.0.0.0/0 :ignore\n::/0 :ignore\n"
REFUSE_ALL = "0.0.0.0/0 :refuse\n::/0 :refuse\n"

#: Real zone names with each fault of the recipe table (zones not named here stay healthy).
FAULTY: dict[tuple[str, str], str] = {
    **HEALTHY,
    ("bl.spamcop.net", "acl"): IGNORE_ALL,                                        # dead: timeout
    ("b.barracudacentral.org", "acl"): REFUSE_ALL,                                # REFUSED
    ("psbl.surriel.com", "ip4set"): "$TIMESTAMP 2020:01:01 +1d\n" + HEALTHY[("psbl.surriel.com", "ip4set")],
    ("zen.spamhaus.org", "acl"): "0.0.0.0/0 :127.255.255.254:Error: open resolver\n",  # error code
    ("dnsbl-1.uceprotect.net", "acl"): "0.0.0.0/0 :127.0.0.2:Everything is listed\n",  # lists everything
    ("multi.uribl.com", "acl"): "0.0.0.0/0 :127.0.0.1:Query refused\n",           # URIBL "refused" code
    ("dbl.spamhaus.org", "acl"): "0.0.0.0/0 :192.0.2.53:not a block-list answer\n",  # outside 127/8
}


def find_rbldnsd() -> str | None:
    return shutil.which("rbldnsd") or next((p for p in ("/usr/sbin/rbldnsd",) if os.path.exists(p)), None)


@dataclass
class Rbldnsd:
    """A running rbldnsd; stop() ends it (by the PID of the process we started)."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, datasets: Mapping[tuple[str, str], str], *, binary: str | None = None,
              port: int | None = None) -> Rbldnsd:
        binary = binary or find_rbldnsd()
        if not binary:
            raise FileNotFoundError("rbldnsd is not installed (apt-get install rbldnsd)")
        folder = Path(tempfile.mkdtemp(prefix="bouncebot-rbldnsd-"))
        folder.chmod(0o755)  # rbldnsd drops root for the user rbldns, which must read the files
        args = []
        for n, ((zone, kind), text) in enumerate(datasets.items()):
            name = f"d{n}.{kind}"
            (folder / name).write_text(text, encoding="utf-8")
            (folder / name).chmod(0o644)
            args.append(f"{zone}:{kind}:{name}")
        for zone in sorted({z for z, k in datasets if k == "acl"} - {z for z, k in datasets if k != "acl"}):
            (folder / "empty.ip4set").write_text(SOA, encoding="utf-8")  # an acl alone is "missing data"
            (folder / "empty.ip4set").chmod(0o644)
            args.append(f"{zone}:ip4set:empty.ip4set")
        port = port or free_port()
        log = (folder / "rbldnsd.log").open("wb")
        process = subprocess.Popen(
            [binary, "-n", "-q", "-b", f"127.0.0.1/{port}", "-r", str(folder), "-t", "60", "-c", "0", *args],
            stdout=log, stderr=subprocess.STDOUT)
        server = cls(port=port, folder=folder, process=process)
        server.wait_ready()
        return server

    def wait_ready(self, seconds: float = 10.0) -> None:
        query = dns.message.make_query("version.bind", "TXT", "CH")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"rbldnsd exited: {self.log()}")
            try:
                dns.query.udp(query, "127.0.0.1", port=self.port, timeout=0.2)
                return
            except (dns.exception.Timeout, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"rbldnsd did not answer within {seconds} s: {self.log()}")

    def log(self) -> str:
        path = self.folder / "rbldnsd.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        stop_server(self.process, self.folder)


def settings_for(port: int, **changes: object) -> Settings:
    """Settings pointing the checker at a local server (the rest as in production)."""
    base = Settings(dns_nameservers=("127.0.0.1",), dns_port=port, dns_timeout=1.0)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def rbldnsd_server() -> Iterator[Rbldnsd]:
    """rbldnsd with every default zone healthy (HEALTHY)."""
    yield from _serve(HEALTHY)


@pytest.fixture(scope="session")
def faulty_rbldnsd() -> Iterator[Rbldnsd]:
    """rbldnsd with the recipe's faults on real zone names (FAULTY)."""
    yield from _serve(FAULTY)


def _serve(datasets: Mapping[tuple[str, str], str]) -> Iterator[Rbldnsd]:
    binary = find_rbldnsd()
    if not binary:
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    server = Rbldnsd.start(datasets, binary=binary)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slow_proxy(rbldnsd_server: Rbldnsd) -> Iterator[DelayingProxy]:
    """A proxy in front of the healthy server; set `.delays[zone] = seconds` in the test."""
    proxy = DelayingProxy(rbldnsd_server.port, {})
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


__all__: Sequence[str] = ("FAULTY", "HEALTHY", "DelayingProxy", "Rbldnsd", "faulty_rbldnsd", "rbldnsd_server",
                          "settings_for", "slow_proxy")
