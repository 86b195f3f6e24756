"""Whom to contact at the receiving side: postmaster@ (RFC 5321 requires it), the SOA contact, big providers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import dns.exception
import dns.resolver

from bot.config import Settings
from bot.diagnosis.model import Contact
from bot.diagnosis.runbook import provider_for

log = logging.getLogger(__name__)

SoaLookup = Callable[[str], "str | None"]


def soa_lookup_from_settings(settings: Settings, *, lifetime: float = 1.5) -> SoaLookup:
    """A lookup of a domain's SOA RNAME as a mail address, using the configured resolver."""
    resolver = dns.resolver.Resolver(configure=not settings.dns_nameservers)
    if settings.dns_nameservers:
        resolver.nameservers = list(settings.dns_nameservers)
    resolver.port = settings.dns_port
    resolver.lifetime = lifetime

    def lookup(domain: str) -> str | None:
        try:
            answer = resolver.resolve(domain, "SOA", search=False)
        except (dns.exception.DNSException, OSError) as exc:
            log.debug("SOA lookup for %s failed: %s", domain, exc)
            return None
        rname = answer[0].rname.to_text(omit_final_dot=True)
        local, _, host = rname.partition(".")
        return f"{local.replace(chr(92) + '.', '.')}@{host}" if host else None

    return lookup


def contacts_for(domains: Iterable[str], relays: Iterable[str], soa: SoaLookup | None) -> list[Contact]:
    """One contact per receiving domain; a large provider is recognised by domain or relay host."""
    relay_provider = next((p for p in (provider_for(r) for r in relays) if p), None)
    contacts = []
    for domain in domains:
        provider = provider_for(domain) or relay_provider
        contacts.append(Contact(
            domain=domain,
            postmaster=f"postmaster@{domain}",
            soa_contact=soa(domain) if soa else None,
            provider=provider[0] if provider else None,
            provider_page=provider[1] if provider else None,
        ))
    return contacts
