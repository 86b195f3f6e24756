"""Interfaces that bot/ needs from the outside world; the wiring (handlers/, bot/app.py) provides them.

bot/ never imports slack_bolt or slack_sdk: it talks to Slack only through `Chat`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class ChatError(RuntimeError):
    """Posting to the chat failed after retries; the message says why (never contains a token)."""


class Chat(Protocol):
    """What bot/ may do in Slack. Implemented over slack_sdk.WebClient in handlers/outbound.py."""

    def post_message(self, channel: str, *, text: str, blocks: list[dict[str, Any]] | None = None,
                     thread_ts: str | None = None) -> str:
        """Post; returns the message ts."""
        ...

    def update_message(self, channel: str, ts: str, *, text: str,
                       blocks: list[dict[str, Any]] | None = None) -> None: ...

    def upload_file(self, channel: str, path: Path, *, title: str, thread_ts: str | None = None,
                    initial_comment: str | None = None) -> None:
        """Upload with the files upload v2 flow (getUploadURLExternal, POST, completeUploadExternal)."""
        ...
