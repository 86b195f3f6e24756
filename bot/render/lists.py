"""Block Kit for what the Slack app shows besides a diagnosis: approved senders, cases, events, App Home.

Every builder keeps Slack's limits (50 blocks a message, 100 in a Home tab, 3000 characters a section):
long lists are cut with "and N more".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import messages
from bot.render import ids
from bot.render.blocks import button, context, escape, section
from bot.render.mrkdwn import DATE_ONLY, actor, date, fit
from storage.models import ApprovedSender, Event, SupportCase

MAX_MESSAGE_BLOCKS = 50
MAX_HOME_BLOCKS = 100
LIST_ROWS = 20
EVENT_ROWS = 20


def _when(moment: datetime | None) -> str:
    return date(moment, none="no expiry")


def _more(total: int, shown: int, what: str) -> list[dict[str, Any]]:
    return [context(f"and {total - shown} more {what}")] if total > shown else []


def approval_line(a: ApprovedSender) -> str:
    reason = f" — {fit(a.reason, 200)}" if a.reason else ""
    return (f"`{escape(a.pattern)}` ({a.kind}) by {actor(a.approved_by)}, {date(a.created_at, DATE_ONLY)}, "
            f"until {_when(a.expires_at)}{reason}")


def approval_blocks(approvals: Sequence[ApprovedSender], *, can_remove: bool, rows: int = LIST_ROWS
                    ) -> list[dict[str, Any]]:
    """One section per approval; approvers get a Remove button beside each."""
    if not approvals:
        return [section(messages.no_approvals())]
    blocks: list[dict[str, Any]] = []
    for a in approvals[:rows]:
        block = section(approval_line(a))
        if can_remove:
            block["accessory"] = button("Remove", ids.ACTION_REMOVE_APPROVAL, {"kind": "approval", "value": str(a.id)},
                                        "danger")
        blocks.append(block)
    return blocks + _more(len(approvals), rows, "approved senders")


def approved_message(approvals: Sequence[ApprovedSender], *, can_remove: bool) -> list[dict[str, Any]]:
    header = section(f"*Approved senders* ({len(approvals)})")
    return [header, *approval_blocks(approvals, can_remove=can_remove, rows=MAX_MESSAGE_BLOCKS - 3)]


def case_line(c: SupportCase) -> str:
    where = f" <#{c.channel}>" if c.channel else ""
    return (f"*#{c.id}* {fit(c.title, 200)} — `{fit(c.target, 200)}`, opened by {actor(c.opened_by)} "
            f"{date(c.created_at)}{where}")


def cases_blocks(cases: Sequence[SupportCase], rows: int = LIST_ROWS) -> list[dict[str, Any]]:
    if not cases:
        return [section(messages.no_cases())]
    return [section(case_line(c)) for c in cases[:rows]] + _more(len(cases), rows, "cases")


def cases_message(cases: Sequence[SupportCase]) -> list[dict[str, Any]]:
    return [section(f"*Open support cases* ({len(cases)})"), *cases_blocks(cases, rows=MAX_MESSAGE_BLOCKS - 3)]


def case_message(case: SupportCase) -> list[dict[str, Any]]:
    """The case as posted in the cases channel and the original thread, with Close or Reopen."""
    state = ":lock: closed" if case.status == "closed" else ":large_green_circle: open"
    lines = [f"*Support case #{case.id}: {fit(case.title, 250)}*",
             f"Target: `{fit(case.target, 300)}` — {state}",
             f"Opened by {actor(case.opened_by)} {date(case.created_at)}"]
    if case.status == "closed" and case.closed_by:
        lines.append(f"Closed by {actor(case.closed_by)} {date(case.closed_at)}")
    elif case.reopened_by:
        lines.append(f"Reopened by {actor(case.reopened_by)} {date(case.reopened_at)}")
    blocks = [section("\n".join(lines))]
    if case.description:
        blocks.append(section(fit(case.description, 2900)))
    value = {"kind": "case", "value": str(case.id)}
    action = (button("Reopen case", ids.ACTION_REOPEN_CASE, value) if case.status == "closed"
              else button("Close case", ids.ACTION_CLOSE_CASE, value, "primary"))
    blocks.append({"type": "actions", "block_id": ids.BLOCK_CASE_ACTIONS, "elements": [action]})
    return blocks


def case_text(case: SupportCase) -> str:
    """The message's top-level text (notifications, screen readers): mrkdwn too, so escaped."""
    return f"Support case #{case.id} ({case.status}): {fit(case.title, 250)}"


