"""`dns` health (bot.auth.health JSON) as terminal text and as Slack blocks (within Slack's limits)."""

from __future__ import annotations

from typing import Any

from bot.render.auth import SLACK_MARK, TEXT_MARK
from bot.render.blocks import MAX_BLOCKS, context, section
from bot.render.mrkdwn import escape

LINES_PER_SECTION = 6


def _title(health: dict[str, Any]) -> str:
    what = health.get("domain") or ", ".join(health.get("ips") or [])
    ips = f" (sending IPs: {', '.join(health['ips'])})" if health.get("domain") and health.get("ips") else ""
    return f"DNS health of {what}{ips}"


def dns_text(health: dict[str, Any]) -> str:
    lines = [_title(health), ""]
    for line in health["lines"]:
        lines.append(f"{line['check'].upper():<6} {TEXT_MARK.get(line['verdict'], line['verdict'])} {line['text']}")
        if line["fix"]:
            lines.append(f"{'':15}fix: {line['fix']}")
    problems = sum(1 for x in health["lines"] if x["verdict"] == "problem")
    unknown = sum(1 for x in health["lines"] if x["verdict"] == "unknown")
    lines += ["", f"{problems} to fix, {unknown} unknown (not checked: neither good nor bad)."]
    return "\n".join(lines)


def dns_blocks(health: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [section(f"*{escape(_title(health))}*")]
    rows = []
    for line in health["lines"]:
        text = f"{SLACK_MARK.get(line['verdict'], '')} *{line['check'].upper()}* {escape(line['text'])}"
        if line["fix"]:
            text += f"\n      _Fix:_ {escape(line['fix'])}"
        rows.append(text)
    for start in range(0, len(rows), LINES_PER_SECTION):
        blocks.append(section("\n".join(rows[start:start + LINES_PER_SECTION])))
    blocks.append(context("Live DNS answers now; unknown means the check could not be made, not that it failed."))
    return blocks[:MAX_BLOCKS]
