"""Small helpers the listeners share: where a click came from, and how to answer (post, ephemeral, DM).

`Reach` answers one interaction's user wherever the click was made: in a channel the bot was never invited
to, a private channel or a DM between people, Slack refuses the bot's chat.postMessage, chat.postEphemeral
and chat.update, and only the interaction's response_url reaches the user. Every refusal is logged once,
as a warning with Slack's error, and the answer takes the next way.

`post_diagnosis` is the /bounce answer: with a diagnosis pool (`bouncebot serve`) the worker process diagnoses,
renders and posts it itself (`_post_diagnosis_in_worker`), so none of that work is done where the acks are.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import Respond

from bot import diagnosis_pool, messages
from bot.answers import Answer
from bot.ports import ChatError
from bot.render.modals import Origin
from bot.targets import Target
from handlers.context import STORE_ERRORS, Services
from handlers.outbound import SlackChat, make_client, respond_to
from storage.db import StoreError

log = logging.getLogger(__name__)

#: chat.postMessage errors after which a slash command's answer goes through its response_url instead.
_NOT_A_MEMBER = ("not_in_channel", "channel_not_found")


def channel_of(body: dict[str, Any]) -> str | None:
    """The channel of a click on a message (None in App Home or a modal)."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or None


def origin_of(body: dict[str, Any], target: dict[str, str]) -> Origin:
    """The message a button sits on (channel, ts, thread, its response_url) plus the button's target."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    return Origin(kind=target["kind"], value=target["value"], channel=channel_of(body),
                  message_ts=container.get("message_ts") or message.get("ts"), thread_ts=message.get("thread_ts"),
                  response_url=body.get("response_url") or None, user=user_of(body) or None)


def user_of(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or body.get("user_id") or "")


#: Slack's errors for "the bot may not post there" (as opposed to a failure worth an apology in the same place).
REFUSALS = ("not_in_channel", "channel_not_found", "user_not_in_channel", "is_archived", "restricted_action",
            "cant_update_message", "message_not_found")


def refused_here(exc: ChatError) -> bool:
    """Whether Slack refused the post because of where it was going (posting there again is pointless)."""
    return _error(exc) in REFUSALS


def _error(exc: ChatError) -> str:
    """Slack's error code out of a ChatError's one line ("Slack chat.update failed: not_in_channel")."""
    return str(exc).rpartition(": ")[2] or str(exc)


@dataclass
class Reach:
    """One interaction's user and the ways to answer them: the channel (and thread) of the click, and the
    response_url Slack gave the interaction (kept in a modal's private_metadata for its submission)."""

    chat: SlackChat
    user: str
    channel: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None
    response_url: str | None = None
    #: The clicked message is ephemeral: only its response_url can replace it (chat.update cannot).
    ephemeral: bool = False

    @classmethod
    def of_action(cls, services: Services, body: dict[str, Any]) -> Reach:
        """A block action: on a message (channel, ts, response_url), or in App Home (none of them)."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        return cls(services.chat, user_of(body), channel_of(body), thread_ts=message.get("thread_ts"),
                   message_ts=container.get("message_ts") or message.get("ts"),
                   response_url=body.get("response_url") or None, ephemeral=bool(container.get("is_ephemeral")))

    @classmethod
    def of_origin(cls, services: Services, user: str, origin: Origin) -> Reach:
        """A modal's submission: where the modal was opened from, as its private_metadata says."""
        return cls(services.chat, user, origin.channel, thread_ts=origin.thread_ts, message_ts=origin.message_ts,
                   response_url=origin.response_url)

    def tell(self, text: str, blocks: list[dict[str, Any]] | None = None) -> bool:
        """An ephemeral note to the user where they clicked; refused there, through the response_url; with
        neither (App Home, an old modal), a DM from the app. False (logged) when nothing reached them."""
        if self.channel:
            try:
                self.chat.post_ephemeral(self.channel, self.user, text=text, blocks=blocks, thread_ts=self.thread_ts)
                return True
            except ChatError as exc:
                self._refused("chat.postEphemeral", exc)
        if self.response_url and self._respond(text, blocks, response_type="ephemeral"):
            return True
        try:
            self.chat.post_message(self.user, text=text, blocks=blocks)
            return True
        except ChatError as exc:
            log.warning("could not reach %s at all: %s", self.user, _error(exc))
            return False

    def post(self, text: str, blocks: list[dict[str, Any]] | None = None, *,
             thread_ts: str | None = None) -> str | None:
        """A message everyone in the channel sees (in `thread_ts`); refused, through the response_url (in the
        channel, beside the clicked message); failing that, an ephemeral note. The ts when the bot posted it."""
        if self.channel:
            try:
                return self.chat.post_message(self.channel, text=text, blocks=blocks, thread_ts=thread_ts)
            except ChatError as exc:
                self._refused("chat.postMessage", exc)
        if not (self.response_url and self._respond(text, blocks, response_type="in_channel")):
            self.tell(text, blocks)
        return None

    def replace(self, text: str, blocks: list[dict[str, Any]] | None = None) -> bool:
        """Replace the clicked message: through the response_url (replace_original) when the click has one,
        since it works wherever the message is, ephemeral or not; else (or refused) chat.update."""
        if self.response_url and self._respond(text, blocks, replace_original=True):
            return True
        if self.channel and self.message_ts and not self.ephemeral:
            try:
                self.chat.update_message(self.channel, self.message_ts, text=text, blocks=blocks)
                return True
            except ChatError as exc:
                self._refused("chat.update", exc)
        return False

    def _respond(self, text: str, blocks: list[dict[str, Any]] | None, *, response_type: str = "ephemeral",
                 replace_original: bool = False) -> bool:
        try:
            respond_to(self.response_url or "", text=text, blocks=blocks, response_type=response_type,
                       replace_original=replace_original)
            return True
        except ChatError as exc:
            log.warning("the response_url of %s's click refused the answer: %s", self.user, _error(exc))
            return False

    def _refused(self, method: str, exc: ChatError) -> None:
        way = "the response_url" if self.response_url else "a DM" if method == "chat.postEphemeral" else "a note"
        log.warning("Slack refused %s in %s (%s); answering through %s", method, self.channel, _error(exc), way)


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
        log.warning("Slack refused chat.postMessage in %s (%s); answering through the response_url", channel,
                    _error(exc))
        respond(text=answer.text, blocks=answer.blocks or None, response_type="in_channel",
                replace_original=False)
        return None


def told_on_failure(what: str, reach_of: Callable[..., Reach]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Wrap a listener so that a failure (the store down, a bug) is told to the user, not only logged.
    `reach_of` builds the Reach from the listener's own arguments; `what` names the work in the note."""

    def wrap(listener: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(listener)
        def answered(*args: Any, **kwargs: Any) -> None:
            try:
                listener(*args, **kwargs)
            except STORE_ERRORS:
                log.exception("%s: the tracking store is unreachable", what)
                reach_of(*args, **kwargs).tell(messages.store_unreachable())
            except Exception:
                log.exception("%s failed", what)
                reach_of(*args, **kwargs).tell(messages.action_failed(what))

        return answered

    return wrap


def post_or_log(services: Services, channel: str, text: str, *, blocks: list[dict[str, Any]] | None = None,
                thread_ts: str | None = None) -> str | None:
    """A post in a channel no click came from (the cases channel, a case's thread): refused, logged once as
    a warning with Slack's error; the caller tells the user what it means."""
    try:
        return services.chat.post_message(channel, text=text, blocks=blocks, thread_ts=thread_ts)
    except ChatError as exc:
        log.warning("Slack refused chat.postMessage in %s (%s)", channel, _error(exc))
        return None


def approver_or_told(services: Services, reach: Reach) -> bool | None:
    """Whether the user may approve; None when the approver group cannot be read now (logged, and the user told)."""
    try:
        return services.is_approver(reach.user)
    except ChatError:
        log.exception("the approver group could not be read")
        reach.tell(messages.approver_check_failed())
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
