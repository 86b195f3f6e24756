"""Slack's text rules in one place: escaping, cutting to a limit, dates, people. Every Slack text is built with these.

- `escape` every piece of our text or of the data (reply texts are full of <addresses> and &) before it goes
  into mrkdwn or a message's top-level `text` (the notification and screen-reader fallback, also mrkdwn).
- `fit` cuts plain text to a limit *before* escaping it, so the escaped result stays within the limit and no
  `&amp;` is ever cut in half; `cut_mrkdwn` cuts text that is already mrkdwn, never inside an entity
  (`&lt;`), a link, a mention or a date (`<...>`).
- `date` shows a moment with Slack's date formatting, in each reader's own time zone, with a UTC fallback.
- `actor` mentions a Slack user (`<@U123>`), and shows anyone else (the CLI, the scheduler) as plain text.
- `slack_tips` turns the CLI's `why TARGET` in a tip into what works in Slack: `/bounce TARGET`.
- `slack_dates` shows the "2026-12-06 14:03 UTC" of texts written for every reader (the diagnosis's verdict,
  history, caveats) as Slack dates.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

ELLIPSIS = "…"
#: Slack's format for a date and time: "Dec 7, 2026 at 2:03 PM"-like, in the reader's time zone.
DATE_TIME = "{date_short_pretty} {time}"
DATE_ONLY = "{date_short_pretty}"
#: A Slack user (or enterprise user) ID; anything else that acts (cli:root, scheduler, system) is not one.
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CLI_WHY = re.compile(r"`why ([^`\s]+)`")
_STAMP = r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(?::\d{2})?"
#: "A – B UTC" and "between A and B UTC" (both ends are UTC: groups 1-5), or one "A UTC" (groups 6-7).
_UTC_TIMES = re.compile(rf"\b{_STAMP}(\s+(?:and|to|–|-)\s+){_STAMP} UTC\b|\b{_STAMP} UTC\b")
#: The command the tips point to inside Slack.
SLASH_COMMAND = "/bounce"


def escape(text: str) -> str:
    """&, < and > as Slack's mrkdwn needs them (the only three characters it wants escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """Plain text (a plain_text field, an input's value) within `limit` characters, "…" marking a cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + ELLIPSIS


def fit(text: str, limit: int) -> str:
    """Escape plain text so that the escaped result is at most `limit` characters; cut before escaping."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    room, size, end = limit - 1, 0, 0
    for end, char in enumerate(text):  # noqa: B007 - `end` is used after the loop
        grown = size + len(_ESCAPES.get(char, char))
        if grown > room:
            break
        size = grown
    return escape(text[:end]) + ELLIPSIS


def cut_mrkdwn(text: str, limit: int) -> str:
    """mrkdwn within `limit` characters; a cut never lands inside an entity (`&amp;`) or `<...>` (a link,
    a mention, a date): it moves back to where that began."""
    if len(text) <= limit:
        return text
    end = max(0, limit - 1)
    opened = text.rfind("<", 0, end)
    if opened != -1 and text.find(">", opened, end) == -1:
        end = opened
    amp = text.rfind("&", max(0, end - 6), end)
    if amp != -1 and ";" not in text[amp:end]:
        end = amp
    return text[:end] + ELLIPSIS


def date(moment: datetime | None, fmt: str = DATE_TIME, *, none: str = "never") -> str:
    """`<!date^EPOCH^FORMAT|FALLBACK>`: each reader sees it in their own time zone; the fallback (UTC) is
    what notifications and old clients show."""
    if moment is None:
        return none
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    fallback = f"{aware.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if fmt != DATE_ONLY else f"{aware:%Y-%m-%d}"
    return f"<!date^{int(aware.timestamp())}^{fmt}|{fallback}>"


def as_datetime(value: Any) -> datetime | None:
    """A datetime from a datetime or an ISO string (a diagnosis's JSON); None otherwise."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def actor(who: str | None, *, nobody: str = "someone") -> str:
    """A mention for a Slack user ID; the CLI (`cli:root`), the scheduler or `system` as plain text."""
    if not who:
        return nobody
    if _USER_ID.match(who):
        return f"<@{who}>"
    if who.startswith("cli:"):
        return f"{escape(who.removeprefix('cli:'))} (command line)"
    return escape(who)


def slack_tips(text: str) -> str:
    """A tip written for the CLI (`why partner.example`) as it works in Slack (`/bounce partner.example`)."""
    return _CLI_WHY.sub(lambda m: f"`{SLASH_COMMAND} {m.group(1)}`", text)


def slack_dates(text: str) -> str:
    """Every "YYYY-MM-DD HH:MM[:SS] UTC" in (escaped) text, and both ends of "A and B UTC", as Slack dates in
    the reader's time zone (one pass: a date's own UTC fallback is never rewritten again)."""

    def shown(day: str, clock: str) -> str | None:
        try:
            return date(datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC))
        except ValueError:
            return None

    def replace(m: re.Match[str]) -> str:
        if m.group(6):
            return shown(m.group(6), m.group(7)) or m.group(0)
        first, last = shown(m.group(1), m.group(2)), shown(m.group(4), m.group(5))
        return f"{first}{m.group(3)}{last}" if first and last else m.group(0)

    return _UTC_TIMES.sub(replace, text)


def drop_empty(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without context blocks that have no element (Slack refuses them) and sections with no text."""
    kept = []
    for block in blocks:
        if block.get("type") == "context" and not block.get("elements"):
            continue
        if block.get("type") == "section" and not (block.get("text") or {}).get("text") and not block.get("fields"):
            continue
        kept.append(block)
    return kept
