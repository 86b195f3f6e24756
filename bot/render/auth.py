"""The authentication checks (bot.auth report JSON) as text lines and as one Block Kit section."""

from __future__ import annotations

import textwrap
from typing import Any

from bot.render.mrkdwn import cut_mrkdwn, escape

WIDTH = 100

#: How a verdict is marked in text and in Slack.
TEXT_MARK = {"ok": "ok     ", "problem": "PROBLEM", "unknown": "unknown"}
SLACK_MARK = {"ok": ":white_check_mark:", "problem": ":red_circle:", "unknown": ":grey_question:"}


#: Where the sending IP came from (bot.bounce_auth, bot.diagnosis.authentication).
IP_SOURCES = {"reply": "named in the reply", "received": "from the returned headers' Received fields",
              "outbound": "our first BOUNCEBOT_OUTBOUND_IPS", "client": "the client our gateway saw"}


def _heading(auth: dict[str, Any]) -> str:
    domain, ip = auth.get("domain"), auth.get("ip")
    if domain and auth.get("domain_source") == "header_from":
        domain = f"header From {domain}"
    elif domain:
        domain = f"domain {domain}"
    if ip:
        source = IP_SOURCES.get(auth.get("ip_source") or "")
        ip = f"sending IP {ip}" + (f" ({source})" if source else "")
    what = ", ".join(x for x in (domain, ip) if x)
    return f"Authentication and DNS (live{': ' + what if what else ''})"


def auth_text_lines(auth: dict[str, Any], width: int = WIDTH) -> list[str]:
    """One line per check: its verdict, what was found, and the fix on the next line."""
    lines = [_heading(auth) + ":"]
    for line in auth.get("lines", []):
        head = f"  {line['check'].upper():<6} {TEXT_MARK.get(line['verdict'], line['verdict'])} "
        lines.append(textwrap.fill(line["text"], width, initial_indent=head, subsequent_indent=" " * len(head),
                                   break_on_hyphens=False))
        if line["fix"]:
            lines.append(textwrap.fill(line["fix"], width, initial_indent=" " * len(head) + "fix: ",
                                       subsequent_indent=" " * (len(head) + 5), break_on_hyphens=False))
    return lines


def auth_mrkdwn(auth: dict[str, Any]) -> str:
    """The same as one mrkdwn section text (escaped, within Slack's 3000 characters)."""
    lines = [f"*{escape(_heading(auth))}*"]
    for line in auth.get("lines", []):
        text = f"{SLACK_MARK.get(line['verdict'], '')} *{line['check'].upper()}* {escape(line['text'])}"
        if line["fix"]:
            text += f"\n      _Fix:_ {escape(line['fix'])}"
        lines.append(text)
    return cut_mrkdwn("\n".join(lines), 3000)
