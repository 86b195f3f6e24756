"""Modal submissions: approve a sender, open a support case.

The acknowledgement validates the inputs: errors go back into the modal (`response_action: errors`) and
nothing else happens. Only a valid submission is handed off to the background threads (not a bolt lazy
listener: bolt starts those whatever the acknowledgement said). There one bot/ service makes the change,
its conditional write deciding a double submit or two approvers at once; the side effects (export, audit,
forwarding) never wait for a Slack post, and the user is answered through the modal's origin (`Reach`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App

from bot import approvals, case_forwarding, cases, messages
from bot.ports import ChatError
from bot.render import ids, lists, modals
from bot.targets import Target
from bot.timeutil import parse_duration, utcnow
from handlers.context import Services, services_of
from handlers.replies import Reach, approver_or_told, post_or_log, told_on_failure, user_of

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.view(ids.VIEW_APPROVE_SENDER)(submit_approval)
    app.view(ids.VIEW_OPEN_CASE)(submit_case)


def _expiry(values: dict[str, Any]) -> timedelta | None:
    raw = modals.submitted(values, ids.BLOCK_APPROVE_EXPIRY, ids.ACTION_APPROVE_EXPIRY)
    return None if raw in (None, "", "none") else parse_duration(raw)


def approval_errors(view: dict[str, Any]) -> dict[str, str]:
    """The approve modal's input errors, by block id ({} when it may be submitted)."""
    values = view["state"]["values"]
    errors = {}
    if not (modals.submitted(values, ids.BLOCK_APPROVE_REASON, ids.ACTION_APPROVE_REASON) or "").strip():
        errors[ids.BLOCK_APPROVE_REASON] = messages.reason_required()
    try:
        _expiry(values)
    except ValueError as exc:
        errors[ids.BLOCK_APPROVE_EXPIRY] = messages.bad_expiry(str(exc))
    return errors


def case_errors(view: dict[str, Any]) -> dict[str, str]:
    if not (modals.submitted(view["state"]["values"], ids.BLOCK_CASE_TITLE, ids.ACTION_CASE_TITLE) or "").strip():
        return {ids.BLOCK_CASE_TITLE: messages.title_required()}
    return {}


def _accept(ack: Ack, body: dict[str, Any], context: Any, errors: dict[str, str],
            finish: Callable[[dict[str, Any], Services], None]) -> None:
    """Ack with the form's errors (no work starts), or ack and hand the submission to `finish`."""
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    services = services_of(context)
    services.hand_off(finish, body, services)


def submit_approval(ack: Ack, body: dict[str, Any], context: Any) -> None:
    _accept(ack, body, context, approval_errors(body["view"]), finish_approval)


def submit_case(ack: Ack, body: dict[str, Any], context: Any) -> None:
    _accept(ack, body, context, case_errors(body["view"]), finish_case)


def _origin(body: dict[str, Any], services: Services) -> tuple[modals.Origin, Reach] | None:
    """The modal's origin; a submission without one (forged, or from a modal we never built) is logged."""
    try:
        origin = modals.Origin.load(body["view"].get("private_metadata", ""))
    except (ValueError, TypeError):
        log.warning("a modal submission without a target in its private_metadata was ignored")
        return None
    return origin, Reach.of_origin(services, user_of(body), origin)


def _reach(body: dict[str, Any], services: Services) -> Reach:
    found = _origin(body, services)
    return found[1] if found else Reach(services.chat, user_of(body))


@told_on_failure("the approval", _reach)
def finish_approval(body: dict[str, Any], services: Services) -> None:
    found = _origin(body, services)
    if found is None:
        return
    origin, reach = found
    user, values = reach.user, body["view"]["state"]["values"]
    kind = modals.submitted(values, ids.BLOCK_APPROVE_SCOPE, ids.ACTION_APPROVE_SCOPE) or origin.kind
    reason = (modals.submitted(values, ids.BLOCK_APPROVE_REASON, ids.ACTION_APPROVE_REASON) or "").strip()
    expiry = _expiry(values)
    # The modal only opens for approvers; a forged submission ends here.
    allowed = approver_or_told(services, reach)
    if allowed is None:
        return
    if not allowed:
        with services.session() as session:
            approvals.refuse(session, actor=user, pattern=origin.value, kind=kind, reason=reason,
                             channel=origin.channel, message_ts=origin.message_ts)
        reach.tell(messages.not_an_approver(services.settings.approvers, services.settings.approver_group))
        return
    key = f"slack:{origin.channel}:{origin.message_ts}:{kind}:{origin.value}"[:255]
    try:
        with services.session() as session:
            outcome = approvals.approve(
                session, pattern=origin.value, kind=kind, reason=reason, actor=user,
                expires_at=utcnow() + expiry if expiry else None, request_key=key, channel=origin.channel,
                message_ts=origin.message_ts, settings=services.settings)
    except approvals.ApprovalError as exc:
        reach.tell(messages.approval_failed(str(exc)))
        return
    a = outcome.approval
    if not outcome.created:
        reach.tell(messages.already_approved(a.pattern, outcome.winner_actor, a.expires_at))
        return
    # Stored, audited and exported by now: what follows only shows it.
    _show_approval(services, origin, reach, messages.approved_notice(a.pattern, a.kind, user, a.expires_at, a.reason))
    reach.tell(messages.approved_confirmation(a.pattern, a.expires_at))
    if outcome.export_error:
        reach.tell(messages.export_failed(outcome.export_error))