def sender_label(sender: str | None) -> str:
    """How a sender is named to people: the null sender (<>, empty) says what it is."""
    return messages.NULL_SENDER if sender in (None, "", "<>") else sender


def event_line(e: Event) -> str:
    code = " ".join(str(x) for x in (e.smtp_code, e.enhanced_status) if x)
    who = f"{sender_label(e.sender)} → {e.recipient or '-'}"
    line = (f"{date(e.time)} {e.direction} *{e.disposition}* {escape(who)} "
            f"[{escape(e.client_ip or '-')}] {escape(code)} {e.reason or ''}/{e.cause or ''}")
    if e.reply_text:
        line += "\n> " + fit(e.reply_text, 300)
    return line


def events_message(target: str, events: Sequence[Event], total: int | None = None) -> list[dict[str, Any]]:
    """The newest events of a target, ten to a section (each within 3000 characters)."""
    if not events:
        return [section(messages.no_events(target))]
    blocks = [section(f"*Tracking events for {target_label(target)}* (newest first)")]
    shown = list(events[:EVENT_ROWS])
    for start in range(0, len(shown), 5):
        blocks.append(section("\n".join(event_line(e) for e in shown[start:start + 5])))
    return blocks + _more(total if total is not None else len(events), len(shown), "events")


def target_label(value: str) -> str:
    """A target in mrkdwn: `alice@partner.example` in code, the null sender in words."""
    return messages.NULL_SENDER if value in ("", "<>") else f"`{fit(value, 300)}`"


def with_notice(blocks: list[dict[str, Any]], notice: str) -> list[dict[str, Any]]:
    """A diagnosis message with an approval notice above its buttons, the approve button gone, within 50."""
    kept = [b for b in blocks if b.get("block_id") != ids.BLOCK_APPROVAL_NOTICE]
    note = {**context(notice), "block_id": ids.BLOCK_APPROVAL_NOTICE}
    for block in kept:
        if block.get("type") == "actions":
            block["elements"] = [e for e in block.get("elements", [])
                                 if e.get("action_id") != ids.ACTION_APPROVE_SENDER]
    kept = [b for b in kept if b.get("type") != "actions" or b.get("elements")]
    position = next((i for i, b in enumerate(kept) if b.get("type") == "actions"), len(kept))
    kept.insert(position, note)
    while len(kept) > MAX_MESSAGE_BLOCKS:
        # Drop the last non-essential block before the notice (an evidence section), never the buttons.
        kept.pop(max(0, position - 1))
        position -= 1
    return kept


def home_view(*, approvals: Sequence[ApprovedSender], cases: Sequence[SupportCase], blocked: dict[str, int],
              day: str, can_remove: bool, health: Sequence[str] = ()) -> dict[str, Any]:
    """The App Home tab: approved senders (with expiry), open cases, yesterday's blocked totals; `health`: one
    line per polled log source (bot.ingest.tmems_health)."""
    totals = ", ".join(f"{name}: {count}" for name, count in sorted(blocked.items()) if count) or "nothing blocked"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "bouncebot"}},
        section(messages.home_intro()),
        *(context(escape(line)) for line in health),
        {"type": "divider"},
        section(f"*Blocked traffic on {day}* (UTC): {sum(blocked.values())} — {escape(totals)}"),
        {"type": "divider"},
        section(f"*Approved senders* ({len(approvals)})"),
        *approval_blocks(approvals, can_remove=can_remove, rows=40),
        {"type": "divider"},
        section(f"*Open support cases* ({len(cases)})"),
        *cases_blocks(cases, rows=40),
    ]
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def button_target(value: str | None) -> dict[str, str] | None:
    """A button's JSON value {"kind", "value"}; None when it is not one."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or not isinstance(data.get("value"), str):
        return None
    return {"kind": data["kind"], "value": data["value"]}
