"""A resolver that does not answer makes every zone fail the same way: said once, naming the resolver.

Real DNS over loopback: a port nothing listens on (every question times out), and the real rbldnsd (the
zones answer: no resolver note). The grouping rules are checked on result tables.
"""

from __future__ import annotations

import pytest

from bot.blacklists.failures import common_failure, failure_kind, resolver_problem
from bot.cli import main
from bot.config import Settings
from bot.diagnosis import diagnose
from bot.diagnosis.live import checker_from_settings
from bot.render.text import render_text
from bot.targets import parse_target
from tests.blacklists.rbldnsd import LISTED_IP
from tests.support import free_port


def _row(zone: str, result: str, why: str = "") -> dict[str, str]:
    return {"zone": zone, "result": result, "why": why, "target": "192.0.2.1"}


def test_the_same_failure_everywhere_is_one_resolver_problem() -> None:
    rows = [_row("a.example", "unknown", "timed out: no answer within 2 s"),
            _row("b.example", "unknown", "timed out: no answer within 1 s; not asked again for 50 s"),
            _row("c.example", "not_applicable", "this list has IPv4 addresses only"),
            _row("d.example", "unknown", "this list needs a key and none is configured")]
    assert failure_kind(rows[0]["why"]) == failure_kind(rows[1]["why"])
    assert common_failure(rows) == "timed out: no answer within 2 s"
    said = resolver_problem(rows, "127.0.0.1 port 5300 (BOUNCEBOT_DNS_NAMESERVERS)")
    assert said and "resolver 127.0.0.1 port 5300 (BOUNCEBOT_DNS_NAMESERVERS) is the likely problem" in said


@pytest.mark.parametrize("rows", [
    [_row("a.example", "unknown", "timed out: no answer within 2 s"), _row("b.example", "not_listed")],
    [_row("a.example", "unknown", "timed out: no answer within 2 s"),
     _row("b.example", "unknown", "the server answered REFUSED")],
    [_row("a.example", "unknown", "timed out: no answer within 2 s")],           # one zone says nothing general
    [_row("a.example", "unknown", "this list is broken: it lists 127.0.0.1"),
     _row("b.example", "unknown", "this list is broken: it lists 127.0.0.1")],  # the zones' own fault
])
def test_no_resolver_note_when_a_zone_answered_or_the_failures_differ(rows) -> None:
    assert resolver_problem(rows, "x") is None


@pytest.fixture
def silent_resolver(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "127.0.0.1")
    monkeypatch.setenv("BOUNCEBOT_DNS_PORT", str(free_port()))
    monkeypatch.setenv("BOUNCEBOT_DNS_TIMEOUT", "0.3")
    monkeypatch.delenv("BOUNCEBOT_DNSBL_ZONES", raising=False)
    monkeypatch.delenv("BOUNCEBOT_SPAMHAUS_DQS_KEY", raising=False)


def test_cli_names_the_resolver_once_when_it_does_not_answer(silent_resolver, capsys) -> None:
    assert main(["blacklist", "192.0.2.66"]) == 0
    out = " ".join(capsys.readouterr().out.split())   # the note is wrapped to the width
    assert out.count("is the likely problem") == 1
    assert "the resolver 127.0.0.1 port" in out and "(BOUNCEBOT_DNS_NAMESERVERS)" in out
    assert "listed on 0 of 9 lists; 9 could not be checked" in out


@pytest.mark.rbldnsd
def test_cli_says_nothing_of_the_resolver_when_the_zones_answer(monkeypatch, tmp_path, rbldnsd_server,
                                                                 capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "127.0.0.1")
    monkeypatch.setenv("BOUNCEBOT_DNS_PORT", str(rbldnsd_server.port))
    monkeypatch.delenv("BOUNCEBOT_DNSBL_ZONES", raising=False)
    assert main(["blacklist", LISTED_IP]) == 0
    assert "likely problem" not in capsys.readouterr().out


def test_why_says_each_failure_once(silent_resolver, store, capsys) -> None:
    settings = Settings.from_env()
    with store.session() as session:
        d = diagnose(session, parse_target("192.0.2.66"), settings=settings, checker=checker_from_settings(settings))
    text = render_text(d)
    why = "timed out: no answer within 0.3 s"
    rows = [line for line in text.splitlines() if line.startswith("  192.0.2.66 ")]
    assert rows and all(why in line for line in rows)
    notes = "\n".join(d.blacklist_notes)
    assert notes.count(why) == 2           # once in the grouped "Could not be checked", once in the resolver note
    assert notes.count("is the likely problem") == 1
