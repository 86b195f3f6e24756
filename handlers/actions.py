"""Buttons: approve sender, open case, re-check blacklists, show events, close/reopen case, remove approval.

Every button is acknowledged at once; the work (authorization, lookups, modals, updates) is a lazy listener.
A modal is opened right away from the lazy listener, well inside the trigger_id's 3 seconds. Every answer goes
through `Reach`, so it arrives where the bot is not a member too (through the click's response_url).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot import answers, approvals, audit, cases, messages
from bot.render import ids, lists, modals
from bot.targets import NULL_SENDER, Target
from handlers.context import Services, services_of
from handlers.home import refresh_home
from handlers.replies import Reach, approver_or_told, origin_of, post_or_log, told_on_failure
from handlers.views import update_case_messages

log = logging.getLogger(__name__)

APPROVABLE = ("address", "domain")


def register(app: App) -> None:
    app.action(ids.ACTION_APPROVE_SENDER)(ack=ack_button, lazy=[start_approval])
    app.action(ids.ACTION_OPEN_CASE)(ack=ack_button, lazy=[start_case])
    app.action(ids.ACTION_RECHECK_BLACKLISTS)(ack=ack_button, lazy=[recheck_blacklists])
    app.action(ids.ACTION_SHOW_EVENTS)(ack=ack_button, lazy=[show_events])
    app.action(ids.ACTION_DIGEST_WHY)(ack=ack_button, lazy=[digest_why])
    app.action(ids.ACTION_CLOSE_CASE)(ack=ack_button, lazy=[close_case])
    app.action(ids.ACTION_REOPEN_CASE)(ack=ack_button, lazy=[reopen_case])
    app.action(ids.ACTION_REMOVE_APPROVAL)(ack=ack_button, lazy=[remove_approval])


def ack_button(ack: Ack) -> None:
    ack()


def _reach(body: dict[str, Any], action: dict[str, Any], context: Any) -> Reach:
    return Reach.of_action(services_of(context), body)


def _clicked(body: dict[str, Any], action: dict[str, Any], context: Any
             ) -> tuple[Services, Reach, modals.Origin | None]:
    services = services_of(context)
    target = lists.button_target(action.get("value"))
    return services, Reach.of_action(services, body), (origin_of(body, target) if target else None)


def _refuse(services: Services, reach: Reach, origin: modals.Origin, pattern: str | None) -> None:
    """Audited as a refused approval, or (a Remove button) as a refused removal of that approval."""
    removal = origin.kind not in APPROVABLE
    with services.session() as session:
        if removal and pattern is None and origin.value.isdigit():
            found = approvals.get_approval(session, int(origin.value))
            pattern = found.pattern if found is not None else None
        approvals.refuse(session, actor=reach.user, pattern=pattern, kind=None if removal else origin.kind,
                         channel=origin.channel, message_ts=origin.message_ts,
                         action=audit.REMOVE if removal else audit.APPROVE,
                         detail={"approval_id": origin.value} if removal else None)
    reach.tell(messages.not_an_approver(services.settings.approvers, services.settings.approver_group))


def _authorized(services: Services, reach: Reach, origin: modals.Origin, pattern: str | None) -> bool:
    """True for approvers; anyone else is refused (ephemeral, audited). A failed group lookup is said so."""
    allowed = approver_or_told(services, reach)
    if allowed is False:
        _refuse(services, reach, origin, pattern)
    return bool(allowed)


def _open_modal(services: Services, body: dict[str, Any], reach: Reach, view: dict[str, Any]) -> None:
    """views.open; the trigger_id lives 3 seconds, so a slow moment (a 429 wait) is told, not swallowed."""
    try:
        services.chat.client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        reach.tell(messages.modal_failed())


@told_on_failure("the approval", _reach)
def start_approval(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    services, reach, origin = _clicked(body, action, context)
    if origin is None:
        reach.tell(messages.bad_button())
        return
    if origin.kind not in APPROVABLE or origin.value == NULL_SENDER:
        reach.tell(messages.approve_not_possible(origin.kind, origin.value))
        return
    if not _authorized(services, reach, origin, origin.value):
        return
    with services.session() as session:
        existing = approvals.is_approved(session, origin.value)
    if existing is not None:
        reach.tell(messages.already_approved(existing.pattern, existing.approved_by, existing.expires_at))
        return
    _open_modal(services, body, reach, modals.approve_modal(origin))


@told_on_failure("opening the case form", _reach)
def start_case(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    """The case modal, prefilled from the stored evidence (no live checks: the trigger_id lasts 3 s)."""
    services, reach, origin = _clicked(body, action, context)
    if origin is None:
        reach.tell(messages.bad_button())
        return
    answer = services.diagnosis(Target(origin.kind, origin.value), live=False)
    assert answer.diagnosis is not None
    title, description = answers.case_prefill(answer.diagnosis)
    _open_modal(services, body, reach, modals.case_modal(origin, title=title, description=description))


@told_on_failure("the re-check", _reach)
def recheck_blacklists(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    """Run the diagnosis again with live block-list checks and replace the message in place."""
    services, reach, origin = _clicked(body, action, context)
    if origin is None:
        reach.tell(messages.bad_button())
        return
    answer = services.diagnosis(Target(origin.kind, origin.value))
    if not reach.replace(answer.text, answer.blocks):
        reach.post(answer.text, answer.blocks, thread_ts=origin.thread_ts or origin.message_ts)


@told_on_failure("the events", _reach)
def show_events(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    """More evidence: the newest tracking events, in the message's thread."""
    services, reach, origin = _clicked(body, action, context)
    if origin is None:
        reach.tell(messages.bad_button())
        return
    with services.session() as session:
        answer = answers.events_answer(session, Target(origin.kind, origin.value), settings=services.settings)
    reach.post(answer.text, answer.blocks, thread_ts=origin.thread_ts or origin.message_ts)


