"""Options where people put them, refusals that explain, and texts that say where things are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.demo import sample_path
from bot.ingest.runner import Ingestor
from bot.store import Store

SENDER = "info@cheap-pills.example"     # blocked on zen.spamhaus.org in the bundled sample


@pytest.fixture
def loaded(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("BOUNCEBOT_DATABASE_URL", "BOUNCEBOT_RETENTION_DAYS", "BOUNCEBOT_DNS_NAMESERVERS"):
        monkeypatch.delenv(name, raising=False)
    store = Store.open(sqlite_url)
    Ingestor(store, "postfix").ingest(sample_path())
    store.dispose()
    return sqlite_url


@pytest.mark.parametrize("argv", [
    ["--database", "{url}", "--json", "events", SENDER, "--since", "100000d"],
    ["events", SENDER, "--since", "100000d", "--json", "--database", "{url}"],
    ["events", "--database", "{url}", "-v", SENDER, "--since", "100000d", "--json"],
])
def test_global_options_before_or_after_the_command(loaded: str, capsys: pytest.CaptureFixture[str],
                                                    argv: list[str]) -> None:
    assert main([a.replace("{url}", loaded) for a in argv]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and {r["sender"] for r in rows} == {SENDER}


def test_global_options_reach_nested_commands(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cases", "list", "--database", loaded, "--json"]) == 0
    assert main(["--json", "approved", "list", "--database", loaded]) == 0
    assert capsys.readouterr().out == ""                     # nothing approved, no case: no JSON lines


def test_json_where_it_does_not_apply_is_said(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "--database", loaded, "purge"]) == 2
    assert "--json does not apply to `bouncebot purge`" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["why", SENDER, "--since", "1d", "--until", "7d"], "is not before --until"),
    (["purge", "--older-than", "0d"], "would delete every event"),
])
def test_an_inverted_window_or_an_empty_age_is_refused(loaded: str, capsys: pytest.CaptureFixture[str],
                                                       argv: list[str], said: str) -> None:
    assert main(["--database", loaded, *argv]) == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["events", SENDER, "--limit", "0"], "must be at least 1, got 0"),
    (["audit", "--limit", "-3"], "must be at least 1, got -3"),
    (["cases", "list", "--limit", "0"], "must be at least 1"),
])
def test_a_limit_below_one_is_a_usage_error(loaded: str, capsys: pytest.CaptureFixture[str], argv: list[str],
                                            said: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--database", loaded, *argv])
    assert exited.value.code == 2 and said in capsys.readouterr().err


def test_a_negative_retention_is_refused(loaded: str, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNCEBOT_RETENTION_DAYS", "-5")
    assert main(["--database", loaded, "purge"]) == 1
    assert "BOUNCEBOT_RETENTION_DAYS must be at least 1 (days), got -5" in capsys.readouterr().err


def test_no_live_does_not_promise_results_below(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", loaded, "why", SENDER, "--since", "100000d", "--no-live"]) == 0
    out = capsys.readouterr().out
    assert "Block lists (live)" not in out and "results below" not in out
    assert "not checked live this time" in out
    assert out.index("“") < out.index("next steps:")        # the reply text is above the steps that cite it


def test_numbers_read_naturally(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", loaded, "events", SENDER, "--since", "100000d", "--limit", "1"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("1 event (limit reached)")