def _show_approval(services: Services, origin: modals.Origin, reach: Reach, notice: str) -> None:
    """The original diagnosis, re-run (it now shows the approval), with who approved what and until when."""
    if not origin.message_ts and not origin.response_url:
        return
    answer = services.diagnosis(Target(origin.kind, origin.value))
    reach.replace(notice, lists.with_notice(answer.blocks, notice))


@told_on_failure("the support case", _reach)
def finish_case(body: dict[str, Any], services: Services) -> None:
    """Store the case with a snapshot of a fresh diagnosis, forward it, then show it in Slack."""
    found = _origin(body, services)
    if found is None:
        return
    origin, reach = found
    values = body["view"]["state"]["values"]
    title = modals.submitted(values, ids.BLOCK_CASE_TITLE, ids.ACTION_CASE_TITLE) or ""
    description = modals.submitted(values, ids.BLOCK_CASE_DESCRIPTION, ids.ACTION_CASE_DESCRIPTION)
    thread_ts = origin.thread_ts or origin.message_ts
    answer = services.diagnosis(Target(origin.kind, origin.value))
    snapshot = answer.diagnosis.to_json() if answer.diagnosis else None
    with services.session() as session:
        case, created = cases.open_case(session, target=origin.value, title=title, description=description,
                                        snapshot=snapshot, opened_by=reach.user,
                                        request_key=f"slack:{body['view'].get('id')}",
                                        channel=origin.channel, thread_ts=thread_ts)
    if not created:
        reach.tell(messages.case_already(case.id, case.status, case.opened_by))
        return
    # Forwarding never waits for (nor depends on) a Slack post.
    with services.session() as session:
        results = case_forwarding.forward_case(session, case=case, settings=services.settings, actor=reach.user)
    _post_case(services, case, reach)
    for result in results:
        if not result.ok:
            reach.tell(messages.case_forward_failed(result.target, result.detail))


def _post_case(services: Services, case: Any, reach: Reach) -> None:
    """The case in the cases channel (remembered for its buttons) and beside the message it was opened from."""
    blocks, text = lists.case_message(case), lists.case_text(case)
    cases_channel = services.settings.cases_channel
    posted = None
    if cases_channel:
        posted = post_or_log(services, cases_channel, text, blocks=blocks)
        if posted:
            with services.session() as session:
                cases.set_case_message(session, case_id=case.id, message_ts=posted)
        else:
            reach.tell(messages.case_not_posted(case.id, cases_channel))
    if case.channel and case.channel == cases_channel and posted:
        reach.post(messages.case_opened(case.id, None), thread_ts=case.thread_ts)
    else:
        reach.post(text, blocks, thread_ts=case.thread_ts)


def update_case_messages(services: Services, case: Any, reach: Reach) -> None:
    """Show a case's new status (and the Close/Reopen button that fits) where its buttons are: the clicked
    message and the case's message in the cases channel."""
    blocks, text = lists.case_message(case), lists.case_text(case)
    cases_channel = services.settings.cases_channel
    in_cases = (cases_channel, case.case_message_ts) if cases_channel and case.case_message_ts else None
    if in_cases and in_cases != (reach.channel, reach.message_ts):
        try:
            services.chat.update_message(*in_cases, text=text, blocks=blocks)
        except ChatError as exc:  # the clicked message still changes
            log.warning("Slack refused chat.update of case #%s in %s (%s)", case.id, cases_channel, exc)
    if reach.message_ts or reach.response_url:
        reach.replace(text, blocks)
