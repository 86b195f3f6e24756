"""The words for each check's result: what was found, and what to fix. Unknown is said as unknown."""

from __future__ import annotations

from typing import Any

from bot.auth.dmarc import org_domain

UNKNOWN_FIX = "Check again later; unknown is not a failure."


def _ip_mechanism(ip: str | None) -> str:
    if ip is None:
        return "ip4:<your sending IP>"
    return f"ip6:{ip}" if ":" in ip else f"ip4:{ip}"


def _clean(error: str | None) -> str:
    return (error or "").strip().rstrip(".")


def spf_line(r: Any) -> tuple[str, str]:
    where = f" (`{r.mechanism}`)" if r.mechanism else ""
    if r.result == "pass":
        return f"SPF pass: {r.domain} authorizes {r.ip}{where}; {r.lookups}/10 DNS lookups.", ""
    if r.result is None or r.result == "temperror":
        if r.ip is None and r.record:
            return (f"SPF: {r.domain} publishes `{r.record}`; no sending IP is known to evaluate it for.",
                    "Set BOUNCEBOT_OUTBOUND_IPS (or give `--ip`) to have it evaluated.")
        return f"SPF of {r.domain} is unknown: {r.error or 'no answer'}.", UNKNOWN_FIX
    if r.result == "none":
        return (f"SPF none: {r.domain} publishes no SPF record.",
                f"Publish one that covers the sending IP, e.g. `v=spf1 {_ip_mechanism(r.ip)} -all`.")
    if r.result == "permerror":
        fix = f"Fix the record of {r.domain} ({_clean(r.error)})."
        if "lookup" in (r.error or "").lower():
            fix = (f"{r.domain}'s SPF needs {r.lookups} DNS lookups, over the limit of 10: replace includes by "
                   "the ip4:/ip6: ranges they stand for, or drop unused ones.")
        record = f" `{r.record}`" if r.record else ""
        return f"SPF permerror: the record of {r.domain}{record} is broken: {_clean(r.error)}.", fix
    how = {"fail": "does not cover", "softfail": "does not cover (softfail, `~all`)",
           "neutral": "says nothing about (neutral)"}[r.result]
    decided = f", decided by `{r.mechanism}`" if r.mechanism else ""
    return (f"SPF {r.result}: {r.domain} publishes `{r.record}`; the mail left from {r.ip}, which it {how}"
            f"{decided}.", f"Add `{_ip_mechanism(r.ip)}` or the relay's include: to {r.domain}'s SPF record.")


def dmarc_line(r: Any) -> tuple[str, str]:
    if r.status == "unknown":
        return f"DMARC of {r.domain} is unknown: {r.error}.", UNKNOWN_FIX
    if r.status == "none":
        return (f"DMARC: {r.error}.", f"Publish a record at _dmarc.{org_domain(r.domain)}, e.g. "
                f"`v=DMARC1; p=none; rua=mailto:dmarc-reports@{org_domain(r.domain)}`, then tighten it.")
    if r.status == "invalid":
        return (f"DMARC record at _dmarc.{r.record_domain} is invalid: {r.error} (`{r.record}`).",
                "Fix the record: receivers ignore an invalid DMARC record.")
    tags = [f"p={r.policy}"] + ([f"sp={r.subdomain_policy}"] if r.subdomain_policy else [])
    tags += [f"aspf={r.aspf}", f"adkim={r.adkim}", f"pct={r.pct}"]
    text = f"DMARC {' '.join(tags)} at _dmarc.{r.record_domain}"
    if r.record_domain != r.domain:
        text += f" (organisational domain of {r.domain}: {r.applied_policy} applies)"
    fix = ""
    basis = _basis(r)
    if r.aligned_spf is False:
        if r.spf_pass and r.spf_domain:
            text += (f"; SPF passes for the envelope domain {r.spf_domain}, which is not aligned with {basis} "
                     f"(aspf={r.aspf})")
        else:
            text += f"; SPF does not pass aligned with {basis} for {r.spf_ip}"
        text += _dkim_alignment(r) if r.aligned_dkim is not None else ", so DMARC rests on DKIM alone"
        policy = r.applied_policy or r.policy
        fate = f"with p={policy}, mail failing both is {_FATE.get(policy, 'handled per the policy')}"
        if r.aligned_dkim:
            fix = ("Make SPF pass aligned as well: the aligned signature's key is published, so a receiver that "
                   "still failed DKIM saw a key that does not match the signer's, or a message changed in transit.")
        elif r.spf_pass and r.spf_domain:
            fix = (f"Send with a MAIL FROM (Return-Path) domain under {org_domain(r.domain)} (the sending service's "
                   f"custom bounce domain) or sign with DKIM as d={r.domain}: {fate}.")
        else:
            fix = f"Make SPF pass for the sending IP (see SPF) or sign with DKIM as d={r.domain}: {fate}."
    elif r.aligned_spf:
        text += f"; SPF passes aligned with {basis} for {r.spf_ip}"
        text += _dkim_alignment(r) if r.aligned_dkim is not None else ""
    elif r.aligned_dkim is not None:
        text += _dkim_alignment(r)
    if r.warnings:
        text += " (" + "; ".join(r.warnings) + ")"
    return text + ".", fix


