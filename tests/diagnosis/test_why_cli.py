"""`bouncebot why`, `bouncebot demo` and error handling, through the real entry point."""

from __future__ import annotations

import json

import pytest

from bot.cli import main

REQUIRED = {"target", "window", "summary", "verdict", "findings", "approved_sender", "caveats", "blacklists"}


def test_demo_ingests_the_sample_and_explains(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", db_url, "demo"]) == 0
    out = capsys.readouterr().out
    assert "new events" in out
    assert "Our reputation service" in out and "zen.spamhaus.org" in out
    assert "Invalid recipient" in out and "Mixed history" in out
    assert "On a blacklist the receiving side uses" in out and "postmaster@outlook.com" in out
    assert main(["--database", db_url, "demo"]) == 0  # a second run adds nothing and still answers
    assert "0 new events" in capsys.readouterr().out


def test_why_json_has_the_documented_fields(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--database", db_url, "demo"])
    capsys.readouterr()
    assert main(["--database", db_url, "why", "offers@promo-blast.example", "--since", "3650d", "--json",
                 "--no-live"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= REQUIRED
    assert data["target"] == {"kind": "address", "value": "offers@promo-blast.example"}
    assert data["verdict"]["cause"] == "gateway_policy" and data["findings"][0]["evidence"]


@pytest.mark.parametrize("argv", [["why", "not a target"], ["why", "x@y.example", "--since", "soon"]])
def test_bad_input_is_one_line_exit_2(sqlite_url: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", sqlite_url, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bouncebot why:")


def test_unreachable_store_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", "postgresql://nobody@127.0.0.1:1/none", "why", "a@b.example"]) == 1
    err = capsys.readouterr().err
    assert "unreachable" in err and "Traceback" not in err and err.count("\n") == 1
