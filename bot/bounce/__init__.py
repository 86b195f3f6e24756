"""Bounce message analysis: read a bounce (RFC 3464 DSN, a provider's plain-text bounce, an ARF feedback
report, an RFC 3834 auto-reply) and classify each recipient with bot.reasons.

    explain_bytes(data) -> list[RecipientResult]     # a file or a Slack attachment
    explain_text(text)  -> list[RecipientResult]     # text pasted into Slack
    explain_bounces(data) -> list[Bounce]            # per bounce message: recipients, the returned original

Both raise BadMessage (not a mail message: empty, binary) or NotABounce (a mail, but no bounce in it);
their text is the one-line message to show.
"""

from __future__ import annotations

from bot.bounce.explain import (
    Bounce,
    NotABounce,
    RecipientResult,
    explain_bounces,
    explain_bytes,
    explain_message,
    explain_text,
)
from bot.bounce.message import BadMessage

__all__ = ["BadMessage", "Bounce", "NotABounce", "RecipientResult", "explain_bounces", "explain_bytes",
           "explain_message", "explain_text"]
