"""`/bounce digest [date]`: post the blocked-traffic digest of a day on demand, in the channel it was asked in.

On demand means not counted: bot.digest claims nothing, so the scheduled daily digest still posts once.
Where Slack refuses the bot's post (a channel it was not invited to, a DM between people), the digest goes
through the command's response_url instead, without the chart (a file upload needs the bot in the channel).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from bot import messages
from bot.digest.post import post_digest as publish_digest
from bot.ports import ChatError
from handlers.context import Services
from handlers.outbound import respond_to

log = logging.getLogger(__name__)


class ResponseUrlChat:
    """bot.ports.Chat over a command's response_url: the message in the channel, no chart."""

    def __init__(self, response_url: str) -> None:
        self.response_url = response_url

    def post_message(self, channel: str, *, text: str, blocks: list[dict[str, Any]] | None = None,
                     thread_ts: str | None = None) -> str:
        respond_to(self.response_url, text=text, blocks=blocks, response_type="in_channel")
        return ""

    def update_message(self, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        respond_to(self.response_url, text=text, blocks=blocks, replace_original=True)

    def upload_file(self, channel: str, path: Path, *, title: str, thread_ts: str | None = None,
                    initial_comment: str | None = None) -> None:
        raise ChatError("the chart needs the bot in the channel (a file upload cannot go through a response_url)")


def post_digest(services: Services, day: date | None, channel: str, response_url: str | None = None) -> str:
    """Post it (message, then the chart in its thread); returns the note for the person who asked."""
    try:
        posted = publish_digest(services.store, services.settings, services.chat, channel, day)
    except ChatError as exc:
        if not response_url:
            raise
        log.warning("Slack refused the digest in %s (%s); posting it through the response_url", channel, exc)
        posted = publish_digest(services.store, services.settings, ResponseUrlChat(response_url), channel, day)
        label = posted.digest.period.label() if posted is not None else (day.isoformat() if day else "yesterday")
        return messages.digest_posted_without_chart(label)
    label = posted.digest.period.label() if posted is not None else (day.isoformat() if day else "yesterday")
    return messages.digest_posted(label, channel)
