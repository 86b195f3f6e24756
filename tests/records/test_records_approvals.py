"""Approved senders on real SQLite and PostgreSQL: approval, double clicks, concurrent approvers, refusal,
expiry, removal and the lookup the diagnosis uses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import approvals, audit
from bot.store import Store
from bot.timeutil import utcnow
from storage.models import ApprovedSender, AuditEntry
from tests.records.helpers import run_concurrently, settings


def _audit(session, action: str) -> list[tuple[str, str | None, str]]:
    return [(e.actor, e.target, e.outcome) for e in reversed(audit.list_entries(session, action=action))]


@pytest.mark.parametrize(("given", "kind", "expected"), [
    ("Alice@Partner.Example", None, ("alice@partner.example", "address")),
    ("partner.example", None, ("partner.example", "domain")),
    ("*@partner.example", None, ("partner.example", "domain")),
    ("@partner.example", None, ("partner.example", "domain")),
    ("partner.example.", None, ("partner.example", "domain")),
    ("alice@partner.example", "domain", ("partner.example", "domain")),
])
def test_patterns_are_normalized(given, kind, expected):
    assert approvals.normalize_pattern(given, kind) == expected


@pytest.mark.parametrize(("given", "kind"), [
    ("", None), ("not a domain", None), ("alice@", None), ("localhost", None), ("partner.example", "address"),
    ("a@b.example", "user"), ("x@partner.example\nevil.example OK", None),
])
def test_bad_patterns_are_refused_with_a_message(given, kind):
    with pytest.raises(approvals.ApprovalError):
        approvals.normalize_pattern(given, kind)


def test_is_approver_by_id_by_group_and_otherwise_not():
    s = settings(approvers=("U1",), approver_group="S9")
    calls: list[str] = []

    def members(group: str) -> set[str]:
        calls.append(group)
        return {"U2"}

    assert approvals.is_approver("U1", settings=s, group_members=members)
    assert calls == []  # a configured id needs no lookup
    assert approvals.is_approver("U2", settings=s, group_members=members)
    assert calls == ["S9"]
    assert not approvals.is_approver("U3", settings=s, group_members=members)
    assert approvals.is_approver("U2", settings=s, group_members={"U2"})
    assert not approvals.is_approver("U2", settings=s)  # group members unknown: only the ids count
    assert not approvals.is_approver("U2", settings=settings(approvers=("U1",)), group_members={"U2"})
    assert not approvals.is_approver(None, settings=s, group_members={"U2"})
    assert not approvals.is_approver("", settings=settings(approvers=("",)))


def test_approve_then_double_click_yields_one_approval(store: Store):
    with store.session() as session:
        first = approvals.approve(session, pattern="alice@partner.example", reason="partner", actor="U1",
                                  request_key="C1/1.0/approve", channel="C1", message_ts="1.0")
        second = approvals.approve(session, pattern="alice@partner.example", reason="partner", actor="U1",
                                   request_key="C1/1.0/approve", channel="C1", message_ts="1.0")
        assert first.created and not second.created
        assert second.approval.id == first.approval.id and second.winner_actor == "U1"
        assert session.scalar(select(func.count()).select_from(ApprovedSender)) == 1
        assert _audit(session, "approve") == [("U1", "alice@partner.example", "done"),
                                              ("U1", "alice@partner.example", "duplicate")]
        entry = audit.list_entries(session, action="approve", limit=1)[0]
        assert (entry.channel, entry.message_ts) == ("C1", "1.0")


def test_second_approver_of_an_active_pattern_learns_who_approved(store: Store):
    with store.session() as session:
        approvals.approve(session, pattern="partner.example", reason="r", actor="U1", request_key="a")
        other = approvals.approve(session, pattern="*@PARTNER.example", reason="r", actor="U2", request_key="b")
        assert not other.created and other.winner_actor == "U1" and other.approval.pattern == "partner.example"
        # An address under the domain is another pattern: allowed.
        assert approvals.approve(session, pattern="bob@partner.example", reason="r", actor="U2").created


def test_two_approvers_at_once_on_two_messages_yield_one_approval(store: Store):
    def work(session, i):
        return approvals.approve(session, pattern="alice@partner.example", reason="r", actor=f"U{i}",
                                 request_key=f"C1/{i}.0/approve")

    outcomes = run_concurrently(store, 2, work)
    assert sorted(o.created for o in outcomes) == [False, True]
    winner = next(o for o in outcomes if o.created)
    loser = next(o for o in outcomes if not o.created)
    assert loser.winner_actor == winner.approval.approved_by
    assert loser.approval.id == winner.approval.id


@pytest.mark.parametrize("same_request", [False, True], ids=["50-approvers", "50-clicks-one-request"])
def test_fifty_concurrent_approvals_of_one_sender_yield_exactly_one(store: Store, same_request: bool):
    def work(session, i):
        key = "C1/1.0/approve" if same_request else f"C{i}/1.0/approve"
        return approvals.approve(session, pattern="alice@partner.example", reason="r", actor=f"U{i}",
                                 request_key=key)

    outcomes = run_concurrently(store, 50, work)
    created = [o for o in outcomes if o.created]
    assert len(created) == 1
    winner = created[0].approval
    assert all(o.approval.id == winner.id and o.winner_actor == winner.approved_by for o in outcomes)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ApprovedSender)) == 1
        outcomes_audited = sorted(e.outcome for e in audit.list_entries(session, action="approve"))
        assert outcomes_audited == ["done"] + ["duplicate"] * 49


def test_refusal_is_audited(store: Store):
    with store.session() as session:
        entry = approvals.refuse(session, actor="U7", pattern="alice@partner.example", channel="C1",
                                 message_ts="2.0", reason="please")
        assert entry.outcome == "refused"
        assert session.scalar(select(func.count()).select_from(ApprovedSender)) == 0
        stored = session.scalars(select(AuditEntry)).one()
        assert (stored.actor, stored.action, stored.target, stored.outcome, stored.channel, stored.message_ts) == (
            "U7", "approve", "alice@partner.example", "refused", "C1", "2.0")
        removal = approvals.refuse(session, actor="U7", pattern="alice@partner.example", action=audit.REMOVE,
                                   detail={"approval_id": 3})
        assert (removal.action, removal.outcome, removal.detail["approval_id"]) == ("remove", "refused", 3)


def test_expiry_ends_an_approval_and_is_audited_once(store: Store):
    now = utcnow()
    with store.session() as session:
        made = approvals.approve(session, pattern="partner.example", reason="r", actor="U1",
                                 expires_at=now + timedelta(hours=1), now=now).approval
        assert approvals.is_approved(session, "x@partner.example", now + timedelta(minutes=59)).id == made.id
        later = now + timedelta(hours=2)
        assert approvals.is_approved(session, "x@partner.example", later) is None
        assert approvals.list_active(session, later) == []
        assert [a.id for a in approvals.list_active(session, now)] == [made.id]
        expired = approvals.expire_due(session, now=later)
        assert [a.id for a in expired] == [made.id]
        assert approvals.expire_due(session, now=later) == []  # only once
        assert _audit(session, "expire") == [("system", "partner.example", "done")]
        assert approvals.status(approvals.get_approval(session, made.id), later) == "expired"
        # A new approval of the same pattern after expiry is a new row.
        again = approvals.approve(session, pattern="partner.example", reason="r", actor="U2", now=later)
        assert again.created and again.approval.id != made.id


def test_approving_an_expired_pattern_releases_and_audits_the_old_one(store: Store):
    now = utcnow()
    with store.session() as session:
        old = approvals.approve(session, pattern="a@partner.example", reason="r", actor="U1",
                                expires_at=now + timedelta(minutes=1), now=now).approval
        later = now + timedelta(minutes=5)
        new = approvals.approve(session, pattern="a@partner.example", reason="r", actor="U2", now=later)
        assert new.created and new.approval.id != old.id
        assert _audit(session, "expire") == [("system", "a@partner.example", "done")]
        assert approvals.expire_due(session, now=later) == []


def test_expiry_in_the_past_and_a_blank_reason_are_refused(store: Store):
    with store.session() as session:
        with pytest.raises(approvals.ApprovalError, match="not in the future"):
            approvals.approve(session, pattern="a@partner.example", reason="r", actor="U1",
                              expires_at=utcnow() - timedelta(seconds=1))
        for blank in ("", "   ", None):
            with pytest.raises(approvals.ApprovalError, match="reason"):
                approvals.approve(session, pattern="a@partner.example", reason=blank, actor="U1")
        assert approvals.list_active(session) == []


def test_remove_by_pattern_and_by_id_double_click_learns_who(store: Store):
    with store.session() as session:
        made = approvals.approve(session, pattern="partner.example", reason="r", actor="U1").approval
        first = approvals.remove(session, pattern="*@partner.example", actor="U2", channel="C1", message_ts="3.0")
        again = approvals.remove(session, approval_id=made.id, actor="U3")
        assert first.removed and first.removed_by == "U2"
        assert not again.removed and again.removed_by == "U2"
        assert approvals.is_approved(session, "a@partner.example") is None
        assert approvals.list_active(session) == []
        assert _audit(session, "remove") == [("U2", "partner.example", "done"),
                                             ("U3", "partner.example", "duplicate")]
        # Once removed, the pattern can be approved again.
        assert approvals.approve(session, pattern="partner.example", reason="r", actor="U1").created
        with pytest.raises(approvals.UnknownApproval):
            approvals.remove(session, pattern="other.example", actor="U2")
        with pytest.raises(approvals.UnknownApproval):
            approvals.remove(session, approval_id=999_999, actor="U2")


def test_concurrent_removals_remove_once(store: Store):
    with store.session() as session:
        made = approvals.approve(session, pattern="partner.example", reason="r", actor="U1").approval
    outcomes = run_concurrently(store, 8, lambda s, i: approvals.remove(s, approval_id=made.id, actor=f"U{i}"))
    assert sum(o.removed for o in outcomes) == 1
    remover = next(o.removed_by for o in outcomes if o.removed)
    assert {o.removed_by for o in outcomes} == {remover}


def test_is_approved_prefers_the_address_and_covers_subdomains(store: Store):
    with store.session() as session:
        dom = approvals.approve(session, pattern="partner.example", reason="r", actor="U1").approval
        addr = approvals.approve(session, pattern="alice@partner.example", reason="r", actor="U1").approval
        assert approvals.is_approved(session, "Alice@Partner.example").id == addr.id
        assert approvals.is_approved(session, "<bob@partner.example>").id == dom.id
        assert approvals.is_approved(session, "bob@mx1.eu.partner.example").id == dom.id
        assert approvals.is_approved(session, "partner.example").id == dom.id
        assert approvals.is_approved(session, "bob@notpartner.example") is None
        assert approvals.is_approved(session, "bob@partner.example.evil") is None
        assert approvals.is_approved(session, "") is None


def test_the_same_button_after_removal_or_expiry_approves_again(store: Store):
    now = utcnow()
    with store.session() as session:
        first = approvals.approve(session, pattern="partner.example", reason="r", actor="U1", request_key="btn",
                                  now=now)
        approvals.remove(session, approval_id=first.approval.id, actor="U2")
        again = approvals.approve(session, pattern="partner.example", reason="r", actor="U3", request_key="btn",
                                  expires_at=now + timedelta(minutes=5), now=now)
        assert again.created and again.approval.id != first.approval.id and again.approval.request_key == "btn"
        later = now + timedelta(minutes=10)
        third = approvals.approve(session, pattern="partner.example", reason="r", actor="U4", request_key="btn",
                                  now=later)
        assert third.created and third.approval.approved_by == "U4"
        # ...while a double click of an active approval still is one approval.
        assert not approvals.approve(session, pattern="partner.example", reason="r", actor="U5",
                                     request_key="btn", now=later).created


def test_is_approver_with_the_ttl_cache_looks_the_group_up_once():
    from bot.ttlcache import TTLCache

    lookups: list[str] = []

    def usergroup_members(group: str) -> frozenset[str]:
        lookups.append(group)
        return frozenset({"U2", "U3"})

    cache = TTLCache(usergroup_members, ttl=60)
    s = settings(approver_group="S1")
    assert [approvals.is_approver(u, settings=s, group_members=cache) for u in ("U2", "U3", "U4")] == [
        True, True, False]
    assert lookups == ["S1"]
