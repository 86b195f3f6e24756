"""Small helpers the listeners share: where a click came from, and how to answer (post, ephemeral, DM)."""

from __future__ import annotations

import logging
from typing import Any

from bot.answers import Answer
from bot.ports import ChatError
from bot.render.modals import Origin
from handlers.context import Services

log = logging.getLogger(__name__)

#: chat.postMessage errors after which a slash command's answer goes through its response_url instead.
_NOT_A_MEMBER = ("not_in_channel", "channel_not_found")


def origin_of(body: dict[str, Any], target: dict[str, str]) -> Origin:
    """The message a button sits on (channel, ts, thread) plus the button's target."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return Origin(kind=target["kind"], value=target["value"], channel=channel,
                  message_ts=container.get("message_ts") or message.get("ts"), thread_ts=message.get("thread_ts"))


def user_of(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or body.get("user_id") or "")


def post_answer(services: Services, channel: str, answer: Answer, *, thread_ts: str | None = None,
                respond: Any = None) -> str | None:
    """Post in the channel; if the bot is not a member and there is a response_url, answer through it."""
    try:
        return services.chat.post_message(channel, text=answer.text, blocks=answer.blocks or None,
                                          thread_ts=thread_ts)
    except ChatError as exc:
        if respond is None or not any(code in str(exc) for code in _NOT_A_MEMBER):
            raise
        log.info("not a member of %s: answering through the response_url", channel)
        respond(text=answer.text, blocks=answer.blocks or None, response_type="in_channel",
                replace_original=False)
        return None


def tell(services: Services, user: str, text: str, *, channel: str | None = None,
         thread_ts: str | None = None) -> None:
    """An ephemeral note in the channel of the click; from App Home (no channel) a DM from the app."""
    if channel:
        services.chat.post_ephemeral(channel, user, text=text, thread_ts=thread_ts)
    else:
        services.chat.post_message(user, text=text)
