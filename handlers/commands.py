"""/bounce: acknowledged at once with a short note, answered from the background threads when the work is done.

The acknowledgement hands the parsed command off (`Services.hand_off`) instead of registering a bolt lazy
listener: bolt deep-copies the whole request for a lazy listener, which was ~40% of the acknowledgement's CPU.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import answers, messages
from bot.ports import ChatError
from bot.slash import BounceCommand, parse_bounce
from handlers import digest_command, report_command
from handlers.context import STORE_ERRORS, services_of
from handlers.replies import post_diagnosis

log = logging.getLogger(__name__)

COMMAND = "/bounce"


def register(app: App) -> None:
    app.command(COMMAND)(ack_bounce)


def ack_bounce(ack: Ack, command: dict[str, Any], context: Any, respond: Respond) -> None:
    """The acknowledgement: usage for bad input (ephemeral), else a one-line 'working on it' and the work
    handed off."""
    parsed = parse_bounce(command.get("text", ""))
    name = command.get("command") or COMMAND
    if parsed.kind == "help":
        ack(text=messages.usage(name))
    elif parsed.kind == "invalid":
        ack(text=messages.bad_input(parsed.error or "", name))
    elif parsed.kind == "diagnose" and parsed.target is not None:
        ack(text=messages.looking_into(parsed.target.value))
    else:
        ack(text=messages.working_on({"approved": "the approved senders", "cases": "the open cases",
                                      "digest": "the digest", "dns": "the DNS health",
                                      "report": "the traffic report"}[parsed.kind]))
    if parsed.kind not in ("help", "invalid"):
        services = services_of(context)
        services.hand_off(answer_bounce, parsed, command, services, respond)


def answer_bounce(parsed: BounceCommand, command: dict[str, Any], services: Any, respond: Respond) -> None:
    """The answer, on a background thread; every failure is told to the user (ephemeral)."""
    try:
        _answer(parsed, command, services, respond)
    except STORE_ERRORS:
        log.exception("/bounce %s: the tracking store is unreachable", parsed.kind)
        respond(text=messages.store_unreachable(), response_type="ephemeral")
    except Exception:
        log.exception("/bounce %s failed", parsed.kind)
        what = parsed.target.value if parsed.target else parsed.kind
        respond(text=messages.diagnosis_failed(what) if parsed.kind == "diagnose" else messages.lookup_failed(what),
                response_type="ephemeral")


def _answer(parsed: BounceCommand, command: dict[str, Any], services: Any, respond: Respond) -> None:
    user = command.get("user_id", "")
    if parsed.kind == "diagnose" and parsed.target is not None:
        post_diagnosis(services, command["channel_id"], parsed.target, since=parsed.since, respond=respond)
    elif parsed.kind == "approved":
        try:
            can_remove = services.is_approver(user)
        except ChatError:  # the group cannot be read now: the list without Remove buttons
            log.exception("the approver group could not be read")
            can_remove = False
        with services.session() as session:
            answer = answers.approved_answer(session, can_remove=can_remove)
        respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")
    elif parsed.kind == "cases":
        with services.session() as session:
            answer = answers.cases_answer(session)
        respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")
    elif parsed.kind == "dns" and parsed.dns_target:
        answer = answers.dns_answer(services.settings, parsed.dns_target, parsed.dns_ip, services.checker())
        respond(text=answer.text, blocks=answer.blocks, response_type="in_channel")
    elif parsed.kind == "digest":
        respond(text=digest_command.post_digest(services, parsed.day, command["channel_id"],
                                                command.get("response_url") or None),
                response_type="ephemeral")
    elif parsed.kind == "report":
        report_command.answer_report(services, parsed.period, command["channel_id"], respond)
