"""The approved-senders export: the three formats, atomic rewrite on every change, and a real postmap run."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

from bot import approvals, audit, export
from bot.store import Store
from bot.timeutil import utcnow
from storage.models import ApprovedSender
from tests.records.helpers import run_concurrently, settings
from tests.support import require_binary


def _approve_two(session, now=None):
    now = now or utcnow()
    approvals.approve(session, pattern="partner.example", reason="our partner\nevil.example OK", actor="U1",
                      now=now)
    approvals.approve(session, pattern="alice@other.example", reason="invoices", actor="U2",
                      expires_at=now + timedelta(days=30), now=now)


def _entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_postfix_map_lists_address_and_domain_with_comments(store: Store):
    with store.session() as session:
        _approve_two(session)
        result, text = export.export_active(session, path=None, fmt="postfix")
    assert result.count == 2 and result.path is None
    assert _entries(text) == ["partner.example OK", "alice@other.example OK"]
    assert "approved by U2" in text and "until " in text and "reason: invoices" in text
    # A newline in a reason stays inside the comment: it never becomes an entry of the map.
    assert "reason: our partner evil.example OK" in text


def test_csv_has_hosted_gateway_patterns(store: Store):
    with store.session() as session:
        _approve_two(session)
        _result, text = export.export_active(session, path=None, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["sender"] for r in rows] == ["*@partner.example", "alice@other.example"]
    assert rows[1]["approved_by"] == "U2" and rows[1]["expires_at"]
    assert rows[0]["reason"] == "our partner evil.example OK"


def test_tmems_list_says_where_to_paste(store: Store):
    with store.session() as session:
        _approve_two(session)
        _result, text = export.export_active(session, path=None, fmt="tmems")
    assert "Inbound Protection > Connection Filtering > Sender Filter" in text
    assert _entries(text) == ["*@partner.example", "alice@other.example"]


def test_expired_and_removed_are_not_exported(store: Store):
    now = utcnow()
    with store.session() as session:
        _approve_two(session, now)
        approvals.remove(session, pattern="partner.example", actor="U3")
        _result, text = export.export_active(session, path=None, fmt="postfix", now=now + timedelta(days=31))
    assert _entries(text) == []


def test_unknown_format_and_missing_folder_are_clear_errors(store: Store, tmp_path: Path):
    with store.session() as session:
        with pytest.raises(export.ExportError, match="unknown export format"):
            export.export_active(session, path=None, fmt="sendmail")
        with pytest.raises(export.ExportError, match="does not exist"):
            export.export_active(session, path=tmp_path / "nope" / "map", fmt="postfix")
        with pytest.raises(export.ExportError, match="only applies to the postfix"):
            export.export_active(session, path=tmp_path / "x.csv", fmt="csv", postmap=("postmap",))


def test_postmap_builds_a_map_postfix_can_query(store: Store, tmp_path: Path):
    postmap = require_binary("postmap")
    target = tmp_path / "approved_senders"
    with store.session() as session:
        _approve_two(session)
        result, _text = export.export_active(session, path=target, fmt="postfix",
                                             postmap=export.find_postmap(None))
    assert result.postmap is not None and result.postmap[-1] == str(target)

    def query(key: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([postmap, "-q", key, str(target)], capture_output=True, text=True, check=False)

    assert query("alice@other.example").stdout.strip() == "OK"
    assert query("partner.example").stdout.strip() == "OK"
    assert query("evil.example").returncode == 1  # not found: the injected line is only a comment


def test_failing_postmap_is_a_clear_error(store: Store, tmp_path: Path):
    with store.session() as session, pytest.raises(export.ExportError, match="postmap failed"):
        export.export_active(session, path=tmp_path / "m", fmt="postfix", postmap=("false",))


def test_configured_export_is_rewritten_on_approve_remove_and_expire(store: Store, tmp_path: Path):
    require_binary("postmap")
    target = tmp_path / "access"
    s = settings(approved_export_path=str(target), approved_export_format="postfix", postmap_command="auto")
    now = utcnow()
    with store.session() as session:
        approvals.approve(session, pattern="a@partner.example", reason="r", actor="U1", settings=s, now=now,
                          expires_at=now + timedelta(hours=1))
        assert _entries(target.read_text()) == ["a@partner.example OK"]
        assert Path(f"{target}.db").exists()  # postmap ran
        approvals.approve(session, pattern="partner.example", reason="r", actor="U1", settings=s, now=now)
        assert _entries(target.read_text()) == ["partner.example OK", "a@partner.example OK"]
        approvals.remove(session, pattern="partner.example", actor="U1", settings=s)
        assert _entries(target.read_text()) == ["a@partner.example OK"]
        approvals.expire_due(session, now=now + timedelta(hours=2), settings=s)
        assert _entries(target.read_text()) == []
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_configured_csv_export(store: Store, tmp_path: Path):
    target = tmp_path / "approved.csv"
    s = settings(approved_export_path=str(target), approved_export_format="csv")
    with store.session() as session:
        approvals.approve(session, pattern="partner.example", reason="r", actor="U1", settings=s)
    assert "*@partner.example" in target.read_text()


def test_export_failure_keeps_the_approval_and_is_audited(store: Store, tmp_path: Path):
    s = settings(approved_export_path=str(tmp_path / "access"), postmap_command="false")
    with store.session() as session:
        outcome = approvals.approve(session, pattern="partner.example", reason="r", actor="U1", settings=s)
        assert outcome.created and outcome.export_error and "postmap failed" in outcome.export_error
        assert approvals.is_approved(session, "x@partner.example") is not None
        failed = audit.list_entries(session, action="export")
        assert [(e.actor, e.outcome) for e in failed] == [("system", "failed")]


def test_concurrent_changes_leave_the_newest_list_in_the_file(store: Store, tmp_path: Path):
    target = tmp_path / "access"
    s = settings(approved_export_path=str(target))
    run_concurrently(store, 10, lambda session, i: approvals.approve(
        session, pattern=f"user{i}@partner.example", reason="r", actor=f"U{i}", settings=s))
    assert len(_entries(target.read_text())) == 10


def test_outcomes_stay_readable_after_the_session_closes(store: Store, tmp_path: Path):
    s = settings(approved_export_path=str(tmp_path / "access"))
    with store.session() as session:
        made = approvals.approve(session, pattern="a@partner.example", reason="r", actor="U1", settings=s)
    with store.session() as session:
        gone = approvals.remove(session, pattern="a@partner.example", actor="U2", settings=s)
    # The Slack layer reads the outcome after its session is closed.
    assert made.approval.pattern == "a@partner.example" and made.approval.approved_by == "U1"
    assert gone.approval.removed_by == "U2" and gone.approval.pattern == "a@partner.example"


@settings_h(max_examples=200, deadline=None)
@given(reasons=st.lists(st.text(max_size=80), min_size=1, max_size=5), actor=st.text(min_size=1, max_size=64))
def test_no_reason_or_actor_text_can_add_an_entry_to_the_map(reasons: list[str], actor: str):
    now = utcnow()
    rows = [ApprovedSender(id=i, pattern=f"user{i}@partner.example", kind="address", reason=reason,
                           approved_by=actor, created_at=now) for i, reason in enumerate(reasons)]
    text = export.render(rows, "postfix", now=now)
    assert _entries(text) == [f"user{i}@partner.example OK" for i in range(len(rows))]
    parsed = list(csv.reader(io.StringIO(export.render(rows, "csv", now=now))))
    assert [r[0] for r in parsed[1:]] == [f"user{i}@partner.example" for i in range(len(rows))]
