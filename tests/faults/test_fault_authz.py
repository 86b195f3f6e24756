"""Authorization matrix: every state-changing Slack action, by a non-approver, over real HTTP.

Each row: the request a non-approver's click or (forged) modal submission sends, and a check that nothing
changed. Every refusal must leave the state as it was, tell the user, and be in the audit trail as
"refused" with the user as actor. The same actions by approvers (a configured id and a member of the
approver user group) are the control: they must go through, so a matrix that refuses everything fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import approvals, audit, cases
from bot.render import ids
from bot.store import Store
from storage.db import make_engine, upgrade
from tests.faults.procs import report
from tests.slack.fakes import (
    AppServer,
    FakeSlackAPI,
    SignedRequest,
    block_action,
    eventually,
    fake_slack,
    serve_app,
    test_settings,
    view_submission,
)
from tests.slack.seed import BLOCKED, seed

APPROVER, GROUP_APPROVER, GROUP = "UAPPROVER", "UGROUPIE", "SAPPROVERS"
INTRUDER = "UMALLORY"
CASES_CHANNEL, MESSAGE_TS = "CCASES", "1700000000.000042"
TARGET = json.dumps({"kind": "address", "value": BLOCKED})

@dataclass
class World:
    server: AppServer
    fake: FakeSlackAPI
    store: Store
    approval_id: int
    open_case: int
    closed_case: int


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'authz.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(url)
    seed(store)
    with store.session() as session:
        approval = approvals.approve(session, pattern="trusted@partner.example", reason="vendor", actor=APPROVER)
        opened, _ = cases.open_case(session, target=BLOCKED, title="open one", opened_by=APPROVER,
                                    channel="CSUPPORT", thread_ts=MESSAGE_TS)
        closed, _ = cases.open_case(session, target=BLOCKED, title="closed one", opened_by=APPROVER,
                                    channel="CSUPPORT", thread_ts=MESSAGE_TS)
        cases.close_case(session, case_id=closed.id, actor=APPROVER)
    with fake_slack() as fake:
        fake.usergroups[GROUP] = [GROUP_APPROVER]
        settings = test_settings(url, fake, approvers=(APPROVER,), approver_group=GROUP, cases_channel=CASES_CHANNEL)
        with serve_app(settings, store=store) as server:
            fake.wait_for("auth.test")
            fake.clear()
            yield World(server, fake, store, approval.approval.id, opened.id, closed.id)
    store.dispose()


# --- the requests ------------------------------------------------------------------------------------------

def _approve_values(scope: str) -> dict[str, Any]:
    return {
        ids.BLOCK_APPROVE_SCOPE: {ids.ACTION_APPROVE_SCOPE: {"type": "radio_buttons",
                                                             "selected_option": {"value": scope}}},
        ids.BLOCK_APPROVE_REASON: {ids.ACTION_APPROVE_REASON: {"type": "plain_text_input", "value": "trust me"}},
        ids.BLOCK_APPROVE_EXPIRY: {ids.ACTION_APPROVE_EXPIRY: {"type": "static_select",
                                                               "selected_option": {"value": "none"}}},
    }


def _meta() -> str:
    return json.dumps({"kind": "address", "value": BLOCKED, "channel": "CSUPPORT", "message_ts": MESSAGE_TS,
                       "thread_ts": None})


def _case_value(case_id: int) -> str:
    return json.dumps({"kind": "case", "value": str(case_id)})


Make = Callable[[World, str], SignedRequest]

ACTIONS: dict[str, Make] = {
    "approve button": lambda w, u: block_action(ids.ACTION_APPROVE_SENDER, TARGET, user=u, message_ts=MESSAGE_TS),
    "approve modal (address)": lambda w, u: view_submission(ids.VIEW_APPROVE_SENDER, _approve_values("address"),
                                                            user=u, private_metadata=_meta(), view_id=f"VA{u}"),
    "approve modal (domain)": lambda w, u: view_submission(ids.VIEW_APPROVE_SENDER, _approve_values("domain"),
                                                           user=u, private_metadata=_meta(), view_id=f"VD{u}"),
    "remove approval (message)": lambda w, u: block_action(
        ids.ACTION_REMOVE_APPROVAL, json.dumps({"kind": "approval", "value": str(w.approval_id)}), user=u,
        message_ts=MESSAGE_TS, response_url=w.fake.response_url("list")),
    "remove approval (App Home)": lambda w, u: block_action(
        ids.ACTION_REMOVE_APPROVAL, json.dumps({"kind": "approval", "value": str(w.approval_id)}), user=u,
        view={"id": "VHOME", "type": "home"}),
    "close case": lambda w, u: block_action(ids.ACTION_CLOSE_CASE, _case_value(w.open_case), user=u,
                                            channel=CASES_CHANNEL, message_ts=MESSAGE_TS),
    "reopen case": lambda w, u: block_action(ids.ACTION_REOPEN_CASE, _case_value(w.closed_case), user=u,
                                             channel=CASES_CHANNEL, message_ts=MESSAGE_TS),
    "open case modal": lambda w, u: view_submission(
        ids.VIEW_OPEN_CASE, {ids.BLOCK_CASE_TITLE: {ids.ACTION_CASE_TITLE: {"type": "plain_text_input",
                                                                            "value": "intruder case"}}},
        user=u, private_metadata=_meta(), view_id=f"VC{u}"),
}
#: Opening a support case is for every member by design (reporting a problem is the support team's job);
#: closing and reopening are for the case's opener and approvers, and are in the matrix.
CASE_ACTIONS = {"open case modal"}
#: The audit action a refusal must be filed under (bot.approvals.refuse: audit.REMOVE for a refused removal).
AUDITED_AS = {"approve button": audit.APPROVE, "approve modal (address)": audit.APPROVE,
              "approve modal (domain)": audit.APPROVE, "remove approval (message)": audit.REMOVE,
              "remove approval (App Home)": audit.REMOVE, "close case": audit.CASE_CLOSE,
              "reopen case": audit.CASE_REOPEN, "open case modal": audit.CASE_OPEN}


def _state(w: World) -> dict[str, Any]:
    """Everything these actions could change."""
    with w.store.session() as session:
        return {
            "approvals": sorted((a.id, a.pattern, a.kind, a.removed_at is None)
                                for a in approvals.list_approvals(session)),
            "cases": sorted((c.id, c.status, c.title) for c in cases.list_cases(session)),
        }


def _refusals(w: World, user: str) -> list[Any]:
    with w.store.session() as session:
        return [e for e in audit.list_entries(session, actor=user) if e.outcome == audit.REFUSED]


def _told_refused(w: World, user: str) -> bool:
    return any("Only approvers" in str(c.params.get("text", "")) and c.params.get("user", user) == user
               for c in w.fake.calls_to("chat.postEphemeral") + w.fake.calls_to("chat.postMessage"))


def _answered(w: World) -> None:
    """Wait for the lazy listener's first Web API call, then for quiet: its work is done."""
    eventually(lambda: [m for m in w.fake.methods() if m != "usergroups.users.list"], timeout=15)
    w.fake.settle(quiet=0.6)


