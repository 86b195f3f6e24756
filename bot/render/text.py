"""The diagnosis as plain text for the terminal."""

from __future__ import annotations

import textwrap

from bot.diagnosis.model import Diagnosis, Evidence, Finding
from bot.diagnosis.runbook import finding_title
from bot.render.auth import auth_text_lines

WIDTH = 100


def _wrap(text: str, indent: str = "  ", width: int = WIDTH) -> str:
    """Wrapped at spaces only: an address, a domain or a URL is never split (a long one overhangs instead)."""
    return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def evidence_detail(e: Evidence) -> str:
    """An event quoted as evidence, without its time: what happened, to whom, from where, with which code."""
    code = " ".join(str(x) for x in (e.smtp_code, e.enhanced_status) if x)
    who = e.recipient or "(recipient not logged)"
    ip = f" from {e.client_ip}" if e.client_ip and e.direction == "inbound" else ""
    relay = f" via {e.relay}" if e.relay and e.direction == "outbound" else ""
    return f"{e.disposition} to {who}{ip}{relay} {code}".rstrip()


def evidence_line(e: Evidence) -> str:
    return f"{e.time:%Y-%m-%d %H:%M:%S} {evidence_detail(e)}"


def summary_line(d: Diagnosis) -> str:
    s = d.summary
    parts = [f"{s[k]} {k}" for k in ("accepted", "delivered", "rejected", "bounced", "deferred", "expired") if s.get(k)]
    return ", ".join(parts) or "no events"


def _finding(f: Finding, n: int, width: int = WIDTH) -> list[str]:
    span = (f"{f.first_seen:%Y-%m-%d %H:%M}" if f.first_seen == f.last_seen
            else f"{f.first_seen:%Y-%m-%d %H:%M} – {f.last_seen:%Y-%m-%d %H:%M}")
    head = f"{n}. {finding_title(f.cause, f.expired)} [{f.cause}/{f.reason}] — {f.count}× {f.direction}, {span} UTC"
    lines = [textwrap.fill(head, width, subsequent_indent="   ", break_long_words=False, break_on_hyphens=False)]
    if f.recipients:
        more = "" if len(f.recipients) < 20 else " …"
        lines.append(_wrap("recipients: " + ", ".join(f.recipients) + more, width=width))
    if f.client_ips:
        lines.append(_wrap("client IPs: " + ", ".join(f.client_ips), width=width))
    lines += [_wrap(fact, width=width) for fact in f.facts]
    for e in f.evidence:
        lines.append(textwrap.fill(evidence_line(e), width, initial_indent="  · ", subsequent_indent="      ",
                                   break_long_words=False, break_on_hyphens=False))
        if e.reply_text:
            lines.append(_wrap(f"“{e.reply_text}”", "      ", width))
    lines.append("  next steps:")
    lines += [_wrap(f"- {step}", "    ", width) for step in f.next_steps]
    return lines


def render_text(d: Diagnosis, width: int = WIDTH) -> str:
    """The diagnosis for a terminal `width` columns wide (never breaking inside an address, a domain or a URL)."""
    lines = [d.title, ""]
    lines.append(textwrap.fill(d.verdict.text, width, break_long_words=False, break_on_hyphens=False))
    lines.append(f"Traffic: {summary_line(d)}.")
    if d.history:
        lines.append(textwrap.fill(d.history, width, break_long_words=False, break_on_hyphens=False))
    if d.approved_sender and d.approval:
        until = d.approval.get("expires_at") or "no expiry"
        lines.append(f"Approved sender: yes ({d.approval['pattern']}, by {d.approval['approved_by']}, until {until}).")
    else:
        lines.append("Approved sender: no.")
    if d.findings:
        lines += ["", "Findings (most likely cause first):"]
        for n, f in enumerate(d.findings, 1):
            lines += _finding(f, n, width)
    if d.nonexistent_recipients:
        lines += ["", _wrap("Recipients that never received any mail (likely never existed): "
                            + ", ".join(d.nonexistent_recipients), "", width)]
    if d.contacts:
        lines += ["", "Contact the receiving side:"]
        for c in d.contacts:
            extra = [x for x in (c.soa_contact and f"SOA contact {c.soa_contact}",
                                 c.provider and f"{c.provider}: {c.provider_page}") if x]
            lines.append(_wrap(f"{c.domain}: {c.postmaster}" + ("; " + "; ".join(extra) if extra else ""),
                               width=width))
    if d.blacklists:
        lines += ["", "Block lists (live):"]
        for r in d.blacklists:
            detail = " ".join(x for x in (",".join(r.get("codes") or []), r.get("meaning") or "",
                                          r.get("why") or "") if x)
            lines.append(f"  {r['target']:<28} {r['zone']:<28} {r['result']:<14} {detail}".rstrip())
        lines += [_wrap(n, width=width) for n in d.blacklist_notes]
    if d.authentication:
        lines += ["", *auth_text_lines(d.authentication, width)]
    if d.suggestions:
        lines += ["", "Suggestions:"] + [_wrap(f"- {s}", width=width) for s in d.suggestions]
    lines += ["", "Caveats:"] + [_wrap(f"- {c}", width=width) for c in d.caveats]
    return "\n".join(lines)
