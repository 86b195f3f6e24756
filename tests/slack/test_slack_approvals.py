"""Add to approved senders: approvers only, one approval per click race, the message shows who and until when."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from bot import approvals, audit
from bot.render import ids
from bot.timeutil import utcnow
from tests.slack.conftest import APPROVER, APPROVER_GROUP, GROUP_APPROVER
from tests.slack.fakes import block_action, view_submission
from tests.slack.limits import assert_calls_within_limits
from tests.slack.seed import BLOCKED, seed

MESSAGE_TS = "1700000000.000042"
TARGET = json.dumps({"kind": "address", "value": BLOCKED})


@pytest.fixture
def seeded(server, slack_store):
    seed(slack_store)
    return server


def click(server, user: str, action_id: str = ids.ACTION_APPROVE_SENDER, value: str = TARGET, **kw):
    reply = server.send(block_action(action_id, value, user=user, message_ts=MESSAGE_TS, **kw))
    assert reply.status == 200
    return reply


def submit(server, user: str, *, scope: str = "address", reason: str = "known partner", expiry: str = "none",
           metadata: str | None = None, view_id: str = "VAPPROVE"):
    values = {
        ids.BLOCK_APPROVE_SCOPE: {ids.ACTION_APPROVE_SCOPE: {"type": "radio_buttons",
                                                             "selected_option": {"value": scope}}},
        ids.BLOCK_APPROVE_REASON: {ids.ACTION_APPROVE_REASON: {"type": "plain_text_input", "value": reason}},
        ids.BLOCK_APPROVE_EXPIRY: {ids.ACTION_APPROVE_EXPIRY: {"type": "static_select",
                                                               "selected_option": {"value": expiry}}},
    }
    meta = metadata or json.dumps({"kind": "address", "value": BLOCKED, "channel": "CSUPPORT",
                                   "message_ts": MESSAGE_TS, "thread_ts": None})
    return server.send(view_submission(ids.VIEW_APPROVE_SENDER, values, user=user, private_metadata=meta,
                                       view_id=view_id))


def audit_outcomes(store, action=audit.APPROVE) -> list[str]:
    with store.session() as session:
        return sorted(e.outcome for e in audit.list_entries(session, action=action))


def active(store):
    with store.session() as session:
        return approvals.list_active(session)


TRIGGER = "12345.67890.abcdef"


def test_approver_opens_the_modal(seeded, fake) -> None:
    click(seeded, APPROVER, trigger_id=TRIGGER)
    (opened,) = fake.wait_for("views.open")
    view = opened.json("view")
    assert opened.params["trigger_id"] == TRIGGER
    assert view["callback_id"] == ids.VIEW_APPROVE_SENDER
    assert json.loads(view["private_metadata"])["message_ts"] == MESSAGE_TS
    scopes = [o["value"] for b in view["blocks"] if b.get("block_id") == ids.BLOCK_APPROVE_SCOPE
              for o in b["element"]["options"]]
    assert scopes == ["address", "domain"]
    assert assert_calls_within_limits(fake.calls) == 1


def test_approval_updates_the_message_and_is_audited(seeded, fake, slack_store) -> None:
    reply = submit(seeded, APPROVER, expiry="7d")
    assert reply.status == 200 and not reply.body.strip(b"{} ")  # closes the modal
    (update,) = fake.wait_for("chat.update")
    assert update.params["channel"] == "CSUPPORT" and update.params["ts"] == MESSAGE_TS
    blocks = json.dumps(update.json("blocks"))
    assert f"<@{APPROVER}> approved the address `{BLOCKED}`" in blocks
    until = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%d")
    assert until in blocks
    assert ids.ACTION_APPROVE_SENDER not in blocks  # the button is gone
    (note,) = fake.wait_for("chat.postEphemeral")
    assert note.params["user"] == APPROVER and "now an approved sender" in note.params["text"]
    (approval,) = active(slack_store)
    assert approval.pattern == BLOCKED and approval.approved_by == APPROVER and approval.reason == "known partner"
    assert approval.expires_at is not None and timedelta(days=6.9) < approval.expires_at - utcnow() < timedelta(days=7)
    assert audit_outcomes(slack_store) == ["done"]
    assert_calls_within_limits(fake.calls)


def test_whole_domain_can_be_approved(seeded, fake, slack_store) -> None:
    submit(seeded, APPROVER, scope="domain")
    fake.wait_for("chat.update")
    (approval,) = active(slack_store)
    assert (approval.kind, approval.pattern) == ("domain", "partner.example")


def test_group_member_may_approve_and_the_lookup_is_cached(seeded, fake, slack_store) -> None:
    click(seeded, GROUP_APPROVER)
    fake.wait_for("views.open")
    submit(seeded, GROUP_APPROVER)
    fake.wait_for("chat.update")
    lookups = fake.calls_to("usergroups.users.list")
    assert len(lookups) == 1 and lookups[0].params["usergroup"] == APPROVER_GROUP
    assert active(slack_store)[0].approved_by == GROUP_APPROVER


def test_non_approver_is_refused_and_audited(seeded, fake, slack_store) -> None:
    click(seeded, "UMALLORY")
    (note,) = fake.wait_for("chat.postEphemeral")
    assert note.params["user"] == "UMALLORY"
    assert f"<@{APPROVER}>" in note.params["text"] and f"<!subteam^{APPROVER_GROUP}>" in note.params["text"]
    fake.settle()
    assert fake.calls_to("views.open") == []
    assert audit_outcomes(slack_store) == ["refused"]
    with slack_store.session() as session:
        (entry,) = audit.list_entries(session, action=audit.APPROVE)
    assert (entry.actor, entry.target, entry.channel, entry.message_ts) == ("UMALLORY", BLOCKED, "CSUPPORT",
                                                                            MESSAGE_TS)


def test_forged_submission_by_non_approver_is_refused(seeded, fake, slack_store) -> None:
    submit(seeded, "UMALLORY")
    fake.wait_for("chat.postEphemeral")
    assert active(slack_store) == []
    assert audit_outcomes(slack_store) == ["refused"]


def test_double_submit_yields_one_approval(seeded, fake, slack_store) -> None:
    submit(seeded, APPROVER, view_id="V1")
    fake.wait_for("chat.update")
    submit(seeded, APPROVER, view_id="V2")
    notes = fake.wait_for("chat.postEphemeral", 2)
    texts = sorted(n.params["text"] for n in notes)
    assert "already approved by" in texts[0] and "now an approved sender" in texts[1]
    assert len(active(slack_store)) == 1
    assert audit_outcomes(slack_store) == ["done", "duplicate"]
    fake.settle()
    assert len(fake.calls_to("chat.update")) == 1


def test_second_click_after_approval_is_told_not_reopened(seeded, fake) -> None:
    submit(seeded, APPROVER)
    fake.wait_for("chat.postEphemeral")  # the approver's confirmation comes last
    fake.clear()
    click(seeded, GROUP_APPROVER)
    (note,) = fake.wait_for("chat.postEphemeral")
    assert f"already approved by <@{APPROVER}>" in note.params["text"]
    assert fake.calls_to("views.open") == []


def test_two_concurrent_approvers_one_approval(seeded, fake, slack_store) -> None:
    barrier = threading.Barrier(2)
    replies = {}

    def go(user: str) -> None:
        barrier.wait()
        replies[user] = submit(seeded, user, view_id=f"V-{user}")

    threads = [threading.Thread(target=go, args=(u,)) for u in (APPROVER, GROUP_APPROVER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status for r in replies.values()} == {200}
    notes = fake.wait_for("chat.postEphemeral", 2)
    (approval,) = active(slack_store)
    winner = approval.approved_by
    loser = GROUP_APPROVER if winner == APPROVER else APPROVER
    (loser_note,) = [n for n in notes if n.params["user"] == loser]
    assert f"already approved by <@{winner}>" in loser_note.params["text"]
    assert audit_outcomes(slack_store) == ["done", "duplicate"]
    fake.settle()
    assert len(fake.calls_to("chat.update")) == 1


def test_expired_approval_no_longer_counts(seeded, fake, slack_store) -> None:
    past = utcnow() - timedelta(days=3)
    with slack_store.session() as session:
        approvals.approve(session, pattern=BLOCKED, reason="old", actor=APPROVER, now=past,
                          expires_at=past + timedelta(days=1))
    assert active(slack_store) == []
    click(seeded, APPROVER)
    fake.wait_for("views.open")  # not "already approved": the old one expired
    submit(seeded, APPROVER, expiry="1d")
    fake.wait_for("chat.update")
    (approval,) = active(slack_store)
    assert approval.reason == "known partner"
    assert sorted(e.action for e in _entries(slack_store)).count(audit.EXPIRE) == 1


def _entries(store):
    with store.session() as session:
        return audit.list_entries(session)


@pytest.mark.parametrize("reason,expiry,block", [
    ("   ", "none", ids.BLOCK_APPROVE_REASON),
    ("ok", "soon", ids.BLOCK_APPROVE_EXPIRY),
])
def test_bad_modal_input_is_shown_in_the_modal(seeded, fake, slack_store, reason, expiry, block) -> None:
    reply = submit(seeded, APPROVER, reason=reason, expiry=expiry)
    assert reply.status == 200
    answer = reply.json()
    assert answer["response_action"] == "errors" and block in answer["errors"]
    fake.settle()
    assert active(slack_store) == []


def test_ip_cannot_be_approved(seeded, fake) -> None:
    click(seeded, APPROVER, value=json.dumps({"kind": "ip", "value": "192.0.2.10"}))
    (note,) = fake.wait_for("chat.postEphemeral")
    assert "Only a sender address or domain" in note.params["text"]


def test_approver_removes_from_the_list_non_approver_cannot(seeded, fake, slack_store) -> None:
    with slack_store.session() as session:
        outcome = approvals.approve(session, pattern="trusted@partner.example", reason="vendor", actor=APPROVER)
    value = json.dumps({"kind": "approval", "value": str(outcome.approval.id)})
    click(seeded, "UMALLORY", ids.ACTION_REMOVE_APPROVAL, value, response_url=fake.response_url("list"))
    fake.wait_for("chat.postEphemeral")
    assert len(active(slack_store)) == 1
    with slack_store.session() as session:
        (refused,) = audit.list_entries(session, action=audit.REMOVE)
    assert (refused.actor, refused.outcome, refused.target) == ("UMALLORY", "refused", "trusted@partner.example")
    fake.clear()
    click(seeded, APPROVER, ids.ACTION_REMOVE_APPROVAL, value, response_url=fake.response_url("list"))
    (refreshed,) = fake.wait_for("response_url")
    assert refreshed.params["replace_original"] is True and "No approved senders" in json.dumps(refreshed.params)
    (note,) = fake.wait_for("chat.postEphemeral")
    assert "removed `trusted@partner.example`" in note.params["text"]
    assert active(slack_store) == []
    with slack_store.session() as session:
        removals = audit.list_entries(session, action=audit.REMOVE)
    assert [e.outcome for e in removals] == ["done", "refused"]


def test_remove_from_app_home_republishes_it(seeded, fake, slack_store) -> None:
    with slack_store.session() as session:
        outcome = approvals.approve(session, pattern="partner.example", kind="domain", reason="vendor",
                                    actor=APPROVER)
    value = json.dumps({"kind": "approval", "value": str(outcome.approval.id)})
    reply = seeded.send(block_action(ids.ACTION_REMOVE_APPROVAL, value, user=GROUP_APPROVER,
                                     view={"id": "VHOME", "type": "home"}))
    assert reply.status == 200
    (published,) = fake.wait_for("views.publish")
    assert published.params["user_id"] == GROUP_APPROVER
    assert "partner.example" not in json.dumps(published.json("view"))
    (dm,) = fake.wait_for("chat.postMessage")  # no channel in App Home: the note comes as a DM from the app
    assert dm.params["channel"] == GROUP_APPROVER and "removed `partner.example`" in dm.params["text"]
    assert active(slack_store) == []


def test_app_home_of_a_non_approver_has_no_remove_buttons(seeded, fake, slack_store) -> None:
    from tests.slack.fakes import event_callback

    with slack_store.session() as session:
        approvals.approve(session, pattern="partner.example", kind="domain", reason="vendor", actor=APPROVER)
    seeded.send(event_callback({"type": "app_home_opened", "user": "UMALLORY", "tab": "home", "event_ts": "1.1"}))
    (published,) = fake.wait_for("views.publish")
    text = json.dumps(published.json("view"))
    assert "partner.example" in text and ids.ACTION_REMOVE_APPROVAL not in text


def test_expired_trigger_is_told(seeded, fake) -> None:
    fake.handlers["views.open"] = lambda params: {"ok": False, "error": "expired_trigger_id"}
    click(seeded, APPROVER)
    (note,) = fake.wait_for("chat.postEphemeral")
    assert "click the button again" in note.params["text"]


def test_unreadable_approver_group_is_told_not_taken_as_refusal(seeded, fake, slack_store) -> None:
    fake.fail_next("usergroups.users.list", status=500, times=5)
    click(seeded, GROUP_APPROVER)
    (note,) = fake.wait_for("chat.postEphemeral", timeout=30)
    assert "could not check the approver group" in note.params["text"]
    assert audit_outcomes(slack_store) == []  # not recorded as a refusal: we do not know
    assert fake.calls_to("views.open") == []


def test_approval_in_slack_rewrites_the_gateway_map(settings, slack_store, fake, tmp_path) -> None:
    import dataclasses

    from tests.slack.fakes import serve_app

    access = tmp_path / "sender_access"
    with_export = dataclasses.replace(settings, approved_export_path=str(access), approved_export_format="postfix")
    seed(slack_store)
    with serve_app(with_export, store=slack_store) as served:
        submit(served, APPROVER, scope="domain")
        fake.wait_for("chat.update")
    assert "partner.example" in access.read_text() and "OK" in access.read_text()
