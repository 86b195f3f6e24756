"""Small helpers the listeners share: where a click came from, and how to answer (post, ephemeral, DM).

`post_diagnosis` is the /bounce answer: with a diagnosis pool (`bouncebot serve`) the worker process diagnoses,
renders and posts it itself (`_post_diagnosis_in_worker`), so none of that work is done where the acks are.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from slack_bolt import Respond

from bot import diagnosis_pool, messages
from bot.answers import Answer
from bot.ports import ChatError
from bot.render.modals import Origin
from bot.targets import Target
from handlers.context import STORE_ERRORS, Services
from handlers.outbound import SlackChat, make_client
from storage.db import StoreError

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
    return _post(services.chat, channel, answer, thread_ts=thread_ts, respond=respond)


def _post(chat: SlackChat, channel: str, answer: Answer, *, thread_ts: str | None = None,
          respond: Any = None) -> str | None:
    try:
        return chat.post_message(channel, text=answer.text, blocks=answer.blocks or None, thread_ts=thread_ts)
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


def approver_or_told(services: Services, user: str, *, channel: str | None = None,
                     thread_ts: str | None = None) -> bool | None:
    """Whether `user` may approve; None when the approver group cannot be read now (logged, and the user told)."""
    try:
        return services.is_approver(user)
    except ChatError:
        log.exception("the approver group could not be read")
        tell(services, user, messages.approver_check_failed(), channel=channel, thread_ts=thread_ts)
        return None


def post_diagnosis(services: Services, channel: str, target: Target, *, since: datetime | None = None,
                   respond: Respond | None = None) -> None:
    """Diagnose `target` and post the answer in `channel` (through the response_url if the bot is not a member).

    With a pool, all of it happens in a worker process; its failures come back as exceptions here (a store
    that is down as StoreError), a worker that died as BrokenProcessPool, one that took too long as
    TimeoutError, and the caller tells the user."""
    if services.pool is None:
        post_answer(services, channel, services.diagnosis(target, since=since), respond=respond)
        return
    response_url = getattr(respond, "response_url", None) or None
    deadline = time.time() + services.pool.timeout
    services.pool.run(_post_diagnosis_in_worker, channel, target, since, response_url, deadline)


def _post_diagnosis_in_worker(channel: str, target: Target, since: datetime | None, response_url: str | None,
                              deadline: float) -> None:
    """In a diagnosis worker: diagnose, render, post. Only a None or a plain exception goes back."""
    worker = diagnosis_pool.current()
    try:
        answer = diagnosis_pool.diagnose_here(target, since)
    except STORE_ERRORS as exc:  # a driver's exception may not survive pickling: send its first line
        log.exception("diagnosing %s: the tracking store is unreachable", target.value)
        raise StoreError(str(getattr(exc, "orig", None) or exc).strip().split("\n")[0]) from None
    except Exception as exc:
        log.exception("diagnosing %s failed", target.value)
        raise RuntimeError(f"the diagnosis failed: {type(exc).__name__}: {exc}") from None
    if time.time() > deadline:  # the web process has given up and told the user: do not answer twice
        raise TimeoutError(f"the diagnosis of {target.value} took too long; not posted")
    chat = worker.cache.get("chat")
    if chat is None:
        settings = worker.settings
        chat = worker.cache["chat"] = SlackChat(make_client(settings.slack_bot_token, settings.slack_api_url))
    try:
        _post(chat, channel, answer, respond=Respond(response_url=response_url) if response_url else None)
    except Exception as exc:  # e.g. a ChatError, a slack_sdk error: a plain one goes back, the trace is logged
        log.exception("posting the diagnosis of %s failed", target.value)
        raise RuntimeError(f"posting the diagnosis failed: {type(exc).__name__}: {exc}") from None