def _no_privileged_call(w: World) -> bool:
    """No modal opened and no message changed for the intruder."""
    return not w.fake.calls_to("views.open") and not w.fake.calls_to("chat.update")


@pytest.mark.parametrize("action", [name for name in ACTIONS if name not in CASE_ACTIONS])
def test_non_approver_is_refused_told_and_audited(world: World, action: str) -> None:
    before = _state(world)
    reply = world.server.send(ACTIONS[action](world, INTRUDER))
    assert reply.status == 200  # acknowledged as Slack expects; the refusal is the answer
    _answered(world)
    assert _state(world) == before, f"{action} by a non-approver changed the state"
    assert _no_privileged_call(world), world.fake.methods()
    assert _told_refused(world, INTRUDER), [c.params for c in world.fake.calls]
    refused = _refusals(world, INTRUDER)
    assert len(refused) == 1, [(e.action, e.outcome) for e in refused]
    report("authz_refused", action=action, audited_action=refused[0].action, state_unchanged=True)


@pytest.mark.parametrize("action", [name for name in ACTIONS if name not in CASE_ACTIONS])
def test_refusals_are_filed_under_the_action_attempted(world: World, action: str) -> None:
    world.server.send(ACTIONS[action](world, INTRUDER))
    _answered(world)
    assert [e.action for e in _refusals(world, INTRUDER)] == [AUDITED_AS[action]]


@pytest.mark.parametrize("user", [APPROVER, GROUP_APPROVER])
@pytest.mark.parametrize("action", ["approve button", "approve modal (address)", "remove approval (message)"])
def test_approvers_get_through(world: World, action: str, user: str) -> None:
    """The control: the same requests by approvers do change things (or open the modal)."""
    before = _state(world)
    assert world.server.send(ACTIONS[action](world, user)).status == 200
    world.fake.wait_for({"approve button": "views.open", "approve modal (address)": "chat.postEphemeral",
                         "remove approval (message)": "response_url"}[action], timeout=15)
    world.fake.settle(quiet=0.6)
    if action == "approve button":
        assert world.fake.calls_to("views.open"), world.fake.methods()
    else:
        assert _state(world) != before
    assert not _refusals(world, user)


def test_group_lookup_failure_refuses_and_says_so(world: World) -> None:
    """usergroups.users.list failing: nobody outside the configured ids gets through, and is told why."""
    world.fake.fail_next("usergroups.users.list", status=500, times=5)
    before = _state(world)
    assert world.server.send(ACTIONS["approve button"](world, GROUP_APPROVER)).status == 200
    world.fake.wait_for("chat.postEphemeral", timeout=15)
    world.fake.settle(quiet=0.6)
    assert _state(world) == before and not world.fake.calls_to("views.open")
    notes = [str(c.params.get("text", "")) for c in world.fake.calls_to("chat.postEphemeral")]
    assert any("approver group" in n for n in notes), notes


def test_by_design_any_member_opens_a_case_and_its_opener_closes_it(world: World) -> None:
    """The other side of the matrix: opening a case is every member's right, and so is closing one's own."""
    member = "UBOB"
    assert world.server.send(ACTIONS["open case modal"](world, member)).status == 200
    _answered(world)
    with world.store.session() as session:
        mine = [c for c in cases.list_cases(session) if c.opened_by == member]
    assert len(mine) == 1 and not _refusals(world, member)
    world.fake.clear()
    assert world.server.send(block_action(ids.ACTION_CLOSE_CASE, _case_value(mine[0].id), user=member,
                                          channel=CASES_CHANNEL, message_ts=MESSAGE_TS)).status == 200
    _answered(world)
    with world.store.session() as session:
        assert cases.get_case(session, mine[0].id).status == "closed"
    assert not _refusals(world, member)
