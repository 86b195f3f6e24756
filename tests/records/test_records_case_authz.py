"""Who may close or reopen a support case: its opener and approvers (opening is for every member)."""

from __future__ import annotations

from bot import audit, cases
from bot.store import Store


def test_opener_and_approvers_may_change_others_are_refused_and_audited(store: Store) -> None:
    with store.session() as s:
        case, _ = cases.open_case(s, target="a@b.example", title="bounces", opened_by="UALICE")
    assert cases.may_change(case, "UALICE", is_approver=False)
    assert cases.may_change(case, "UBOSS", is_approver=True)
    assert not cases.may_change(case, "UCAROL", is_approver=False)
    with store.session() as s:
        cases.refuse_change(s, case_id=case.id, actor="UCAROL", close=True, channel="C1", message_ts="1.2")
        (entry,) = audit.list_entries(s, actor="UCAROL")
    assert (entry.action, entry.outcome, entry.target) == (audit.CASE_CLOSE, audit.REFUSED, f"case #{case.id}")
