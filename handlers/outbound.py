"""bot.ports.Chat over slack_sdk's WebClient: posting, updating, uploading, with 429 Retry-After retries.

bot/ (the digest, the diagnosis flow) talks to Slack only through this; tests point the client at the fake
Web API with BOUNCEBOT_SLACK_API_URL.
"""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.ports import ChatError

log = logging.getLogger(__name__)

#: How often a rate-limited (429) call is tried again, each after the Retry-After the server asked for.
RATE_LIMIT_RETRIES = 3
#: Seconds to wait for a response_url to answer.
RESPONSE_URL_TIMEOUT = 10


def make_client(token: str | None, base_url: str, *, timeout: int = 30) -> WebClient:
    """A WebClient that waits out 429 Retry-After and retries dropped connections."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return WebClient(
        token=token,
        base_url=base,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


def ensure_retries(client: WebClient) -> WebClient:
    """Add the 429 handler to a client built elsewhere (tests, embedding apps) if it lacks one."""
    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


def _fail(method: str, exc: SlackClientError) -> ChatError:
    if isinstance(exc, SlackApiError):
        return ChatError(f"Slack {method} failed: {exc.response.get('error', 'unknown error')}")
    return ChatError(f"Slack {method} failed: {type(exc).__name__}")


class SlackChat:
    """Implements bot.ports.Chat. Errors become ChatError whose text names the method, never the token."""

    def __init__(self, client: WebClient) -> None:
        self.client = ensure_retries(client)

    def post_message(self, channel: str, *, text: str, blocks: list[dict[str, Any]] | None = None,
                     thread_ts: str | None = None) -> str:
        try:
            response = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread_ts,
                                                    unfurl_links=False, unfurl_media=False)
        except SlackClientError as exc:
            raise _fail("chat.postMessage", exc) from exc
        return str(response["ts"])

    def post_ephemeral(self, channel: str, user: str, *, text: str, blocks: list[dict[str, Any]] | None = None,
                       thread_ts: str | None = None) -> None:
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts)
        except SlackClientError as exc:
            raise _fail("chat.postEphemeral", exc) from exc

    def update_message(self, channel: str, ts: str, *, text: str,
                       blocks: list[dict[str, Any]] | None = None) -> None:
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackClientError as exc:
            raise _fail("chat.update", exc) from exc

    def upload_file(self, channel: str, path: Path, *, title: str, thread_ts: str | None = None,
                    initial_comment: str | None = None) -> None:
        """files.getUploadURLExternal, POST the bytes, files.completeUploadExternal (slack_sdk's v2 flow)."""
        try:
            self.client.files_upload_v2(channel=channel, file=str(path), filename=path.name, title=title,
                                        thread_ts=thread_ts, initial_comment=initial_comment)
        except SlackClientError as exc:
            raise _fail("files upload", exc) from exc

    def usergroup_members(self, usergroup: str) -> set[str]:
        try:
            response = self.client.usergroups_users_list(usergroup=usergroup)
        except SlackClientError as exc:
            raise _fail("usergroups.users.list", exc) from exc
        return {str(u) for u in response.get("users") or []}

    def file_info(self, file_id: str) -> dict[str, Any]:
        try:
            return dict(self.client.files_info(file=file_id)["file"])
        except SlackClientError as exc:
            raise _fail("files.info", exc) from exc

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """A private file's bytes (url_private needs the bot token as a Bearer header); at most max_bytes."""
        if not url.startswith(("https://", "http://")):
            raise ChatError("file download failed: not an http(s) URL")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.client.token}"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.client.timeout) as response:  # noqa: S310
                data = response.read(max_bytes + 1)
        except OSError as exc:
            raise ChatError(f"file download failed: {type(exc).__name__}") from exc
        if len(data) > max_bytes:
            raise ChatError(f"file too large (over {max_bytes // 1024} KiB)")
        return data


def respond_to(response_url: str, *, text: str, blocks: list[dict[str, Any]] | None = None,
               response_type: str = "ephemeral", replace_original: bool = False,
               thread_ts: str | None = None) -> None:
    """POST an answer to an interaction's response_url (valid 30 minutes, 5 answers): it reaches the user
    in channels the bot is not in, private channels and DMs between people. Raises ChatError when Slack
    refuses it (expired or used up) or cannot be reached."""
    body: dict[str, Any] = {"text": text, "response_type": response_type, "replace_original": replace_original}
    if blocks:
        body["blocks"] = blocks
    if thread_ts:
        body["thread_ts"] = thread_ts
    client = WebhookClient(response_url, timeout=RESPONSE_URL_TIMEOUT, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=1), RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)])
    try:
        response = client.send_dict(body)
    except OSError as exc:  # urllib's errors; the URL itself is never logged (it is a credential of sorts)
        raise ChatError(f"Slack response_url failed: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise ChatError(f"Slack response_url failed: {(response.body or str(response.status_code)).strip()[:80]}")
