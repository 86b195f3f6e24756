"""Open support case: a prefilled modal, stored with the diagnosis snapshot, posted, forwarded; close and reopen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot import audit, cases
from bot.render import ids
from tests.slack.conftest import CASES_CHANNEL
from tests.slack.fakes import block_action, eventually, serve_app, test_settings, view_submission
from tests.slack.limits import assert_calls_within_limits
from tests.slack.receivers import Mailbox, Webhook
from tests.slack.seed import BLOCKED, seed

MESSAGE_TS = "1700000000.000077"
TARGET = json.dumps({"kind": "address", "value": BLOCKED})


@pytest.fixture
def forwarding(db_url, fake, slack_store) -> Iterator[tuple[Any, Webhook, Mailbox]]:
    hook, box = Webhook(), Mailbox()
    settings = test_settings(db_url, fake, cases_channel=CASES_CHANNEL, case_webhook_url=hook.url,
                             case_email_to="tickets@support.example", smtp_host="127.0.0.1", smtp_port=box.port,
                             smtp_from="bouncebot@ourcorp.example")
    seed(slack_store)
    with serve_app(settings, store=slack_store) as served:
        fake.wait_for("auth.test")
        fake.clear()
        yield served, hook, box
    hook.stop()
    box.stop()


def open_modal(server, fake) -> dict[str, Any]:
    server.send(block_action(ids.ACTION_OPEN_CASE, TARGET, user="UALICE", message_ts=MESSAGE_TS))
    (opened,) = fake.wait_for("views.open")
    return opened.json("view")


def submit(server, view: dict[str, Any], *, title: str | None = None, user: str = "UALICE", view_id: str = "VCASE"):
    values = {
        ids.BLOCK_CASE_TITLE: {ids.ACTION_CASE_TITLE: {"type": "plain_text_input", "value": title if title is not None
                                                       else _initial(view, ids.BLOCK_CASE_TITLE)}},
        ids.BLOCK_CASE_DESCRIPTION: {ids.ACTION_CASE_DESCRIPTION: {
            "type": "plain_text_input", "value": _initial(view, ids.BLOCK_CASE_DESCRIPTION)}},
    }
    return server.send(view_submission(ids.VIEW_OPEN_CASE, values, user=user, view_id=view_id,
                                       private_metadata=view["private_metadata"]))


def _initial(view: dict[str, Any], block_id: str) -> str:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return block["element"]["initial_value"]


def test_case_modal_is_prefilled_with_target_verdict_and_evidence(forwarding, fake) -> None:
    server, _, _ = forwarding
    view = open_modal(server, fake)
    assert view["callback_id"] == ids.VIEW_OPEN_CASE
    assert BLOCKED in _initial(view, ids.BLOCK_CASE_TITLE)
    description = _initial(view, ids.BLOCK_CASE_DESCRIPTION)
    assert "Verdict:" in description and "zen.spamhaus.org" in description and "554" in description
    assert_calls_within_limits(fake.calls)


def test_case_is_stored_posted_and_forwarded(forwarding, fake, slack_store) -> None:
    server, hook, box = forwarding
    view = open_modal(server, fake)
    reply = submit(server, view)
    assert reply.status == 200
    posts = fake.wait_for("chat.postMessage", 2)
    channels = {p.params["channel"]: p for p in posts}
    assert set(channels) == {CASES_CHANNEL, "CSUPPORT"}
    assert channels["CSUPPORT"].params["thread_ts"] == MESSAGE_TS
    assert ids.ACTION_CLOSE_CASE in json.dumps(channels[CASES_CHANNEL].json("blocks"))
    with slack_store.session() as session:
        (case,) = cases.list_cases(session)
    assert case.status == "open" and case.target == BLOCKED and case.opened_by == "UALICE"
    assert case.snapshot["target"] == {"kind": "address", "value": BLOCKED}
    assert case.snapshot["verdict"]["cause"] == "gateway_reputation"
    assert hook.event.wait(10) and box.event.wait(10)
    assert hook.received[0]["case"]["id"] == case.id
    assert hook.received[0]["case"]["snapshot"]["verdict"]["cause"] == "gateway_reputation"
    envelope = box.messages[0]
    assert envelope.rcpt_tos == ["tickets@support.example"]
    assert BLOCKED.encode() in envelope.content

    def forwards() -> list[str]:
        with slack_store.session() as session:
            return sorted(e.outcome for e in audit.list_entries(session, action=audit.CASE_FORWARD))

    assert eventually(lambda: len(forwards()) == 2) and forwards() == ["done", "done"]
    assert_calls_within_limits(fake.calls)


def test_double_submit_stores_one_case(forwarding, fake, slack_store) -> None:
    server, _hook, _ = forwarding
    view = open_modal(server, fake)
    submit(server, view)
    fake.wait_for("chat.postMessage", 2)
    submit(server, view)  # the same view submitted twice
    (note,) = fake.wait_for("chat.postEphemeral")
    assert "already open" in note.params["text"]
    with slack_store.session() as session:
        assert len(cases.list_cases(session)) == 1


def test_empty_title_is_refused_in_the_modal(forwarding, fake, slack_store) -> None:
    server, _, _ = forwarding
    view = open_modal(server, fake)
    reply = submit(server, view, title="  ")
    assert reply.json()["response_action"] == "errors"
    with slack_store.session() as session:
        assert cases.list_cases(session) == []


def test_close_and_reopen(forwarding, fake, slack_store) -> None:
    server, _, _ = forwarding
    view = open_modal(server, fake)
    submit(server, view)
    posts = fake.wait_for("chat.postMessage", 2)
    case_post = next(p for p in posts if p.params["channel"] == CASES_CHANNEL)

    def stored_case():
        with slack_store.session() as session:
            found = cases.list_cases(session)
        return found[0] if found and found[0].case_message_ts else None

    case = eventually(stored_case)
    value = json.dumps({"kind": "case", "value": str(case.id)})
    case_ts = case.case_message_ts
    assert case_ts
    fake.clear()
    # the opener closes it
    server.send(block_action(ids.ACTION_CLOSE_CASE, value, user="UALICE", channel=CASES_CHANNEL,
                             message_ts=case_ts))
    (update,) = fake.wait_for("chat.update")
    assert update.params["ts"] == case_ts and ids.ACTION_REOPEN_CASE in json.dumps(update.json("blocks"))
    fake.wait_for("chat.postMessage", where=lambda c: "closed support case" in c.params.get("text", ""))
    with slack_store.session() as session:
        assert cases.get_case(session, case.id).status == "closed"
    # a second click learns who already closed it
    server.send(block_action(ids.ACTION_CLOSE_CASE, value, user="UALICE", channel=CASES_CHANNEL,
                             message_ts=case_ts))
    (note,) = fake.wait_for("chat.postEphemeral")
    assert "already closed by <@UALICE>" in note.params["text"]
    # someone who is neither the opener nor an approver is refused, told and audited
    fake.clear()
    server.send(block_action(ids.ACTION_REOPEN_CASE, value, user="UCAROL", channel=CASES_CHANNEL,
                             message_ts=case_ts))
    (refusal,) = fake.wait_for("chat.postEphemeral")
    assert "Only approvers" in refusal.params["text"] and "<@UALICE>" in refusal.params["text"]
    # the opener reopens it (approvers may too: tests/faults/test_fault_authz.py)
    server.send(block_action(ids.ACTION_REOPEN_CASE, value, user="UALICE", channel=CASES_CHANNEL,
                             message_ts=case_ts))
    (update,) = fake.wait_for("chat.update")
    assert ids.ACTION_CLOSE_CASE in json.dumps(update.json("blocks"))
    with slack_store.session() as session:
        reopened = cases.get_case(session, case.id)
        outcomes = [(e.action, e.outcome) for e in audit.list_entries(session) if e.action.startswith("case.")]
    assert reopened.status == "open" and reopened.reopened_by == "UALICE"
    assert (audit.CASE_CLOSE, audit.DUPLICATE) in outcomes and (audit.CASE_REOPEN, audit.DONE) in outcomes
    assert (audit.CASE_REOPEN, audit.REFUSED) in outcomes
    assert case_post.params["channel"] == CASES_CHANNEL
