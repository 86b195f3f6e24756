"""AuthChecker: the checks of one AuthRequest at once, each within its own time limit, cached briefly.

The checks share the block lists' resolver settings (BOUNCEBOT_DNS_NAMESERVERS, _PORT, _TIMEOUT). A check
that runs out of time is `unknown`, never a failure. Known results are cached for `cache_ttl` seconds
(DNS records of a domain change rarely within a minute; a support person asks the same thing twice);
unknown ones are not cached, so the next question tries again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import dns.resolver

from bot.auth.dkim import DkimResult, check_dkim
from bot.auth.dmarc import DmarcResult, aligned, check_dmarc
from bot.auth.mx import MxResult, check_mx
from bot.auth.ptr import PtrResult, check_ptr
from bot.auth.report import AuthReport, AuthRequest
from bot.auth.spf import SpfResult, check_spf
from bot.blacklists.cache import AnswerCache
from bot.blacklists.checker import make_resolver, run_sync
from bot.config import Settings

T = TypeVar("T")

#: Each check's limit in units of the DNS timeout: how many questions it may have to ask one after another.
LIMITS = {"spf": 3.0, "dmarc": 2.0, "dkim": 1.0, "ptr": 2.0, "mx": 2.0}
#: SPF evaluations at once (each waits on DNS most of its time).
SPF_THREADS = 16


class AuthChecker:
    """`check(request)` (sync) or `await check_async(request)` -> AuthReport."""

    def __init__(self, *, nameservers: Sequence[str] = (), port: int = 53, timeout: float = 2.0,
                 dkim_selectors: Sequence[str] = (), local_domains: Sequence[str] = (), cache_ttl: float = 60.0,
                 cache_size: int = 5000, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.resolver = make_resolver(nameservers, port, timeout)
        self.sync_resolver = dns.resolver.Resolver(configure=False)
        self.sync_resolver.nameservers = list(self.resolver.nameservers)
        self.sync_resolver.port = self.resolver.port
        self.sync_resolver.timeout = self.resolver.timeout
        self.sync_resolver.lifetime = self.resolver.lifetime
        self.sync_resolver.cache = None
        self.dkim_selectors = tuple(dkim_selectors)
        self.local_domains = tuple(d.lower() for d in local_domains)
        self.cache_ttl = cache_ttl
        self.cache: AnswerCache[Any] = AnswerCache(cache_size, clock=clock)
        self.checks_run = 0
        # pyspf is synchronous: its evaluations run here, not in each event loop's default executor (a sync
        # check() runs a new loop each time, which would start and stop a thread pool per check).
        self._spf_pool = ThreadPoolExecutor(max_workers=SPF_THREADS, thread_name_prefix="bouncebot-spf")

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> AuthChecker:
        return cls(nameservers=settings.dns_nameservers, port=settings.dns_port, timeout=settings.dns_timeout,
                   dkim_selectors=settings.dkim_selectors, local_domains=settings.local_domains, **options)

    def selectors_for(self, domain: str) -> tuple[str, ...]:
        """BOUNCEBOT_DKIM_SELECTORS: `domain:selector` entries for that domain; bare selectors for our own
        domains (BOUNCEBOT_LOCAL_DOMAINS and their subdomains; every domain when none is configured)."""
        domain = domain.lower()
        own = not self.local_domains or any(domain == d or domain.endswith("." + d) for d in self.local_domains)
        chosen = []
        for entry in self.dkim_selectors:
            where, sep, selector = entry.rpartition(":")
            if (sep and where.lower() == domain) or (not sep and own):
                chosen.append(selector)
        return tuple(dict.fromkeys(chosen))

    def check(self, request: AuthRequest) -> AuthReport:
        return run_sync(lambda: self.check_async(request))  # type: ignore[no-any-return]

    async def check_async(self, request: AuthRequest) -> AuthReport:
        started = time.monotonic()
        domain, ip, spf_domain = request.domain, request.ip, request.spf_domain
        spf_job = self._spf(spf_domain, ip) if spf_domain else _none()
        dmarc_job = self._cached(("dmarc", domain), "dmarc", lambda limit: check_dmarc(
            self.resolver, domain, lifetime=min(self.timeout, limit)), _dmarc_unknown(domain)) if domain else _none()
        dkim_jobs = [self._cached(("dkim", d, s), "dkim", lambda limit, d=d, s=s: check_dkim(
            self.resolver, d, s, lifetime=limit), DkimResult(s, d, None)) for d, s in request.dkim_pairs()]
        ptr_job = self._cached(("ptr", ip), "ptr", lambda limit: check_ptr(self.resolver, ip, lifetime=limit),
                               PtrResult(ip or "", (), None)) if ip else _none()
        mx_domain = request.mx_domain
        mx_job = self._cached(("mx", mx_domain), "mx", lambda limit: check_mx(
            self.resolver, mx_domain, lifetime=limit), MxResult(mx_domain or "", "unknown")) if mx_domain else _none()
        spf, dmarc, ptr, mx, *dkim = await asyncio.gather(spf_job, dmarc_job, ptr_job, mx_job, *dkim_jobs)
        if dmarc is not None:
            signed = [r for r in dkim if (r.domain, r.selector) in request.signatures]
            dmarc = with_alignment(dmarc, spf, header_from=request.header_from, signed=signed)
        return AuthReport(domain, ip, spf, dmarc, list(dkim), ptr, mx, ms=(time.monotonic() - started) * 1000,
                          ip_source=request.ip_source, header_from=request.header_from)

    async def _spf(self, domain: str, ip: str | None) -> SpfResult:
        limit = self.timeout * LIMITS["spf"]

        def evaluate() -> SpfResult:
            return check_spf(self.sync_resolver, domain, ip, limit=limit)

        unknown = SpfResult(domain, ip, None, "temperror", None, 0, f"no answer within {limit:.2g} s")
        loop = asyncio.get_running_loop()
        return await self._cached(("spf", domain, ip), "spf",
                                  lambda _limit: loop.run_in_executor(self._spf_pool, evaluate), unknown)

    async def _cached(self, key: Hashable, check: str, run: Callable[[float], Awaitable[T]], unknown: T) -> T:
        hit = self.cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        limit = self.timeout * LIMITS[check]
        self.checks_run += 1
        try:
            result = await asyncio.wait_for(run(limit), timeout=limit + 0.25)
        except TimeoutError:
            result = _timed_out(unknown, limit)
        if getattr(result, "verdict", "unknown") != "unknown":
            self.cache.put(key, result, self.cache_ttl)
        return result


async def _none() -> None:
    return None


def _dmarc_unknown(domain: str | None) -> DmarcResult:
    return DmarcResult(domain or "", "unknown")


def _timed_out(unknown: T, limit: float) -> T:
    return dataclasses.replace(unknown, error=f"no answer within {limit:.2g} s")  # type: ignore[type-var]


def with_alignment(dmarc: DmarcResult, spf: SpfResult | None, *, header_from: bool,
                   signed: Sequence[DkimResult] = ()) -> DmarcResult:
    """DMARC identifier alignment (RFC 7489 section 3.1) against the From domain the policy was found for:
    SPF aligns when it passes for a MAIL FROM domain equal to it (aspf=s) or sharing its organisational domain
    (aspf=r); a DKIM signature aligns the same way on its d= (adkim). `header_from`: that domain is the
    message's header From; otherwise the envelope domain stands for it, and SPF can only fail to align by
    failing. `signed`: the key lookups of the signatures the message carried (its DKIM alignment: a key
    published for an aligned d=; the signature itself cannot be verified here)."""
    if dmarc.status != "found":
        return dmarc
    changes: dict[str, Any] = {"aligned_with": "header_from" if header_from else "envelope"}
    if spf is not None and spf.result not in (None, "temperror"):
        changes.update(spf_ip=spf.ip, spf_domain=spf.domain, spf_pass=spf.result == "pass",
                       aligned_spf=spf.result == "pass" and aligned(spf.domain, dmarc.domain, dmarc.aspf))
    if signed:
        changes["dkim_domains"] = tuple(dict.fromkeys(r.domain for r in signed))
        keyed = [r for r in signed if aligned(r.domain, dmarc.domain, dmarc.adkim)]
        if any(r.found for r in keyed):
            changes["aligned_dkim"] = True
        elif all(r.found is not None for r in keyed):
            changes["aligned_dkim"] = False
    return dataclasses.replace(dmarc, **changes)


_shared: dict[tuple[Any, ...], AuthChecker] = {}
_shared_lock = threading.Lock()


def auth_checker_for(settings: Settings) -> AuthChecker:
    """One checker (and cache) per resolver configuration, shared by every diagnosis of the process."""
    key = (settings.dns_nameservers, settings.dns_port, settings.dns_timeout, settings.dkim_selectors,
           settings.local_domains)
    with _shared_lock:
        checker = _shared.get(key)
        if checker is None:
            checker = _shared[key] = AuthChecker.from_settings(settings)
        return checker