def _basis(r: Any) -> str:
    """Which domain alignment was judged against: the message's header From, or the envelope domain."""
    if r.aligned_with == "header_from":
        return f"header From {r.domain}"
    return f"the envelope domain {r.domain}"


def _dkim_alignment(r: Any) -> str:
    signed = ", ".join(f"d={d}" for d in r.dkim_domains)
    if r.aligned_dkim:
        return f"; a DKIM signature aligned with it ({signed}) has a published key"
    return f"; no DKIM signature aligned with it has a published key (signed: {signed}; adkim={r.adkim})"


_FATE = {"reject": "refused", "quarantine": "put in quarantine or the spam folder",
         "none": "still delivered (p=none only asks for reports)"}


def dkim_line(r: Any) -> tuple[str, str]:
    name = f"{r.selector}._domainkey.{r.domain}"
    if r.found:
        return f"DKIM key {name}: {r.key_type} {r.key_bits} bits, parses.", ""
    if r.found is None:
        return f"DKIM key {name} is unknown: {r.error}.", UNKNOWN_FIX
    return f"DKIM: {r.error}.", f"Publish the selector's public key at {name} (from the signing server's config)."


def ptr_line(r: Any) -> tuple[str, str]:
    if r.forward_confirmed:
        return f"PTR {r.ip} → {', '.join(r.names)} → {r.ip}: forward-confirmed.", ""
    if r.forward_confirmed is None:
        return f"PTR of {r.ip} is unknown: {r.error}.", UNKNOWN_FIX
    if not r.names:
        return (f"PTR: {r.ip} has no PTR record (many receivers refuse such clients).",
                f"Ask whoever runs {r.ip}'s network to set its PTR to the mail server's name, which must resolve "
                f"back to {r.ip}.")
    return (f"PTR {r.ip} → {', '.join(r.names)}, which does not resolve back to {r.ip} (no FCrDNS).",
            f"Add an address record {r.names[0]} → {r.ip}, or change the PTR to a name that has one.")


def mx_line(r: Any) -> tuple[str, str]:
    if r.status == "ok":
        extra = f"; {r.error}" if r.error else ""
        return f"MX of {r.domain}: {', '.join(r.hosts)}{extra}.", (
            f"Fix or remove the MX hosts that do not resolve: {', '.join(r.unresolvable)}." if r.unresolvable else "")
    if r.status == "implicit":
        return f"MX of {r.domain}: none; {r.error.split(': ', 1)[1]} (RFC 5321 implicit MX).", ""
    if r.status == "unknown":
        return f"MX of {r.domain} is unknown: {r.error}.", UNKNOWN_FIX
    fixes = {"null_mx": "The domain takes no mail: the recipient address is wrong or the domain is retired.",
             "nxdomain": "Check the spelling of the recipient's domain.",
             "none": "Check the spelling of the recipient's domain; it cannot receive mail as published.",
             "unresolvable": "The recipient domain's MX names do not resolve: only its admins can fix that."}
    return f"MX of {r.domain}: {r.error}.", fixes[r.status]


_LINES = {"spf": spf_line, "dmarc": dmarc_line, "dkim": dkim_line, "ptr": ptr_line, "mx": mx_line}


def check_line(name: str, result: Any) -> tuple[str, str, str, str]:
    """(check, verdict, what was found, what to fix — empty when nothing)."""
    text, fix = _LINES[name](result)
    return name, result.verdict, text, fix
