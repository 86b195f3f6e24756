"""`/bounce digest [date]`: post the blocked-traffic digest of a day on demand, in the channel it was asked in.

On demand means not counted: bot.digest claims nothing, so the scheduled daily digest still posts once.
"""

from __future__ import annotations

from datetime import date

from bot import messages
from bot.digest.post import post_digest as publish_digest
from handlers.context import Services


def post_digest(services: Services, day: date | None, channel: str) -> str:
    """Post it (message, then the chart in its thread); returns the note for the person who asked."""
    posted = publish_digest(services.store, services.settings, services.chat, channel, day)
    label = posted.digest.period.label() if posted is not None else (day.isoformat() if day else "yesterday")
    return messages.digest_posted(label, channel)
