"""Support cases on real SQLite and PostgreSQL: open once per request, close and reopen once per click."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import audit, cases
from bot.store import Store
from tests.records.helpers import run_concurrently

SNAPSHOT = {"target": "alice@partner.example", "verdict": "gateway_reputation",
            "checked_at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "evidence": [{"zone": "zen.example"}]}


def _open(session, key: str | None = "C1/1.0/case", actor: str = "U1"):
    return cases.open_case(session, target="alice@partner.example", title="Blocked by reputation",
                           description="DNSBL listing", snapshot=SNAPSHOT, opened_by=actor, request_key=key,
                           channel="C1", thread_ts="1.0")


def test_open_stores_the_snapshot_and_a_double_submit_stores_one_case(store: Store):
    with store.session() as session:
        case, created = _open(session)
        again, created_again = _open(session, actor="U2")
        assert created and not created_again and again.id == case.id and again.opened_by == "U1"
        assert case.status == "open" and case.snapshot["checked_at"] == "2026-11-30T08:00:00+00:00"
        assert case.snapshot["evidence"] == [{"zone": "zen.example"}]
        assert [c.id for c in cases.list_cases(session)] == [case.id]
        outcomes = [(e.actor, e.outcome) for e in reversed(audit.list_entries(session, action="case.open"))]
        assert outcomes == [("U1", "done"), ("U2", "duplicate")]
        # Without a request key every submit is its own case.
        assert _open(session, key=None)[1] and _open(session, key=None)[1]


def test_concurrent_submits_of_one_request_store_one_case(store: Store):
    results = run_concurrently(store, 20, lambda session, i: _open(session, actor=f"U{i}"))
    assert sum(created for _case, created in results) == 1
    assert len({case.id for case, _created in results}) == 1


def test_close_and_reopen_with_double_clicks(store: Store):
    with store.session() as session:
        case, _ = _open(session)
        closed = cases.close_case(session, case_id=case.id, actor="U2", channel="C9", message_ts="5.0")
        closed_again = cases.close_case(session, case_id=case.id, actor="U3")
        assert closed.changed and closed.by == "U2" and closed.case.status == "closed"
        assert not closed_again.changed and closed_again.by == "U2"
        reopened = cases.reopen_case(session, case_id=case.id, actor="U4")
        reopened_again = cases.reopen_case(session, case_id=case.id, actor="U5")
        assert reopened.changed and reopened.case.status == "open" and reopened.case.reopened_by == "U4"
        assert not reopened_again.changed and reopened_again.by == "U4"
        assert [c.id for c in cases.list_cases(session, status="open")] == [case.id]
        assert cases.list_cases(session, status="closed") == []
        trail = [(e.action, e.actor, e.outcome) for e in reversed(audit.list_entries(session))]
        assert trail == [("case.open", "U1", "done"), ("case.close", "U2", "done"),
                         ("case.close", "U3", "duplicate"), ("case.reopen", "U4", "done"),
                         ("case.reopen", "U5", "duplicate")]
        assert audit.list_entries(session, action="case.close")[-1].channel == "C9"


def test_concurrent_closes_close_once(store: Store):
    with store.session() as session:
        case, _ = _open(session)
    results = run_concurrently(store, 10, lambda s, i: cases.close_case(s, case_id=case.id, actor=f"U{i}"))
    assert sum(r.changed for r in results) == 1
    closer = next(r.by for r in results if r.changed)
    assert {r.by for r in results} == {closer}


def test_unknown_case_and_bad_input(store: Store):
    with store.session() as session:
        with pytest.raises(cases.UnknownCase):
            cases.close_case(session, case_id=424242, actor="U1")
        with pytest.raises(cases.CaseError):
            cases.open_case(session, target=" ", title="t", opened_by="U1")
        with pytest.raises(cases.CaseError):
            cases.open_case(session, target="a@b.example", title="  ", opened_by="U1")
        with pytest.raises(cases.CaseError):
            cases.list_cases(session, status="pending")
        assert cases.get_case(session, 424242) is None


def test_case_message_is_remembered_and_long_titles_are_clipped(store: Store):
    with store.session() as session:
        case, _ = cases.open_case(session, target="a@b.example", title="x" * 400, opened_by="U1")
        assert len(case.title) == 255
        assert cases.set_case_message(session, case_id=case.id, message_ts="9.9").case_message_ts == "9.9"
        assert cases.case_dict(cases.get_case(session, case.id))["case_message_ts"] == "9.9"
