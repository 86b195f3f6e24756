"""Mentions and direct messages: find the target in free text and answer in the thread; explain pasted bounces.

Events are acknowledged by bolt at once (auto-ack); the answer is a lazy listener, so a pasted bounce's live
authentication checks (at most about three DNS timeouts) run after the acknowledgement. Retries of one event_id
never get here twice (handlers.context.dedupe_events).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot import bounce_answers, messages
from bot.answers import Answer
from bot.freetext import looks_like_bounce, plain_text, read_question
from bot.ports import ChatError
from handlers.context import STORE_ERRORS, Services, services_of
from handlers.replies import refused_here

log = logging.getLogger(__name__)

#: Subtypes of message events that are a person writing to us (file_share: a message with attachments).
_PERSON_SUBTYPES = (None, "file_share")
MAX_FILES = 3
MAX_FILE_BYTES = 2 * 1024 * 1024


def register(app: App) -> None:
    app.event("app_mention")(ack=ack_event, lazy=[answer_mention])
    app.event("message")(ack=ack_event, lazy=[answer_direct_message])


def ack_event(ack: Ack) -> None:
    ack()


def answer_mention(event: dict[str, Any], context: Any) -> None:
    _answer(services_of(context), event)


def answer_direct_message(event: dict[str, Any], context: Any) -> None:
    if event.get("channel_type") != "im" or event.get("subtype") not in _PERSON_SUBTYPES or event.get("bot_id"):
        return
    _answer(services_of(context), event)


def _answer(services: Services, event: dict[str, Any]) -> None:
    channel, thread_ts = event["channel"], event.get("thread_ts") or event.get("ts")
    try:
        for answer in _answers(services, event):
            services.chat.post_message(channel, text=answer.text, blocks=answer.blocks or None, thread_ts=thread_ts)
    except STORE_ERRORS:
        log.exception("answering a %s: the tracking store is unreachable", event.get("type"))
        services.chat.post_message(channel, text=messages.store_unreachable(), thread_ts=thread_ts)
    except Exception as exc:
        if isinstance(exc, ChatError) and refused_here(exc):  # no response_url on an event: nothing else reaches
            log.warning("Slack refused the answer to a %s in %s (%s)", event.get("type"), channel, exc)
            return
        log.exception("answering a %s failed", event.get("type"))
        services.chat.post_message(channel, text=messages.lookup_failed("an answer"), thread_ts=thread_ts)


def _answers(services: Services, event: dict[str, Any]) -> list[Answer]:
    files = event.get("files") or []
    if files:
        return [_explain_file(services, f) for f in files[:MAX_FILES]]
    text = event.get("text") or ""
    if looks_like_bounce(text):
        return [bounce_answers.explain_text(plain_text(text), check=services.bounce_auth)]
    question = read_question(text)
    if question.target is None:
        return [Answer(messages.mention_help())]
    return [services.diagnosis(question.target, since=question.since)]


def _explain_file(services: Services, shared: dict[str, Any]) -> Answer:
    """files.info for the private URL, then the bytes with the bot token (Slack's way to read an attachment)."""
    name = shared.get("name") or shared.get("id") or "file"
    try:
        info = services.chat.file_info(shared["id"])
        url = info.get("url_private_download") or info.get("url_private") or ""
        data = services.chat.download(url, max_bytes=MAX_FILE_BYTES)
    except ChatError as exc:
        return Answer(messages.file_unreadable(name, str(exc)))
    return bounce_answers.explain_bytes(data, name=name, check=services.bounce_auth)
