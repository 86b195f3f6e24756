"""The digest as Block Kit (within Slack's limits) and as plain text for the terminal: the same lines in both.

Every day with blocked or bounced mail lists it all (totals, by cause and reason with the labels `why` uses,
top senders/domains/IPs with their main reason, invalid recipients, outbound bounces); whether anything is
unusual is one line on top of them. Only a day with no blocked and no bounced mail gets the short message.

Slack limits kept here: at most 50 blocks, 3000 characters per section text, 150 per header, button values
under 2000. Each top sender, domain and IP (and each likely false positive) carries a "Why?" button whose
value is {"kind": <bot.targets kind>, "value": ...}; the Slack handler posts that target's diagnosis in the
message's thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.diagnosis.runbook import cause_info
from bot.digest.content import Digest, TopItem, Totals
from bot.digest.ipstatus import IpStatusReport
from bot.messages import NULL_SENDER
from bot.reasons import DESCRIPTIONS
from bot.render.ids import ACTION_DIGEST_WHY
from bot.render.mrkdwn import cut_mrkdwn, date, escape
from bot.render.numbers import count, num

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150

TITLES = {
    "blocked": "blocked",
    "bounced": "bounced",
    "accepted": "accepted",
    "by_cause": "Blocked and bounced by cause",
    "by_reason": "By reason",
    "top_senders": "Top blocked senders (main reason)",
    "top_domains": "Top blocked sender domains (main reason)",
    "top_ips": "Top blocked client IPs (main reason)",
    "false_positives": "Newly blocked, accepted before (likely false positives)",
    "invalid_recipients": "Invalid recipients at our addresses",
    "outbound_bounces": "Outbound bounces by remote domain",
    "outbound_ips": "Our outbound IPs on block lists",
}
QUIET = "Nothing unusual"
QUIET_LINE = f"{QUIET}: no unusual volume, no likely false positive, no new block-list listing."
UNUSUAL = "Unusual volume"
EMPTY = "No blocked or bounced mail"
WHY = "Why?"


def _n(value: float) -> str:
    return num(value)


def cause_label(cause: str | None) -> str:
    """The cause as `why` names it ("Invalid recipient", not invalid_recipient)."""
    return cause_info(cause).title


def reason_label(reason: str | None) -> str:
    """The reason code `why` shows, with its description: "userunknown: the recipient address does not exist"."""
    code = reason or "undefined"
    return f"{code}: {DESCRIPTIONS[code]}" if code in DESCRIPTIONS else code


def _change(current: int, other: float) -> str:
    if other < 0.5:  # nothing to compare with: a percentage of ~0 says nothing
        return "new" if current else "same"
    pct = (current - other) / other * 100
    if abs(pct) < 0.5:
        return "same"
    return f"{'▲' if pct > 0 else '▼'} {abs(pct):.0f}%"


def totals_line(name: str, totals: Totals, days: int) -> str:
    """"66 blocked (▲ 560% vs 10 the day before; ▲ 560% vs the 7-day average of 10)", or, when the store has
    no earlier traffic, "15 blocked; no earlier days to compare"."""
    head = f"{_n(totals.current)} {name}"
    if not totals.comparable:
        return f"{head}; no earlier {'days' if days == 1 else 'weeks'} to compare"
    before = "the day before" if days == 1 else "the week before"
    avg = (f"{totals.baseline_periods}-day average" if days == 1
           else f"{totals.baseline_periods}-week average")
    return (f"{head} ({_change(totals.current, totals.previous)} vs {_n(totals.previous)} {before};"
            f" {_change(totals.current, totals.average)} vs the {avg} of {_n(totals.average)})")




def _item_line(item: TopItem) -> str:
    extra = f"; {_n(item.accepted_before)} accepted before" if item.accepted_before else ""
    value = NULL_SENDER if item.value in ("", "<>") else item.value
    return f"{value} — {_n(item.count)}, {cause_label(item.cause)} ({item.reason}){extra}"


def counts_lines(rows: list[tuple[str, int]], label: Callable[[str], str]) -> list[str]:
    """One line per cause or reason, largest first: "40  Our reputation service"."""
    width = max((len(_n(n)) for _, n in rows), default=0)
    return [f"{_n(n):>{width}}  {label(name)}" for name, n in rows] or ["none"]


def counts_line(rows: list[tuple[str, int]]) -> str:
    """The causes on one line, with `why`'s labels (for the notification text)."""
    return " · ".join(f"{cause_label(name)} {_n(n)}" for name, n in rows) or "none"


def ip_lines(status: IpStatusReport) -> list[str]:
    if not status.answers:
        note = status.note or "not checked"
        return [f"unknown: {note}" if status.ips else note]
    lines = []
    for ip in status.ips:
        mine = [a for a in status.answers if a.ip == ip]
        listed = [a for a in mine if a.result == "listed"]
        unknown = [a for a in mine if a.result == "unknown"]
        clean = len(mine) - len(listed) - len(unknown)
        parts = [f"LISTED on {', '.join(a.zone for a in listed)}" if listed else "",
                 f"not listed on {count(clean, 'zone')}" if clean else "",
                 f"unknown on {', '.join(a.zone for a in unknown)}" if unknown else ""]
        lines.append(f"{ip}: " + "; ".join(p for p in parts if p))
    for c in status.changes:
        lines.append(f"changed since the last digest: {c.ip} on {c.zone}: {c.before} → {c.after}")
    if status.previous_at is not None and not status.changes:
        lines.append("no change since the last digest")
    return lines


