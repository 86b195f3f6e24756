"""Revision 0004 on a store that already holds approvals: the newest unremoved one per pattern becomes active."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from bot import approvals
from bot.store import Store
from storage.db import alembic_config, make_engine, upgrade


@pytest.mark.parametrize("backend", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)])
def test_upgrade_marks_the_newest_unremoved_approval_active(backend: str, request: pytest.FixtureRequest):
    url = request.getfixturevalue(backend)
    engine = make_engine(url)
    command.upgrade(alembic_config(engine), "0001")
    rows = [
        ("partner.example", "domain", None),
        ("partner.example", "domain", None),           # a duplicate from before 0004: the newest wins
        ("a@partner.example", "address", "2026-01-01 00:00:00"),  # removed
        ("b@partner.example", "address", None),
    ]
    with engine.begin() as conn:
        for pattern, kind, removed_at in rows:
            conn.execute(text(
                "INSERT INTO approved_senders (pattern, kind, approved_by, created_at, removed_at) "
                "VALUES (:pattern, :kind, 'U1', '2025-12-01 00:00:00', :removed_at)"),
                {"pattern": pattern, "kind": kind, "removed_at": removed_at})
    upgrade(engine)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT id, active_key FROM approved_senders ORDER BY id")).all()
    engine.dispose()
    assert [key for _id, key in stored] == [None, "domain:partner.example", None, "address:b@partner.example"]
    store = Store.open(url)
    try:
        with store.session() as session:
            again = approvals.approve(session, pattern="partner.example", reason="r", actor="U2")
            assert not again.created and again.approval.id == stored[1][0]
    finally:
        store.dispose()
