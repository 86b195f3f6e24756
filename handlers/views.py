"""Modal submissions: approve a sender, open a support case.

The acknowledgement validates the inputs (errors go back into the modal); the change itself is a lazy
listener calling one bot/ service, whose conditional write decides a double submit or two approvers at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App

from bot import approvals, case_forwarding, cases, messages
from bot.render import ids, lists, modals
from bot.targets import Target
from bot.timeutil import parse_duration, utcnow
from handlers.context import Services, services_of
from handlers.replies import approver_or_told, tell, user_of

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.view(ids.VIEW_APPROVE_SENDER)(ack=ack_approve, lazy=[finish_approval])
    app.view(ids.VIEW_OPEN_CASE)(ack=ack_case, lazy=[finish_case])


def _expiry(values: dict[str, Any]) -> timedelta | None:
    raw = modals.submitted(values, ids.BLOCK_APPROVE_EXPIRY, ids.ACTION_APPROVE_EXPIRY)
    return None if raw in (None, "", "none") else parse_duration(raw)


def ack_approve(ack: Ack, view: dict[str, Any]) -> None:
    values = view["state"]["values"]
    errors = {}
    if not (modals.submitted(values, ids.BLOCK_APPROVE_REASON, ids.ACTION_APPROVE_REASON) or "").strip():
        errors[ids.BLOCK_APPROVE_REASON] = messages.reason_required()
    try:
        _expiry(values)
    except ValueError as exc:
        errors[ids.BLOCK_APPROVE_EXPIRY] = messages.bad_expiry(str(exc))
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def finish_approval(body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
    services, user = services_of(context), user_of(body)
    origin = modals.Origin.load(view.get("private_metadata", ""))
    values = view["state"]["values"]
    kind = modals.submitted(values, ids.BLOCK_APPROVE_SCOPE, ids.ACTION_APPROVE_SCOPE) or origin.kind
    reason = (modals.submitted(values, ids.BLOCK_APPROVE_REASON, ids.ACTION_APPROVE_REASON) or "").strip()
    expiry = _expiry(values)
    where = {"channel": origin.channel, "thread_ts": origin.thread_ts}
    # The modal only opens for approvers; a forged submission ends here.
    allowed = approver_or_told(services, user, **where)
    if allowed is None:
        return None
    if not allowed:
        with services.session() as session:
            approvals.refuse(session, actor=user, pattern=origin.value, kind=kind, reason=reason,
                             channel=origin.channel, message_ts=origin.message_ts)
        return tell(services, user, messages.not_an_approver(services.settings.approvers,
                                                             services.settings.approver_group), **where)
    key = f"slack:{origin.channel}:{origin.message_ts}:{kind}:{origin.value}"[:255]
    try:
        with services.session() as session:
            outcome = approvals.approve(
                session, pattern=origin.value, kind=kind, reason=reason, actor=user,
                expires_at=utcnow() + expiry if expiry else None, request_key=key, channel=origin.channel,
                message_ts=origin.message_ts, settings=services.settings)
    except approvals.ApprovalError as exc:
        return tell(services, user, f":warning: {exc}", **where)
    a = outcome.approval
    if not outcome.created:
        return tell(services, user, messages.already_approved(a.pattern, outcome.winner_actor, a.expires_at), **where)
    _show_approval(services, origin, messages.approved_notice(a.pattern, a.kind, user, a.expires_at, a.reason))
    tell(services, user, messages.approved_confirmation(a.pattern, a.expires_at), **where)
    if outcome.export_error:
        tell(services, user, messages.export_failed(outcome.export_error), **where)
    return None


def _show_approval(services: Services, origin: modals.Origin, notice: str) -> None:
    """The original diagnosis, re-run (it now shows the approval), with who approved what and until when."""
    if not origin.channel or not origin.message_ts:
        return
    answer = services.diagnosis(Target(origin.kind, origin.value))
    services.chat.update_message(origin.channel, origin.message_ts, text=notice,
                                 blocks=lists.with_notice(answer.blocks, notice))


def ack_case(ack: Ack, view: dict[str, Any]) -> None:
    if not (modals.submitted(view["state"]["values"], ids.BLOCK_CASE_TITLE, ids.ACTION_CASE_TITLE) or "").strip():
        ack(response_action="errors", errors={ids.BLOCK_CASE_TITLE: messages.title_required()})
    else:
        ack()


def finish_case(body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
    """Store the case with a snapshot of a fresh diagnosis, post it, forward it."""
    services, user = services_of(context), user_of(body)
    origin = modals.Origin.load(view.get("private_metadata", ""))
    values = view["state"]["values"]
    title = modals.submitted(values, ids.BLOCK_CASE_TITLE, ids.ACTION_CASE_TITLE) or ""
    description = modals.submitted(values, ids.BLOCK_CASE_DESCRIPTION, ids.ACTION_CASE_DESCRIPTION)
    thread_ts = origin.thread_ts or origin.message_ts
    answer = services.diagnosis(Target(origin.kind, origin.value))
    snapshot = answer.diagnosis.to_json() if answer.diagnosis else None
    with services.session() as session:
        case, created = cases.open_case(session, target=origin.value, title=title, description=description,
                                        snapshot=snapshot, opened_by=user, request_key=f"slack:{view.get('id')}",
                                        channel=origin.channel, thread_ts=thread_ts)
    if not created:
        return tell(services, user, messages.case_already(case.id, case.status, case.opened_by),
                    channel=origin.channel, thread_ts=origin.thread_ts)
    _post_case(services, case)
    with services.session() as session:
        results = case_forwarding.forward_case(session, case=case, settings=services.settings, actor=user)
    for result in results:
        if not result.ok:
            tell(services, user, messages.case_forward_failed(result.target, result.detail),
                 channel=origin.channel, thread_ts=origin.thread_ts)
    return None


def _post_case(services: Services, case: Any) -> None:
    """The case in the cases channel (remembered for its buttons) and in the original thread."""
    blocks, text = lists.case_message(case), lists.case_text(case)
    cases_channel = services.settings.cases_channel
    if cases_channel:
        ts = services.chat.post_message(cases_channel, text=text, blocks=blocks)
        with services.session() as session:
            cases.set_case_message(session, case_id=case.id, message_ts=ts)
    if case.channel and case.thread_ts and case.channel != cases_channel:
        services.chat.post_message(case.channel, text=text, blocks=blocks, thread_ts=case.thread_ts)
    elif case.channel and case.thread_ts:
        services.chat.post_message(case.channel, text=messages.case_opened(case.id, None), thread_ts=case.thread_ts)


def update_case_messages(services: Services, case: Any, *, clicked: tuple[str, str] | None = None) -> None:
    """Show a case's new status (and the Close/Reopen button that fits) where its buttons are."""
    blocks, text = lists.case_message(case), lists.case_text(case)
    places = set()
    if services.settings.cases_channel and case.case_message_ts:
        places.add((services.settings.cases_channel, case.case_message_ts))
    if clicked and all(clicked):
        places.add(clicked)
    for channel, ts in sorted(places):
        services.chat.update_message(channel, ts, text=text, blocks=blocks)
