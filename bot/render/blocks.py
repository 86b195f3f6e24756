"""The diagnosis as Slack Block Kit, always within Slack's limits (50 blocks, 3000 characters a section)."""

from __future__ import annotations

import json
from typing import Any

from bot.diagnosis.model import Diagnosis, Finding
from bot.diagnosis.runbook import finding_title
from bot.render import ids
from bot.render.auth import auth_mrkdwn
from bot.render.mrkdwn import (
    as_datetime,
    cut,
    cut_mrkdwn,
    date,
    drop_empty,
    escape,
    fit,
    slack_dates,
    slack_tips,
)
from bot.render.text import evidence_detail, summary_line
from bot.targets import NULL_SENDER

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FINDINGS = 6
MAX_LIST_ITEMS = 8


__all__ = ["button", "context", "cut", "escape", "fit", "render_blocks", "section"]


def listing(items: list[str], limit: int = MAX_LIST_ITEMS) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section; `text` is mrkdwn already (its pieces escaped), cut to 3000 outside any <...> or &..;"""
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut_mrkdwn(text, MAX_SECTION)}}


def context(*texts: str) -> dict[str, Any]:
    """A context block of the non-empty texts (at most 10); one with none is dropped by `drop_empty`."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut_mrkdwn(t, MAX_SECTION)}
                                            for t in [t for t in texts if t and t.strip()][:10]]}


def evidence_mrkdwn(e: Any) -> str:
    """One event quoted as evidence: its time in the reader's time zone, the rest escaped."""
    return f"{date(e.time)} {escape(evidence_detail(e))}"


def _span(first: Any, last: Any) -> str:
    return date(first) if first == last else f"{date(first)} – {date(last)}"


def button(text: str, action_id: str, value: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True},
                               "action_id": action_id, "value": json.dumps(value)[:2000]}
    if style:
        element["style"] = style
    return element


def target_value(d: Diagnosis) -> dict[str, str]:
    return {"kind": d.target_kind, "value": d.target_value}


def _finding_blocks(f: Finding, n: int) -> list[dict[str, Any]]:
    span = _span(f.first_seen, f.last_seen)
    title = escape(finding_title(f.cause, f.expired))
    head = [f"*{n}. {title}*  `{f.cause}` / `{f.reason}` — {f.count}× {f.direction}, {span}"]
    if f.recipients:
        head.append(f"Recipients: {escape(listing(f.recipients))}")
    if f.client_ips:
        head.append(f"Client IPs: {escape(listing(f.client_ips))}")
    head += [slack_dates(escape(fact)) for fact in f.facts]
    evidence = []
    for e in f.evidence:
        line = evidence_mrkdwn(e)
        if e.reply_text:
            line += "\n> " + fit(e.reply_text, 600)
        evidence.append(line)
    blocks = [section("\n".join(head))]
    if evidence:
        blocks.append(section("\n".join(evidence)))
    if f.next_steps:
        blocks.append(context("*Next:* " + slack_tips(escape(" ".join(f.next_steps)))))
    return blocks


def _blacklist_text(d: Diagnosis) -> str:
    listed = [r for r in d.blacklists if r.get("result") == "listed"]
    lines = ["*Block lists (live)*"]
    for r in listed[:MAX_LIST_ITEMS]:
        codes = ", ".join(r.get("codes") or [])
        url = f" <{escape(r['delist_url'])}|delist>" if r.get("delist_url") else ""
        lines.append(f":red_circle: `{escape(r['target'])}` on *{escape(r['zone'])}* {escape(codes)}"
                     f" {escape(r.get('meaning') or '')}{url}")
    if len(listed) > MAX_LIST_ITEMS:
        lines.append(f"and {len(listed) - MAX_LIST_ITEMS} more listings")
    lines += [escape(note) for note in d.blacklist_notes]
    return "\n".join(lines)


def render_blocks(d: Diagnosis, *, with_actions: bool = True) -> list[dict[str, Any]]:
    """Blocks for a diagnosis message; buttons carry the target as JSON {"kind", "value"}."""
    title = d.title
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(title, MAX_HEADER), "emoji": False}},
        section(f"*{slack_dates(fit(d.verdict.text, MAX_SECTION - 200))}*"),
    ]
    approved = "no"
    if d.approved_sender and d.approval:
        until = date(as_datetime(d.approval.get("expires_at")), none="no expiry")
        approved = f"yes ({escape(d.approval['pattern'])}, until {until})"
    blocks.append(context(f"Traffic: {escape(summary_line(d))}", f"Approved sender: {approved}"))
    if d.history:
        blocks.append(section(slack_dates(fit(d.history, MAX_SECTION - 200))))
    findings = d.findings[:MAX_FINDINGS]
    for n, f in enumerate(findings, 1):
        blocks.append({"type": "divider"})
        blocks += _finding_blocks(f, n)
    if len(d.findings) > MAX_FINDINGS:
        rest = d.findings[MAX_FINDINGS:]
        blocks.append(context(f"and {len(rest)} more findings ({sum(f.count for f in rest)} events): "
                              + escape(listing([f"{f.cause}/{f.reason}" for f in rest]))))
    if d.nonexistent_recipients:
        blocks.append(section("*Recipients that never received mail (likely never existed):* "
                              + escape(listing(d.nonexistent_recipients))))
    if d.contacts:
        lines = ["*Contact the receiving side*"]
        for c in d.contacts[:MAX_LIST_ITEMS]:
            extra = [x for x in (c.soa_contact and f"SOA contact {c.soa_contact}",
                                 c.provider and f"{c.provider}: {c.provider_page}") if x]
            lines.append(escape(f"{c.domain}: {c.postmaster}" + ("; " + "; ".join(extra) if extra else "")))
        blocks.append(section("\n".join(lines)))
    if d.blacklists:
        blocks.append(section(_blacklist_text(d)))
    if d.authentication:
        blocks.append(section(auth_mrkdwn(d.authentication)))
    if d.suggestions:
        blocks.append(section("*Suggestions*\n" + "\n".join(f"• {slack_tips(escape(s))}" for s in d.suggestions)))
    blocks.append(context(*(slack_dates(escape(c)) for c in d.caveats)))
    blocks = drop_empty(blocks)
    if with_actions:
        blocks = [*blocks[:MAX_BLOCKS - 1], actions_block(d)]
    return blocks[:MAX_BLOCKS]


def actions_block(d: Diagnosis) -> dict[str, Any]:
    value = target_value(d)
    elements = []
    if d.target_kind in ("address", "domain") and not d.approved_sender and d.target_value != NULL_SENDER:
        elements.append(button("Add to approved senders", ids.ACTION_APPROVE_SENDER, value, "primary"))
    elements += [
        button("Open support case", ids.ACTION_OPEN_CASE, value),
        button("Re-check blacklists", ids.ACTION_RECHECK_BLACKLISTS, value),
        button("Show events", ids.ACTION_SHOW_EVENTS, value),
    ]
    return {"type": "actions", "block_id": ids.BLOCK_DIAGNOSIS_ACTIONS, "elements": elements}
