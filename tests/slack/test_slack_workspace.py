"""Every click answered wherever it was made: a channel the bot was never invited to, and a DM between people.

There Slack refuses the bot's chat.postMessage, chat.postEphemeral and chat.update (the fake workspace does
too); only the interaction's response_url reaches the user. For each button and modal, what reached the user
and what side effects happened (stored, audited, exported, forwarded) are checked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import approvals, audit, cases
from bot.render import ids
from tests.slack.conftest import APPROVER, APPROVER_GROUP, CASES_CHANNEL, GROUP_APPROVER
from tests.slack.fakes import (
    AppServer,
    FakeSlackAPI,
    block_action,
    eventually,
    serve_app,
    slash_command,
    test_settings,
    view_submission,
)
from tests.slack.limits import assert_calls_within_limits
from tests.slack.receivers import Mailbox, Webhook
from tests.slack.seed import BLOCKED, seed

ALICE = "UALICE"           # a member of the support team, not an approver
MESSAGE_TS = "1700000000.000321"
TARGET = json.dumps({"kind": "address", "value": BLOCKED})
#: The two places: (channel id, how the fake workspace knows it).
PLACES = {
    "channel without the bot": "CNOBOT",
    "private channel without the bot": "GPRIVATE",
    "DM between two people": "DPEOPLE",
}
REFUSALS = {"CNOBOT": "not_in_channel", "GPRIVATE": "channel_not_found", "DPEOPLE": "channel_not_found"}


class World:
    def __init__(self, server: AppServer, fake: FakeSlackAPI, store: Any, hook: Webhook, box: Mailbox,
                 channel: str, export: Path) -> None:
        self.server, self.fake, self.store, self.hook, self.box = server, fake, store, hook, box
        self.channel, self.export = channel, export

    def click(self, action_id: str, user: str, *, value: str = TARGET, url: str = "click",
              ephemeral: bool = False) -> None:
        container = {"type": "message", "message_ts": MESSAGE_TS, "channel_id": self.channel,
                     "is_ephemeral": ephemeral}
        reply = self.server.send(block_action(action_id, value, user=user, channel=self.channel,
                                              message_ts=MESSAGE_TS, response_url=self.fake.response_url(url),
                                              container=container))
        assert reply.status == 200

    def refused_posts(self) -> list[Any]:
        return [c for m in ("chat.postMessage", "chat.postEphemeral", "chat.update") for c in self.fake.refused(m)]


@pytest.fixture(params=list(PLACES), ids=list(PLACES))
def world(request, db_url: str, fake: FakeSlackAPI, slack_store, tmp_path: Path) -> Iterator[World]:
    channel = PLACES[request.param]
    if channel.startswith(("C", "G")):
        fake.add_channel(channel, bot=False, private=channel.startswith("G"), members=(ALICE, APPROVER))
    else:
        fake.add_dm(channel, ALICE, APPROVER)
    fake.add_channel(CASES_CHANNEL, bot=True)
    hook, box = Webhook(), Mailbox()
    export = tmp_path / "approved_senders"
    settings = test_settings(db_url, fake, approvers=(APPROVER,), approver_group=APPROVER_GROUP,
                             cases_channel=CASES_CHANNEL,
                             case_webhook_url=hook.url, case_email_to="tickets@support.example",
                             smtp_host="127.0.0.1", smtp_port=box.port, smtp_from="bouncebot@ourcorp.example",
                             approved_export_path=str(export))
    seed(slack_store)
    with serve_app(settings, store=slack_store) as served:
        fake.wait_for("auth.test")
        fake.clear()
        yield World(served, fake, slack_store, hook, box, channel, export)
    hook.stop()
    box.stop()


def _approve_values(reason: str = "known partner") -> dict[str, Any]:
    return {
        ids.BLOCK_APPROVE_SCOPE: {ids.ACTION_APPROVE_SCOPE: {"type": "radio_buttons",
                                                             "selected_option": {"value": "address"}}},
        ids.BLOCK_APPROVE_REASON: {ids.ACTION_APPROVE_REASON: {"type": "plain_text_input", "value": reason}},
        ids.BLOCK_APPROVE_EXPIRY: {ids.ACTION_APPROVE_EXPIRY: {"type": "static_select",
                                                               "selected_option": {"value": "none"}}},
    }


def _case_values(view: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b.get("block_id")}
    return {ids.BLOCK_CASE_TITLE: {ids.ACTION_CASE_TITLE: {
                "type": "plain_text_input", "value": initial[ids.BLOCK_CASE_TITLE] if title is None else title}},
            ids.BLOCK_CASE_DESCRIPTION: {ids.ACTION_CASE_DESCRIPTION: {
                "type": "plain_text_input", "value": initial[ids.BLOCK_CASE_DESCRIPTION]}}}


def _audit(w: World, action: str) -> list[str]:
    with w.store.session() as session:
        return [e.outcome for e in audit.list_entries(session, action=action)]


def _warnings(caplog: pytest.LogCaptureFixture, error: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and error in r.getMessage()]


def test_the_diagnosis_itself_arrives_through_the_response_url(world: World) -> None:
    world.server.send(slash_command(BLOCKED, user=ALICE, channel=world.channel,
                                    response_url=world.fake.response_url("slash")))
    (answer,) = eventually(lambda: world.fake.responses("slash"), timeout=20)
    assert answer.params["response_type"] == "in_channel" and BLOCKED in json.dumps(answer.params["blocks"])
    assert [c.error for c in world.fake.calls_to("chat.postMessage")] == [REFUSALS[world.channel]]


def test_non_approver_approve_is_refused_told_and_audited(world: World, caplog) -> None:
    caplog.set_level(logging.WARNING)
    world.click(ids.ACTION_APPROVE_SENDER, ALICE)
    (told,) = eventually(lambda: world.fake.responses("click"), timeout=15)
    assert told.params["response_type"] == "ephemeral" and told.params["replace_original"] is False
    assert "Only approvers" in told.params["text"] and f"<@{APPROVER}>" in told.params["text"]
    assert _audit(world, audit.APPROVE) == ["refused"]
    world.fake.settle(quiet=0.4)
    assert not world.fake.calls_to("views.open")
    (refused,) = world.refused_posts()  # the ephemeral tried first, refused, then the response_url
    assert refused.method == "chat.postEphemeral" and refused.error == REFUSALS[world.channel]
    assert len(_warnings(caplog, REFUSALS[world.channel])) == 1  # logged once, with Slack's error


def test_approver_approves_through_the_modal(world: World) -> None:
    world.click(ids.ACTION_APPROVE_SENDER, APPROVER)
    (opened,) = world.fake.wait_for("views.open")
    view = opened.json("view")
    meta = json.loads(view["private_metadata"])
    assert meta["response_url"] == world.fake.response_url("click") and meta["channel"] == world.channel
    reply = world.server.send(view_submission(ids.VIEW_APPROVE_SENDER, _approve_values(), user=APPROVER,
                                              private_metadata=view["private_metadata"], view_id="VAPP1"))
    assert reply.status == 200
    answers = eventually(lambda: len(world.fake.responses("click")) >= 2 and world.fake.responses("click"),
                         timeout=20)
    replaced, confirmed = answers[:2]
    assert replaced.params["replace_original"] is True
    assert f"<@{APPROVER}> approved the address `{BLOCKED}`" in json.dumps(replaced.params["blocks"])
    assert confirmed.params["response_type"] == "ephemeral" and "now an approved sender" in confirmed.params["text"]
    with world.store.session() as session:
        (approval,) = approvals.list_active(session)
    assert approval.pattern == BLOCKED and approval.approved_by == APPROVER
    assert _audit(world, audit.APPROVE) == ["done"]
    assert BLOCKED in world.export.read_text()  # exported although no Slack post of the bot went through
    assert not world.fake.accepted("chat.update") and not world.fake.accepted("chat.postEphemeral")
    assert_calls_within_limits(world.fake.calls)


def test_export_failure_is_told(world: World) -> None:
    world.export.mkdir()  # a directory where the file should be: the export fails, the approval stays
    meta = json.dumps({"kind": "address", "value": BLOCKED, "channel": world.channel, "message_ts": MESSAGE_TS,
                       "response_url": world.fake.response_url("modal"), "user": APPROVER})
    world.server.send(view_submission(ids.VIEW_APPROVE_SENDER, _approve_values(), user=APPROVER,
                                      private_metadata=meta, view_id="VAPP2"))
    texts = eventually(lambda: [c.params["text"] for c in world.fake.responses("modal")
                                if "writing the gateway's list failed" in c.params["text"]], timeout=20)
    assert len(texts) == 1
    with world.store.session() as session:
        assert [a.pattern for a in approvals.list_active(session)] == [BLOCKED]


def test_remove_from_the_approved_list(world: World) -> None:
    with world.store.session() as session:
        outcome = approvals.approve(session, pattern="trusted@partner.example", reason="vendor", actor=APPROVER)
    world.server.send(slash_command("approved", user=APPROVER, channel=world.channel,
                                    response_url=world.fake.response_url("list")))
    (listing,) = eventually(lambda: world.fake.responses("list"), timeout=15)
    assert ids.ACTION_REMOVE_APPROVAL in json.dumps(listing.params["blocks"])
    value = json.dumps({"kind": "approval", "value": str(outcome.approval.id)})
    world.click(ids.ACTION_REMOVE_APPROVAL, ALICE, value=value, url="alice", ephemeral=True)
    (refused,) = eventually(lambda: world.fake.responses("alice"), timeout=15)
    assert "Only approvers" in refused.params["text"]
    world.click(ids.ACTION_REMOVE_APPROVAL, APPROVER, value=value, url="remove", ephemeral=True)
    answers = eventually(lambda: len(world.fake.responses("remove")) >= 2 and world.fake.responses("remove"),
                         timeout=15)
    assert answers[0].params["replace_original"] is True and "No approved senders" in json.dumps(answers[0].params)
    assert "removed `trusted@partner.example`" in answers[1].params["text"]
    with world.store.session() as session:
        assert approvals.list_active(session) == []
    assert _audit(world, audit.REMOVE) == ["done", "refused"]
    assert "trusted@partner.example" not in world.export.read_text()


def test_open_case_is_stored_forwarded_and_shown(world: World) -> None:
    world.click(ids.ACTION_OPEN_CASE, ALICE)
    (opened,) = world.fake.wait_for("views.open")
    view = opened.json("view")
    world.server.send(view_submission(ids.VIEW_OPEN_CASE, _case_values(view), user=ALICE,
                                      private_metadata=view["private_metadata"], view_id="VCASE1"))
    assert world.hook.event.wait(20) and world.box.event.wait(20)  # forwarded: webhook and e-mail
    (shown,) = eventually(lambda: world.fake.responses("click"), timeout=20)
    assert shown.params["response_type"] == "in_channel" and "Support case #" in shown.params["text"]
    (in_cases,) = world.fake.accepted("chat.postMessage")
    assert in_cases.params["channel"] == CASES_CHANNEL
    with world.store.session() as session:
        (case,) = cases.list_cases(session)
    assert case.opened_by == ALICE and case.channel == world.channel and case.case_message_ts
    assert world.hook.received[0]["case"]["id"] == case.id
    assert _audit(world, audit.CASE_FORWARD) == ["done", "done"]


def test_forwarding_failure_is_told(world: World) -> None:
    world.hook.stop()  # the ticketing system is down
    meta = json.dumps({"kind": "address", "value": BLOCKED, "channel": world.channel, "message_ts": MESSAGE_TS,
                       "response_url": world.fake.response_url("modal"), "user": ALICE})
    world.server.send(view_submission(ids.VIEW_OPEN_CASE, {ids.BLOCK_CASE_TITLE: {ids.ACTION_CASE_TITLE: {
        "type": "plain_text_input", "value": "mail from partner bounces"}}}, user=ALICE, private_metadata=meta,
        view_id="VCASE2"))
    told = eventually(lambda: [c for c in world.fake.responses("modal") if "forwarding it to webhook failed"
                               in c.params["text"]], timeout=30)
    assert len(told) == 1 and world.box.event.wait(10)  # the e-mail went anyway
    assert sorted(_audit(world, audit.CASE_FORWARD)) == ["done", "failed"]


def test_show_events(world: World) -> None:
    world.click(ids.ACTION_SHOW_EVENTS, ALICE)
    (shown,) = eventually(lambda: world.fake.responses("click"), timeout=15)
    assert shown.params["response_type"] == "in_channel" and shown.params["replace_original"] is False
    assert "Tracking events for" in shown.params["text"] and "zen.spamhaus.org" in json.dumps(shown.params["blocks"])
    assert [c.error for c in world.fake.calls_to("chat.postMessage")] == [REFUSALS[world.channel]]


def test_recheck_blacklists_replaces_the_answer(world: World) -> None:
    world.click(ids.ACTION_RECHECK_BLACKLISTS, ALICE)
    (replaced,) = eventually(lambda: world.fake.responses("click"), timeout=20)
    assert replaced.params["replace_original"] is True and BLOCKED in json.dumps(replaced.params["blocks"])
    world.fake.settle(quiet=0.4)
    assert world.refused_posts() == []  # the response_url first: no refused call at all


def test_digest_why(world: World) -> None:
    world.click(ids.ACTION_DIGEST_WHY, ALICE)
    (why,) = eventually(lambda: world.fake.responses("click"), timeout=20)
    assert why.params["response_type"] == "in_channel" and "gateway_reputation" in json.dumps(why.params["blocks"])


def test_invalid_modal_does_nothing_else(world: World) -> None:
    """response_action: errors goes back into the modal, and nothing else happens: no post, no audit."""
    meta = json.dumps({"kind": "address", "value": BLOCKED, "channel": world.channel, "message_ts": MESSAGE_TS,
                       "response_url": world.fake.response_url("modal"), "user": APPROVER})
    reply = world.server.send(view_submission(ids.VIEW_APPROVE_SENDER, _approve_values(reason="  "),
                                              user=APPROVER, private_metadata=meta, view_id="VBAD"))
    assert reply.json()["response_action"] == "errors" and ids.BLOCK_APPROVE_REASON in reply.json()["errors"]
    world.fake.settle(quiet=1.0)
    assert world.fake.calls == []
    assert _audit(world, audit.APPROVE) == []


def test_used_up_response_url_falls_back_to_a_dm(world: World) -> None:
    world.fake.expire_response_url("click")
    world.click(ids.ACTION_APPROVE_SENDER, ALICE)
    dm = world.fake.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == ALICE)
    assert "Only approvers" in dm[0].params["text"]
    assert [c.error for c in world.fake.calls_to("response_url")] == ["expired_url"]


def _null_sender_bounces(store: Any) -> None:
    from datetime import timedelta

    from bot.events import TrackingEvent
    from bot.timeutil import utcnow
    from storage import queries

    rows = [TrackingEvent(source="test", source_key=f"null-{n}", direction="inbound", disposition="rejected",
                          time=utcnow() - timedelta(hours=n + 1), sender=None, recipient=f"nobody{n}@ourcorp.example",
                          client_ip="203.0.113.9", client_host="mx.backscatter.example", smtp_code=550,
                          enhanced_status="5.1.1", stage="RCPT", rejected_by="gateway", reason="userunknown",
                          cause="invalid_recipient", reply_text="5.1.1 <nobody@ourcorp.example>: User unknown")
            for n in range(3)]
    with store.session() as session:
        queries.insert_events(session, [e.as_row() for e in rows])
        session.commit()


def test_digest_why_for_the_null_sender_explains_the_bounces(world: World) -> None:
    _null_sender_bounces(world.store)
    world.click(ids.ACTION_DIGEST_WHY, ALICE, value=json.dumps({"kind": "address", "value": "<>"}))
    (why,) = eventually(lambda: world.fake.responses("click"), timeout=20)
    shown = why.params["text"] + json.dumps(why.params["blocks"])
    assert "the null sender (bounce messages)" in shown
    assert "bounce message" in shown and "mx.backscatter.example [203.0.113.9]" in shown  # what, and who sent it
    assert "userunknown" in shown and "invalid_recipient" in shown                     # why it was refused
    assert "`why" not in shown and "/bounce `" not in shown and "/bounce ." not in shown
    assert ids.ACTION_APPROVE_SENDER not in shown  # <> is every bounce: not something to approve
    assert_calls_within_limits(world.fake.calls)


def test_close_case_from_its_copy_beside_the_answer(world: World) -> None:
    with world.store.session() as session:
        case, _ = cases.open_case(session, target=BLOCKED, title="partner bounces", description=None, snapshot=None,
                                  opened_by=ALICE, request_key="k1", channel=world.channel, thread_ts=MESSAGE_TS)
        cases.set_case_message(session, case_id=case.id, message_ts="1700000000.000999")
    world.click(ids.ACTION_CLOSE_CASE, ALICE, value=json.dumps({"kind": "case", "value": str(case.id)}))
    answers = eventually(lambda: len(world.fake.responses("click")) >= 2 and world.fake.responses("click"),
                         timeout=15)
    assert answers[0].params["replace_original"] is True and ids.ACTION_REOPEN_CASE in json.dumps(answers[0].params)
    assert f"<@{ALICE}> closed support case #{case.id}" in answers[1].params["text"]
    (in_cases,) = world.fake.accepted("chat.update")  # the copy in the cases channel shows it too
    assert in_cases.params["channel"] == CASES_CHANNEL
    with world.store.session() as session:
        assert cases.get_case(session, case.id).status == "closed"
    assert _audit(world, audit.CASE_CLOSE) == ["done"]


def test_digest_on_demand_arrives_without_the_chart(world: World) -> None:
    world.server.send(slash_command("digest", user=ALICE, channel=world.channel,
                                    response_url=world.fake.response_url("slash")))
    answers = eventually(lambda: len(world.fake.responses("slash")) >= 2 and world.fake.responses("slash"),
                         timeout=30)
    digest, note = answers[:2]
    assert digest.params["response_type"] == "in_channel" and "Mail digest" in digest.params["text"]
    assert ids.ACTION_DIGEST_WHY in json.dumps(digest.params["blocks"])
    assert note.params["response_type"] == "ephemeral" and "without its chart" in note.params["text"]
    assert not world.fake.calls_to("files.getUploadURLExternal")


def test_a_failure_after_the_click_is_told(world: World, monkeypatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("resolver exploded")

    monkeypatch.setattr(world.server.services, "diagnosis", broken)
    world.click(ids.ACTION_RECHECK_BLACKLISTS, ALICE)
    (told,) = eventually(lambda: world.fake.responses("click"), timeout=15)
    assert told.params["response_type"] == "ephemeral" and "could not finish the re-check" in told.params["text"]


def test_approver_group_member_gets_the_modal_and_others_are_refused(world: World) -> None:
    world.fake.usergroups[APPROVER_GROUP] = [GROUP_APPROVER]
    world.click(ids.ACTION_APPROVE_SENDER, GROUP_APPROVER, url="member")
    world.fake.wait_for("views.open")
    world.fake.usergroups[APPROVER_GROUP] = []  # cached for a minute: the lookup is not repeated
    world.click(ids.ACTION_APPROVE_SENDER, ALICE, url="alice")
    (refused,) = eventually(lambda: world.fake.responses("alice"), timeout=15)
    assert f"<!subteam^{APPROVER_GROUP}>" in refused.params["text"]
    assert world.fake.responses("member") == [] and len(world.fake.calls_to("usergroups.users.list")) == 1
