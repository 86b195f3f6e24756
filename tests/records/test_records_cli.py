"""`bouncebot approved|cases|audit` end to end through main(), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot import cases
from bot.cli import main
from bot.store import Store
from tests.support import require_binary


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `bouncebot --database URL ARGS...` as user "tester"; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("BOUNCEBOT_APPROVED_EXPORT_PATH", "BOUNCEBOT_APPROVED_EXPORT_FORMAT", "BOUNCEBOT_POSTMAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOGNAME", "tester")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--database", db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_approved_add_list_remove_and_audit(cli):
    code, out, _ = cli("approved", "add", "Alice@Partner.example", "--reason", "invoices", "--expires", "30d")
    assert code == 0 and "approved address alice@partner.example" in out
    code, out, _ = cli("approved", "add", "alice@partner.example", "--reason", "again")
    assert code == 0 and "already approved" in out and "cli:tester" in out
    cli("approved", "add", "*@partner2.example", "--reason", "x")
    code, out, _ = cli("approved", "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {(r["pattern"], r["kind"], r["approved_by"]) for r in rows} == {
        ("alice@partner.example", "address", "cli:tester"), ("partner2.example", "domain", "cli:tester")}
    assert next(r for r in rows if r["kind"] == "address")["expires_at"] is not None
    code, out, _ = cli("approved", "remove", "partner2.example")
    assert code == 0 and "removed domain partner2.example" in out
    code, out, _ = cli("approved", "remove", "partner2.example")
    assert code == 0 and "already removed by cli:tester" in out
    code, out, _ = cli("approved", "list")
    assert "alice@partner.example" in out and "partner2.example" not in out
    code, out, _ = cli("approved", "list", "--all")
    assert "partner2.example" in out and "removed" in out
    code, out, _ = cli("audit", "--json")
    entries = [json.loads(line) for line in out.splitlines()]
    assert [(e["action"], e["outcome"]) for e in reversed(entries)] == [
        ("approve", "done"), ("approve", "duplicate"), ("approve", "done"), ("remove", "done"),
        ("remove", "duplicate")]
    assert {e["actor"] for e in entries} == {"cli:tester"}
    code, out, _ = cli("audit", "--since", "1h")
    assert code == 0 and "5 entries" in out


@pytest.mark.parametrize("args", [
    ("approved", "add", "not a pattern", "--reason", "x"),
    ("approved", "add", "a@b.example", "--reason", "x", "--expires", "soon"),
    ("approved", "remove", "nobody.example"),
    ("approved", "remove", "#abc"),
    ("approved", "export", "--postmap"),
    ("cases", "show", "12345"),
    ("cases", "close", "twelve"),
    ("audit", "--since", "yesterday-ish"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("bouncebot ") and "Traceback" not in err


def test_export_formats_to_stdout_and_file_with_postmap(cli, tmp_path: Path):
    postmap = require_binary("postmap")
    cli("approved", "add", "partner.example", "--reason", "r")
    code, out, _ = cli("approved", "export", "--format", "csv")
    assert code == 0 and "*@partner.example" in out
    code, out, _ = cli("approved", "export", "--format", "tmems")
    assert "Sender Filter" in out and "*@partner.example" in out.splitlines()
    target = tmp_path / "access"
    code, out, _ = cli("approved", "export", "--format", "postfix", "--output", str(target), "--postmap")
    assert code == 0 and "ran" in out and "postmap" in out
    query = subprocess.run([postmap, "-q", "partner.example", str(target)], capture_output=True, text=True,
                           check=False)
    assert query.stdout.strip() == "OK"


def test_configured_export_is_rewritten_by_cli_changes(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "approved.csv"
    monkeypatch.setenv("BOUNCEBOT_APPROVED_EXPORT_PATH", str(target))
    monkeypatch.setenv("BOUNCEBOT_APPROVED_EXPORT_FORMAT", "csv")
    cli("approved", "add", "partner.example", "--reason", "r")
    assert "*@partner.example" in target.read_text()
    cli("approved", "remove", "partner.example")
    assert "*@partner.example" not in target.read_text()


def test_cases_list_show_close_reopen(cli, db_url: str):
    store = Store.open(db_url)
    try:
        with store.session() as session:
            case, _ = cases.open_case(session, target="alice@partner.example", title="Blocked", opened_by="U1",
                                      snapshot={"verdict": "gateway_policy"}, request_key="k")
    finally:
        store.dispose()
    code, out, _ = cli("cases", "list")
    assert code == 0 and f"#{case.id}" in out and "Blocked" in out
    code, out, _ = cli("cases", "show", str(case.id), "--json")
    assert json.loads(out)["snapshot"] == {"verdict": "gateway_policy"}
    code, out, _ = cli("cases", "show", f"#{case.id}")
    assert "gateway_policy" in out and "opened_by: U1" in out
    assert "closed" in cli("cases", "close", str(case.id))[1]
    assert "already closed (closed by cli:tester)" in cli("cases", "close", str(case.id))[1]
    assert cli("cases", "list")[1].startswith("no open cases")
    assert f"#{case.id}" in cli("cases", "list", "--status", "closed")[1]
    assert f"case #{case.id} reopened" in cli("cases", "reopen", str(case.id))[1]
    code, out, _ = cli("audit")
    assert "case.close" in out and "case.reopen" in out and "cli:tester" in out
