"""BlacklistChecker: every target against every applicable zone, concurrently, each zone with its own limit.

A check takes about as long as the slowest zone that answers: all questions go out at once, and a zone that
does not answer within the limit is `unknown` (timed out) and is not asked again for `down_for` seconds, so a
dead list costs its limit once, not on every check. Answers are cached for their TTL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import dns.asyncresolver
import dns.resolver

from bot.blacklists.answers import read_codes
from bot.blacklists.cache import AnswerCache
from bot.blacklists.failures import describe_resolver
from bot.blacklists.health import judge
from bot.blacklists.lookup import ANSWER, FAILED, RawAnswer, ask_a, ask_txt
from bot.blacklists.names import CheckTarget, parse_check_target, probe_query_name
from bot.blacklists.results import (
    HEALTH_NO_TEST,
    LISTED,
    NOT_APPLICABLE,
    NOT_LISTED,
    UNKNOWN,
    ListingResult,
    ZoneHealth,
)
from bot.blacklists.zones import Zone, find_zone, load_zones
from bot.config import ConfigError, Settings

T = TypeVar("T")


@dataclass(frozen=True)
class _Looked:
    """One name in one zone: the A answer, its reading, and the TXT fetched after a listing."""

    raw: RawAnswer
    result: str
    meaning: str = ""
    why: str = ""
    txt: str = ""
    cached: bool = False


def make_resolver(nameservers: Sequence[str], port: int, timeout: float) -> dns.asyncresolver.Resolver:
    """A resolver for the configured name servers, or the system's (/etc/resolv.conf) when none is set."""
    if timeout <= 0:
        raise ConfigError(f"BOUNCEBOT_DNS_TIMEOUT must be positive, got {timeout}")
    if not 0 < port < 65536:
        raise ConfigError(f"BOUNCEBOT_DNS_PORT must be a port number, got {port}")
    if nameservers:
        for server in nameservers:
            try:
                ipaddress.ip_address(server)
            except ValueError as exc:
                raise ConfigError(f"BOUNCEBOT_DNS_NAMESERVERS: {server!r} is not an IP address") from exc
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = list(nameservers)
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration as exc:
            raise ConfigError("no system resolver configured; set BOUNCEBOT_DNS_NAMESERVERS") from exc
    resolver.port = port
    # One try per question with one server (the zone's whole budget); with several, half each, so a dead
    # first server still leaves time for the next.
    resolver.timeout = timeout if len(resolver.nameservers) < 2 else timeout / 2
    resolver.lifetime = timeout
    resolver.cache = None        # our own cache, keyed per zone, bounded
    return resolver


