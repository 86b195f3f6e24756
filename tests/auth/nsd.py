"""A real NSD (Debian's authoritative name server) for tests and benchmarks, on 127.0.0.1 and a free port.

Production code runs unchanged against it: `AuthChecker(nameservers=["127.0.0.1"], port=server.port)`, or
`settings_for(server.port)` from tests.blacklists.rbldnsd. `ZONES` is the test world (documentation ranges
and .example names only); the zone `broken.example` is configured with a file NSD cannot load, so NSD answers
SERVFAIL for every name in it. Other test packages reuse the fixture:

    from tests.auth.nsd import nsd_server  # noqa: F401  (pytest fixture)
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest

from tests.support import free_port, require_binary, stop_server

#: Public keys for the DKIM records (no private key is kept: only the record's parsing is tested).
RSA_2048 = ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0rkCGoFUl0G6KKbGJEVGsKHln9bRGo93be2/EfSFSFvDvMDj+OQvChOT0HkdO"
            "7dzpWUkYTyUWFpwa798eQONArPyDv5MrdnQVIyiKBWlXuwbgzV1SVC7eKcM5Ncb+GC78bO/TCsV3gksMg4C/s1PxDCUnVpsqV9Qsr4rr"
            "zVwGaXkSYCe3xwT/PTw8sz9eK30UHPUJQHnTJuvEgdfykH1mRrEwdMfK493/eVC9FMaNTXrVYpqYJ87X5mmpWxi/jmThjUROGXHruFU/y"
            "cb343j6Pk1MHz2QLmzRQXK+VZKgwdkYu31fh8HNWzc7L/d5WcvsouPEjj5wX8JSbOQQUzuxQIDAQAB")
RSA_512 = ("MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMt59cJuy65EV9ohLqeqHYY/QszGTNBHc/DlfH+ElScBKHVey1ySJRgkeg2GpRxnk"
           "aFlCNzjFSKsUClXquTLVMUCAwEAAQ==")

SOA = "@ 60 IN SOA ns.example. hostmaster.example. 1 3600 900 86400 60\n@ 60 IN NS ns.example.\n"


def txt(text: str) -> str:
    """A TXT rdata: strings of at most 250 characters, quoted (a DKIM key is longer than one string)."""
    chunks = [text[i:i + 250] for i in range(0, len(text), 250)] or [""]
    return "TXT " + " ".join('"' + c.replace('"', '\\"') + '"' for c in chunks)


def _include_chain(n: int) -> str:
    return "".join(f"l{i}.toomany.example. {txt('v=spf1 -all')}\n" for i in range(1, n + 1))


EXAMPLE = SOA + "ns.example. A 127.0.0.1\n" + f"""
; corp.example: our own domain; SPF covers 203.0.113.0/24; mx1 has forward-confirmed reverse DNS
corp.example. {txt('v=spf1 ip4:203.0.113.0/24 -all')}
corp.example. MX 10 mx1.corp.example.
mx1.corp.example. A 203.0.113.10
_dmarc.corp.example. {txt('v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@corp.example')}
sel1._domainkey.corp.example. {txt('v=DKIM1; k=rsa; p=' + RSA_2048)}
short._domainkey.corp.example. {txt('v=DKIM1; k=rsa; p=' + RSA_512)}
revoked._domainkey.corp.example. {txt('v=DKIM1; k=rsa; p=')}
garbled._domainkey.corp.example. {txt('v=DKIM1; k=rsa; p=bm90IGEga2V5')}
mail.corp.example. A 203.0.113.11
; includes, redirects, macros, too many lookups, syntax errors
include.example. {txt('v=spf1 include:_spf.relay.example -all')}
_spf.relay.example. {txt('v=spf1 ip4:198.51.100.0/24 ~all')}
redirect.example. {txt('v=spf1 redirect=corp.example')}
macro.example. {txt('v=spf1 exists:%{ir}._spf.macro.example -all')}
9.2.0.192._spf.macro.example. A 127.0.0.2
toomany.example. {txt('v=spf1 ' + ' '.join(f'include:l{i}.toomany.example' for i in range(1, 12)) + ' -all')}
{_include_chain(11)}
syntax.example. {txt('v=spf1 ip4:192.0.2.300 -all')}
softfail.example. {txt('v=spf1 ip4:198.51.100.1 ~all')}
brokeninclude.example. {txt('v=spf1 include:spf.broken.example -all')}
neutral.example. {txt('v=spf1 ?all')}
twospf.example. {txt('v=spf1 -all')}
twospf.example. {txt('v=spf1 +all')}
nospf.example. A 192.0.2.80
; DMARC in every policy, and broken ones
none.example. {txt('v=spf1 ip4:192.0.2.9 -all')}
_dmarc.none.example. {txt('v=DMARC1; p=none')}
quarantine.example. {txt('v=spf1 -all')}
_dmarc.quarantine.example. {txt('v=DMARC1; p=quarantine; pct=50; aspf=s; rua=mailto:d@quarantine.example')}
_dmarc.include.example. {txt('v=DMARC1; p=reject; adkim=s; rua=mailto:d@include.example')}
_dmarc.badpolicy.example. {txt('v=DMARC1; p=block')}
_dmarc.nopolicy.example. {txt('v=DMARC1; rua=mailto:d@nopolicy.example')}
_dmarc.tworecords.example. {txt('v=DMARC1; p=none')}
_dmarc.tworecords.example. {txt('v=DMARC1; p=reject')}
; MX: none (implicit), null MX, names that do not resolve
nullmx.example. MX 0 .
deadmx.example. MX 10 gone.deadmx.example.
halfmx.example. MX 10 mx1.corp.example.
halfmx.example. MX 20 gone.halfmx.example.
; slow.example: the tests put a delaying proxy in front for it
slow.example. {txt('v=spf1 -all')}
_dmarc.slow.example. {txt('v=DMARC1; p=reject')}
slow.example. MX 10 mx1.corp.example.
"""

REVERSE_203 = SOA + """
10 PTR mx1.corp.example.
11 PTR mail.corp.example.
20 PTR mail.nowhere.example.
"""

#: zone name -> zone file text; None: a zone NSD is told to serve from a file it cannot read (SERVFAIL).
ZONES: dict[str, str | None] = {
    "example": EXAMPLE,
    "113.0.203.in-addr.arpa": REVERSE_203,
    "broken.example": None,
}


@dataclass
class Nsd:
    """A running NSD; stop() ends the process we started (by its handle)."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, zones: Mapping[str, str | None], *, binary: str, port: int | None = None) -> Nsd:
        folder = Path(tempfile.mkdtemp(prefix="bouncebot-nsd-"))
        port = port or free_port()
        conf = [
            "server:", f"  ip-address: 127.0.0.1@{port}", f"  port: {port}", "  server-count: 1",
            '  username: ""', '  chroot: ""', f'  zonesdir: "{folder}"', f'  pidfile: "{folder}/nsd.pid"',
            '  database: ""', f'  xfrdfile: "{folder}/xfrd.state"', f'  zonelistfile: "{folder}/zone.list"',
            f'  logfile: "{folder}/nsd.log"', "  verbosity: 1", "  hide-version: yes", "  ip-transparent: no",
            "remote-control:", "  control-enable: no",
        ]
        for n, (name, text) in enumerate(zones.items()):
            path = folder / f"z{n}.zone"
            if text is not None:
                path.write_text(f"$ORIGIN {name}.\n$TTL 60\n{text}", encoding="utf-8")
            else:
                path.write_text("this is not a zone file\n", encoding="utf-8")
            conf += ["zone:", f"  name: {name}.", f'  zonefile: "{path.name}"']
        (folder / "nsd.conf").write_text("\n".join(conf) + "\n", encoding="utf-8")
        check = subprocess.run([binary.replace("/nsd", "/nsd-checkconf"), str(folder / "nsd.conf")],
                               capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nsd-checkconf: {check.stdout}{check.stderr}")
        log = (folder / "stdout.log").open("wb")
        process = subprocess.Popen([binary, "-d", "-c", str(folder / "nsd.conf")], stdout=log,
                                   stderr=subprocess.STDOUT)
        server = cls(port=port, folder=folder, process=process)
        server.wait_ready(next(name for name, text in zones.items() if text is not None))
        return server

    def wait_ready(self, zone: str, seconds: float = 15.0) -> None:
        query = dns.message.make_query(zone + ".", "SOA")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"nsd exited: {self.log()}")
            try:
                reply = dns.query.udp(query, "127.0.0.1", port=self.port, timeout=0.2)
                if reply.answer:
                    return
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nsd did not answer within {seconds} s: {self.log()}")

    def log(self) -> str:
        texts = [p.read_text(errors="replace") for p in (self.folder / "nsd.log", self.folder / "stdout.log")
                 if p.exists()]
        return "\n".join(texts)[-2000:]

    def stop(self) -> None:
        stop_server(self.process, self.folder)


@contextmanager
def serving(zones: Mapping[str, str | None]) -> Iterator[Nsd]:
    """NSD serving `zones` for the `with` block (skips, or fails in CI, where nsd is not installed)."""
    server = Nsd.start(zones, binary=require_binary("nsd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nsd_server() -> Iterator[Nsd]:
    """NSD serving ZONES."""
    with serving(ZONES) as server:
        yield server