def header_text(digest: Digest) -> str:
    hours = "" if digest.hours_in_period in (24, 24 * digest.period.days) else f", {digest.hours_in_period:g} h"
    return f"Mail digest — {digest.period.label()} ({digest.zone}{hours})"


def summary_text(digest: Digest) -> str:
    """The notification text: one line (Slack reads it as mrkdwn: escape it there, see `summary_mrkdwn`)."""
    if digest.empty:
        return f"{header_text(digest)}: {EMPTY.lower()}"
    word = QUIET + ": " if digest.quiet else ""
    return (f"{header_text(digest)}: {word}{_n(digest.blocked.current)} blocked, "
            f"{_n(digest.bounced.current)} bounced")


def _totals_lines(digest: Digest) -> list[str]:
    days = digest.period.days
    return [totals_line(TITLES["blocked"], digest.blocked, days),
            totals_line(TITLES["bounced"], digest.bounced, days), f"{_n(digest.accepted)} {TITLES['accepted']}"]


def _outlook_lines(digest: Digest) -> list[str]:
    """What is unusual about the period, or the one line saying nothing is (the sections follow either way)."""
    if digest.quiet:
        return [QUIET_LINE]
    lines = []
    for name, totals in (("blocked", digest.blocked), ("bounced", digest.bounced)):
        if totals.unusual:
            lines.append(f"{UNUSUAL}: {_n(totals.current)} {name}, against an average of {_n(totals.average)}.")
    if digest.false_positives:
        kinds = [sum(1 for i in digest.false_positives if (i.kind == "domain") == is_domain) for is_domain in (0, 1)]
        what = " and ".join(count(n, noun) for n, noun in zip(kinds, ("sender", "domain"), strict=True) if n)
        lines.append(f"Likely false positives: {what} newly blocked that had mail accepted before (listed below).")
    if digest.ip_status.listed or digest.ip_status.changes:
        lines.append(f"Our outbound IPs: a listing or a change (see \"{TITLES['outbound_ips']}\" below).")
    return lines


def _sections(digest: Digest) -> list[tuple[str, list[str], list[TopItem]]]:
    """(title, plain lines, items with a Why? button) in the order shown."""
    out: list[tuple[str, list[str], list[TopItem]]] = [("", _totals_lines(digest), [])]
    out += [("Log sources", digest.sources, [])] if digest.sources else []
    if digest.empty:
        out.append(("", [f"{EMPTY} on {digest.period.label()}."], []))
        out.append((TITLES["outbound_ips"], ip_lines(digest.ip_status), []))
        return out
    out.append(("", _outlook_lines(digest), []))
    out.append((TITLES["by_cause"], counts_lines(digest.by_cause, cause_label), []))
    out.append((TITLES["by_reason"], counts_lines(digest.by_reason, reason_label), []))
    for key in ("false_positives", "top_senders", "top_domains", "top_ips"):
        items: list[TopItem] = list(getattr(digest, key))
        if items:
            out.append((TITLES[key], [], items))
        elif key != "false_positives":
            out.append((TITLES[key], ["none"], []))
    for key in ("invalid_recipients", "outbound_bounces"):
        items = getattr(digest, key)
        out.append((TITLES[key], [_item_line(i) for i in items] or ["none"], []))
    out.append((TITLES["outbound_ips"], ip_lines(digest.ip_status), []))
    return out


def render_text(digest: Digest) -> str:
    lines = [header_text(digest), "=" * min(len(header_text(digest)), 78)]
    for n, (title, plain, items) in enumerate(_sections(digest)):
        if title:
            lines += ["", title + ":"]
        elif n:
            lines.append("")
        lines += [f"  {line}" if title else line for line in plain]
        lines += [f"  {_item_line(i)}" for i in items]
    return "\n".join(lines) + "\n"


def summary_mrkdwn(digest: Digest) -> str:
    """The message's top-level text (notifications, screen readers): the summary line, escaped."""
    return escape(summary_text(digest))


def _mrkdwn(text: str) -> str:
    return escape(text)


def _section(text: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    text = cut_mrkdwn(text, MAX_SECTION)
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if accessory:
        block["accessory"] = accessory
    return block


def why_button(item: TopItem) -> dict[str, Any]:
    value = json.dumps({"kind": item.kind, "value": item.value}, separators=(",", ":"))
    return {"type": "button", "action_id": ACTION_DIGEST_WHY, "text": {"type": "plain_text", "text": WHY},
            "value": value[:2000]}


def render_blocks(digest: Digest) -> list[dict[str, Any]]:
    """Block Kit for chat.postMessage; never more than MAX_BLOCKS (the longest lists are cut first)."""
    head = header_text(digest)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text",
                                                                "text": head[:MAX_HEADER], "emoji": False}}]
    sections = _sections(digest)
    # one block per plain section, one per title of an item list, one per item, plus header and context
    def count() -> int:
        return 2 + sum((1 if plain else 0) + (1 + len(items) if items else 0) for _, plain, items in sections)
    while count() > MAX_BLOCKS:
        longest = max(sections, key=lambda s: len(s[2]))
        del longest[2][-1]
    for title, plain, items in sections:
        if plain:
            body = "\n".join(_mrkdwn(p) for p in plain)
            blocks.append(_section(f"*{_mrkdwn(title)}*\n{body}" if title else body))
        if items:
            blocks.append(_section(f"*{_mrkdwn(title)}*"))
            blocks.extend(_section(_mrkdwn(_item_line(item)), why_button(item)) for item in items)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        f"Generated {date(digest.generated_at)} from the tracking store's daily rollup")}]})
    return blocks