def run_sync(coro_factory: Callable[[], Any]) -> Any:
    """Run a coroutine from sync code; from inside a running loop, in a worker thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()


class BlacklistChecker:
    """Checks IPs and domains on DNS block lists. Sync `check()`, async `check_async()`, `health()`."""

    def __init__(self, zones: Sequence[Zone], *, nameservers: Sequence[str] = (), port: int = 53,
                 timeout: float = 2.0, cache_size: int = 10_000, health_interval: float = 300.0,
                 down_for: float = 60.0, max_in_flight: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.zones = list(zones)
        self.timeout = timeout
        self.resolver = make_resolver(nameservers, port, timeout)
        self._configured_resolver = bool(nameservers)
        self.cache: AnswerCache[_Looked] = AnswerCache(cache_size, clock=clock)
        self.health_interval = health_interval
        self.down_for = down_for
        self.clock = clock
        self.queries_sent = 0
        self.max_in_flight = max_in_flight
        self._slots_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())
        self._slots_lock = threading.Lock()
        self._health: dict[str, ZoneHealth] = {}
        self._probing: dict[str, asyncio.Task[ZoneHealth]] = {}
        self._down_until: dict[str, tuple[float, str]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> BlacklistChecker:
        zones = load_zones(settings.dnsbl_zones_file, key=settings.spamhaus_dqs_key)
        return cls(zones, nameservers=settings.dns_nameservers, port=settings.dns_port,
                   timeout=settings.dns_timeout, **options)

    def resolver_description(self) -> str:
        """The resolver asked, for messages: "127.0.0.1 port 5300 (BOUNCEBOT_DNS_NAMESERVERS)"."""
        return describe_resolver(self.resolver.nameservers, self.resolver.port, self._configured_resolver)

    # ---- checks -------------------------------------------------------------------------------------------

    def check(self, targets: Iterable[str] | str) -> list[ListingResult]:
        """Check targets (IPs, domains); raises InvalidTarget (a ValueError) before asking anything."""
        parsed = self._parse(targets)
        return run_sync(lambda: self._check_parsed(parsed))

    async def check_async(self, targets: Iterable[str] | str) -> list[ListingResult]:
        return await self._check_parsed(self._parse(targets))

    @staticmethod
    def _parse(targets: Iterable[str] | str) -> list[CheckTarget]:
        items = [targets] if isinstance(targets, str) else list(targets)
        if not items:
            return [parse_check_target("")]  # raises "empty target"
        return [parse_check_target(item) for item in items]

    async def _check_parsed(self, parsed: list[CheckTarget]) -> list[ListingResult]:
        jobs = [self._check_zone(target, zone) for target in parsed for zone in self.zones
                if zone.kind == target.zone_kind]
        return list(await asyncio.gather(*jobs))

    async def _check_zone(self, target: CheckTarget, zone: Zone) -> ListingResult:
        start = time.perf_counter()
        base: dict[str, Any] = {"target": target.given, "zone": zone.name, "name": target.names[0],
                                "delist_url": zone.lookup_url(target.names[0])}
        if target.kind == "ipv6" and not zone.ipv6:
            return ListingResult(result=NOT_APPLICABLE, why="this list has IPv4 addresses only", **base)
        if zone.needs_key and not zone.keyed:
            return ListingResult(result=UNKNOWN, why="this list needs a key and none is configured", **base)
        down = self._down_why(zone)
        if down:
            return ListingResult(result=UNKNOWN, why=down, trustworthy=True, **base)
        health_job = self._health_job(zone)
        looked = await asyncio.gather(*(self._lookup(zone, q) for q in target.query_names),
                                      *([health_job] if health_job else []))
        answers: list[_Looked] = list(looked[:len(target.query_names)])
        ms = (time.perf_counter() - start) * 1000
        health = self._health.get(zone.name)
        chosen, name = _combine(answers, target.names)
        base.update(name=name, delist_url=zone.lookup_url(name))
        codes = chosen.raw.codes if chosen.raw.status == ANSWER else ()
        if health is not None and health.broken:
            return ListingResult(result=UNKNOWN, codes=codes, txt=chosen.txt,
                                 why=f"this list is broken: {health.why}", ms=ms, trustworthy=False,
                                 cached=chosen.cached, **base)
        if health is not None and health.state == HEALTH_NO_TEST and chosen.result == NOT_LISTED:
            # A list that does not list its own test entry answers "no" to everything: a resolver that blocks
            # block-list queries looks exactly like this. Its "not listed" is not evidence of being clean.
            return ListingResult(result=UNKNOWN, why=f"cannot trust 'not listed': this list {health.why}",
                                 ms=ms, trustworthy=False, cached=chosen.cached, **base)
        return ListingResult(result=chosen.result, codes=codes, meaning=chosen.meaning, txt=chosen.txt,
                             why=chosen.why, ms=ms, cached=chosen.cached, **base)

    async def _lookup(self, zone: Zone, label: str) -> _Looked:
        key = (zone.query_zone, label)
        hit = self.cache.get(key)
        if hit is not None:
            return _Looked(hit.raw, hit.result, hit.meaning, hit.why, hit.txt, cached=True)
        async with self._slots():  # the zone's limit starts once a socket is free: big batches queue, not fail
            down = self._down_why(zone)  # it may have timed out while this question waited for a socket
            if down:
                return _Looked(RawAnswer(FAILED, why=down, timed_out=True), UNKNOWN, why=down)
            return await self._ask(zone, key, time.perf_counter() + self.timeout)

    def _slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._slots_lock:
            slots = self._slots_by_loop.get(loop)
            if slots is None:
                slots = self._slots_by_loop[loop] = asyncio.Semaphore(self.max_in_flight)
        return slots

    async def _ask(self, zone: Zone, key: tuple[str, str], deadline: float) -> _Looked:
        qname = f"{key[1]}.{zone.query_zone}"
        self.queries_sent += 1
        raw = await ask_a(self.resolver, qname, deadline - time.perf_counter())
        if raw.status == FAILED:
            if raw.timed_out:
                self._mark_down(zone, raw.why)
            return _Looked(raw, UNKNOWN, why=raw.why)
        reading = read_codes(zone, raw.codes)
        txt = txt_why = ""
        if reading.result == LISTED:
            self.queries_sent += 1
            txt, txt_why = await ask_txt(self.resolver, qname, deadline - time.perf_counter())
        txt_failed = txt_why not in ("", "no TXT record")
        looked = _Looked(raw, reading.result, reading.meaning, reading.why or (txt_why if txt_failed else ""), txt)
        health = self._health.get(zone.name)
        if not txt_failed and not (health is not None and health.broken):
            self.cache.put(key, looked, raw.ttl)
        return looked

    def zone_named(self, text: str) -> str | None:
        """The configured zone a bounce text names (by name or alias), for cross-checking it live."""
        zone = find_zone(self.zones, text)
        return zone.name if zone else None

    # ---- dead zones ---------------------------------------------------------------------------------------

    def _mark_down(self, zone: Zone, why: str) -> None:
        self._down_until[zone.name] = (self.clock() + self.down_for, why)

    def _down_why(self, zone: Zone) -> str:
        entry = self._down_until.get(zone.name)
        if entry is None:
            return ""
        until, why = entry
        left = until - self.clock()
        if left <= 0:
            self._down_until.pop(zone.name, None)
            return ""
        return f"{why}; not asked again for {left:.0f} s"

    # ---- health -------------------------------------------------------------------------------------------

    def health_state(self, zone_name: str) -> ZoneHealth | None:
        """The last health verdict for a zone (None before the first probe)."""
        return self._health.get(zone_name)

    def _health_job(self, zone: Zone) -> asyncio.Future[ZoneHealth] | None:
        """A probe to await alongside the lookups when the zone's verdict is missing or old."""
        known = self._health.get(zone.name)
        if known is not None and self.clock() - known.checked_at < self.health_interval:
            return None
        loop = asyncio.get_running_loop()
        task = self._probing.get(zone.name)
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(self._probe(zone))
            self._probing[zone.name] = task
        return asyncio.shield(task)

    async def _probe(self, zone: Zone) -> ZoneHealth:
        start = time.perf_counter()
        listed, unlisted = zone.health_points()
        points = [*listed, *unlisted]
        labels = [probe_query_name(zone.kind, zone.ipv6, p) for p in points]
        self.queries_sent += len(labels)
        raws = await asyncio.gather(*(ask_a(self.resolver, f"{label}.{zone.query_zone}", self.timeout)
                                      for label in labels))
        by_point = dict(zip(points, raws, strict=True))
        verdict = judge(zone, {p: by_point[p] for p in listed}, {p: by_point[p] for p in unlisted},
                        now=self.clock(), ms=(time.perf_counter() - start) * 1000)
        before = self._health.get(zone.name)
        if verdict.broken != (before is not None and before.broken):
            # answers cached while the zone answered everything (or before we knew) must not outlive the verdict
            self.cache.drop_where(lambda key: key[0] == zone.query_zone)  # type: ignore[index]
        self._health[zone.name] = verdict
        return verdict

    async def health_async(self) -> list[ZoneHealth]:
        """Probe every zone now (RFC 5782 test points) and keep the verdicts for later checks."""
        return list(await asyncio.gather(*(self._probe(zone) for zone in self.zones)))

    def health(self) -> list[ZoneHealth]:
        return run_sync(self.health_async)


def _combine(answers: list[_Looked], names: tuple[str, ...]) -> tuple[_Looked, str]:
    """One result from a domain's names (as given, registrable): listed wins, then unknown, then not listed."""
    for wanted in (LISTED, UNKNOWN):
        for looked, name in zip(answers, names, strict=True):
            if looked.result == wanted:
                return looked, name
    return answers[0], names[0]


