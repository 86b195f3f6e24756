"""Every user-facing text of the Slack app in one place (bolt-python keeps its messages the same way).

Functions take plain values and return Slack mrkdwn; callers never build sentences themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.render.mrkdwn import actor, date
from bot.render.mrkdwn import escape as _esc
from bot.targets import USAGE as TARGET_USAGE

#: How the null sender (<>: bounce messages, auto-replies) is named to people.
NULL_SENDER = "the null sender (bounce messages)"


def _when(moment: datetime | None) -> str:
    return date(moment, none="no expiry")


# --- /bounce ---------------------------------------------------------------------------------------------
def usage(command: str = "/bounce") -> str:
    return "\n".join([
        f"*{command} TARGET [since]* — why did mail from TARGET bounce? e.g. `{command} alice@partner.example 7d`",
        f"*{command} approved* — the approved senders (approvers can remove them)",
        f"*{command} cases* — the open support cases",
        f"*{command} digest [YYYY-MM-DD]* — post the blocked-traffic digest of a day (default: yesterday)",
        f"*{command} dns DOMAIN [IP]* — MX, SPF (for IP or our outbound IPs), DMARC, DKIM, PTR and block lists",
        f"*{command} report [YYYY-MM-DD|today]* — the traffic report of a day, counted as pflogsumm counts",
        f"*{command} help* — this text",
        f"TARGET: {TARGET_USAGE}. `since`: how far back, e.g. 7d, 12h or 2026-11-01 (default: 30 days).",
    ])


def bad_input(error: str, command: str = "/bounce") -> str:
    return f":warning: {_esc(error)}\n{usage(command)}"


def looking_into(target: str) -> str:
    return f":mag: Looking into `{_esc(target)}`…"


def working_on(what: str) -> str:
    return f":hourglass_flowing_sand: Getting {what}…"


def diagnosis_failed(target: str) -> str:
    return f":x: I could not finish the diagnosis of `{_esc(target)}`; the error is in bouncebot's log."


def lookup_failed(what: str) -> str:
    return f":x: I could not get {what}; the error is in bouncebot's log."


def action_failed(what: str) -> str:
    return f":x: I could not finish {what}; the error is in bouncebot's log."


def store_unreachable() -> str:
    return (":warning: The tracking store is unreachable right now, so I cannot look this up; "
            "please try again in a few minutes.")


def digest_posted(day: str, channel: str) -> str:
    return f":white_check_mark: The digest of {day} is posted in <#{channel}>."


def digest_posted_without_chart(day: str) -> str:
    return (f":white_check_mark: The digest of {day} is posted here, without its chart: invite me to the channel "
            "(`/invite @bouncebot`) for the chart and the daily digest.")


def report_posted(day: str, channel: str) -> str:
    return f":white_check_mark: The traffic report of {day} is posted in <#{channel}>."


# --- mentions and DMs ------------------------------------------------------------------------------------
def mention_help() -> str:
    return ("Ask me about a sender address, domain, IP or message-id, e.g. "
            "_why did mail from alice@partner.example bounce?_ — or paste a bounce message or attach it as a file.")


def no_bounce_found() -> str:
    return ":thinking_face: I found no failed recipient in that bounce message."


def file_unreadable(name: str, why: str) -> str:
    return f":warning: I could not read `{_esc(name)}`: {_esc(why)}"


# --- approvals -------------------------------------------------------------------------------------------
def approvers_text(user_ids: Sequence[str], group: str | None) -> str:
    names = [actor(u) for u in user_ids]
    if group:
        names.append(f"<!subteam^{group}>")
    if not names:
        return "nobody (no approvers are configured: BOUNCEBOT_APPROVERS or BOUNCEBOT_APPROVER_GROUP)"
    return ", ".join(names)


def not_an_approver(user_ids: Sequence[str], group: str | None) -> str:
    return (":no_entry: Only approvers may add or remove approved senders: "
            f"{approvers_text(user_ids, group)}. Your attempt was recorded.")


def approver_check_failed() -> str:
    return ":warning: I could not check the approver group just now; please try again in a minute."


def already_approved(pattern: str, by: str, until: datetime | None) -> str:
    return f":information_source: `{_esc(pattern)}` is already approved by {actor(by)} ({_when(until)})."


def approved_notice(pattern: str, kind: str, by: str, until: datetime | None, reason: str | None) -> str:
    why = f" — {_esc(reason)}" if reason else ""
    return f":white_check_mark: {actor(by)} approved the {kind} `{_esc(pattern)}` ({_when(until)}){why}"


def approved_confirmation(pattern: str, until: datetime | None) -> str:
    return f":white_check_mark: `{_esc(pattern)}` is now an approved sender ({_when(until)})."


def export_failed(error: str) -> str:
    return f":warning: The approval is stored, but writing the gateway's list failed: {_esc(error)}"


def approval_failed(error: str) -> str:
    return f":warning: {_esc(error)}"


def approval_removed(pattern: str, by: str) -> str:
    return f":wastebasket: {actor(by)} removed `{_esc(pattern)}` from the approved senders."


def approval_already_removed(pattern: str, by: str | None) -> str:
    who = actor(by) if by and by != "system" else "expiry"
    return f":information_source: `{_esc(pattern)}` was already removed (by {who})."


def approval_unknown() -> str:
    return ":information_source: That approved sender no longer exists."


def no_approvals() -> str:
    return "No approved senders."


def approve_not_possible(kind: str, value: str = "") -> str:
    if value == "<>":
        return (f":information_source: {NULL_SENDER} cannot be approved: it is every bounce and auto-reply. "
                "Approve the sending host's domain instead, if it is trusted.")
    return f":information_source: Only a sender address or domain can be approved, not a {kind.replace('_', '-')}."


def bad_expiry(error: str) -> str:
    return _esc(error)


def reason_required() -> str:
    return "Say why this sender is trusted (it goes to the audit log)."


# --- cases -----------------------------------------------------------------------------------------------
def case_opened(case_id: int, channel: str | None) -> str:
    where = f" in <#{channel}>" if channel else ""
    return f":ticket: Support case #{case_id} is open{where}."


def case_closed(case_id: int, by: str) -> str:
    return f":lock: {actor(by)} closed support case #{case_id}."


def case_reopened(case_id: int, by: str) -> str:
    return f":unlock: {actor(by)} reopened support case #{case_id}."


def case_already(case_id: int, status: str, by: str | None) -> str:
    who = f" by {actor(by)}" if by else ""
    return f":information_source: Support case #{case_id} is already {status}{who}."


def case_change_refused(case_id: int, opened_by: str, user_ids: Sequence[str], group: str | None) -> str:
    return (f":no_entry: Only approvers ({approvers_text(user_ids, group)}) and {actor(opened_by)}, who opened it, "
            f"may close or reopen support case #{case_id}. Your attempt was recorded.")


def case_unknown() -> str:
    return ":information_source: That support case no longer exists."


def case_forward_failed(where: str, error: str) -> str:
    return f":warning: The case is stored, but forwarding it to {where} failed: {_esc(error)}"


def case_not_posted(case_id: int, channel: str) -> str:
    return (f":warning: Support case #{case_id} is stored (and forwarded where configured), but I could not post "
            f"it in <#{channel}>: invite me there (`/invite @bouncebot`).")


def no_cases() -> str:
    return "No open support cases."


def title_required() -> str:
    return "Give the case a title."


# --- buttons ---------------------------------------------------------------------------------------------
def bad_button() -> str:
    return ":warning: That button carries no target I understand; run `/bounce TARGET` again."


def modal_failed() -> str:
    return ":hourglass: Slack did not open the form in time; please click the button again."


def no_events(target: str) -> str:
    return f"No tracking events for `{_esc(target)}` in the window."


# --- App Home --------------------------------------------------------------------------------------------
def home_intro() -> str:
    return ("Ask `/bounce TARGET` in any channel, mention me with a sender, or paste a bounce message here. "
            "Below: the approved senders, the open support cases, and yesterday's blocked traffic.")