@told_on_failure("the diagnosis", _reach)
def digest_why(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    """The digest's "Why?" beside a top sender: its diagnosis in the digest's thread."""
    services, reach, origin = _clicked(body, action, context)
    if origin is None:
        reach.tell(messages.bad_button())
        return
    answer = services.diagnosis(Target(origin.kind, origin.value))
    reach.post(answer.text, answer.blocks, thread_ts=origin.thread_ts or origin.message_ts)


def _case_change(body: dict[str, Any], action: dict[str, Any], context: Any, close: bool) -> None:
    services, reach, origin = _clicked(body, action, context)
    user = reach.user
    try:
        case_id = int(origin.value) if origin else 0
        with services.session() as session:
            case = cases.get_case(session, case_id)
        if case is None or origin is None:
            raise cases.UnknownCase(case_id)
        if not _may_change_case(services, reach, case, origin, close):
            return
        with services.session() as session:
            change = (cases.close_case if close else cases.reopen_case)(
                session, case_id=case_id, actor=user, channel=origin.channel, message_ts=origin.message_ts)
    except (ValueError, cases.UnknownCase):
        reach.tell(messages.case_unknown())
        return
    if not change.changed:
        reach.tell(messages.case_already(change.case.id, change.case.status, change.by))
        return
    update_case_messages(services, change.case, reach)
    text = (messages.case_closed if close else messages.case_reopened)(change.case.id, user)
    if change.case.channel and change.case.thread_ts:
        if change.case.channel == reach.channel:
            reach.post(text, thread_ts=change.case.thread_ts)
        else:
            post_or_log(services, change.case.channel, text, thread_ts=change.case.thread_ts)


def _may_change_case(services: Services, reach: Reach, case: Any, origin: modals.Origin, close: bool) -> bool:
    """The opener and approvers may close or reopen; anyone else is refused (ephemeral, audited)."""
    approver = approver_or_told(services, reach)
    if approver is None:
        return False
    if cases.may_change(case, reach.user, is_approver=approver):
        return True
    with services.session() as session:
        cases.refuse_change(session, case_id=case.id, actor=reach.user, close=close, channel=origin.channel,
                            message_ts=origin.message_ts)
    settings = services.settings
    reach.tell(messages.case_change_refused(case.id, case.opened_by, settings.approvers, settings.approver_group))
    return False


@told_on_failure("closing the case", _reach)
def close_case(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    _case_change(body, action, context, close=True)


@told_on_failure("reopening the case", _reach)
def reopen_case(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    _case_change(body, action, context, close=False)


@told_on_failure("the removal", _reach)
def remove_approval(body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
    """Approvers only; the list it was clicked in (/bounce approved, or App Home) is refreshed."""
    services, reach, origin = _clicked(body, action, context)
    if origin is None:
        reach.tell(messages.approval_unknown())
        return
    if not _authorized(services, reach, origin, None):
        return
    try:
        with services.session() as session:
            outcome = approvals.remove(session, approval_id=int(origin.value), actor=reach.user,
                                       channel=origin.channel, message_ts=origin.message_ts,
                                       settings=services.settings)
            answer = answers.approved_answer(session, can_remove=True)
    except (ValueError, approvals.UnknownApproval):
        reach.tell(messages.approval_unknown())
        return
    if outcome.removed:
        note = messages.approval_removed(outcome.approval.pattern, reach.user)
    else:
        note = messages.approval_already_removed(outcome.approval.pattern, outcome.removed_by)
    if (body.get("container") or {}).get("type") == "view":
        refresh_home(services, reach.user)
    else:
        reach.replace(answer.text, answer.blocks)
    reach.tell(note)
    if outcome.export_error:
        reach.tell(messages.export_failed(outcome.export_error))
