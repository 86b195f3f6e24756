"""`bouncebot blacklist` through main(), against the real rbldnsd: table, --json, --health, bad input."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.blacklists.rbldnsd import CLEAN_IP, LISTED_IP

pytestmark = pytest.mark.rbldnsd


@pytest.fixture
def env(monkeypatch, tmp_path, rbldnsd_server):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "127.0.0.1")
    monkeypatch.setenv("BOUNCEBOT_DNS_PORT", str(rbldnsd_server.port))
    monkeypatch.setenv("BOUNCEBOT_DNS_TIMEOUT", "1")
    monkeypatch.delenv("BOUNCEBOT_DNSBL_ZONES", raising=False)
    monkeypatch.delenv("BOUNCEBOT_SPAMHAUS_DQS_KEY", raising=False)


def test_table(env, capsys):
    assert main(["blacklist", LISTED_IP, "dbltest.com"]) == 0  # listed is a finding, not an error
    out = capsys.readouterr().out
    zen = next(line for line in out.splitlines() if line.startswith(LISTED_IP) and "zen.spamhaus.org" in line)
    assert "listed" in zen and "127.0.0.3 127.0.0.4" in zen and "CSS listing for 192.0.2.99" in zen
    assert f"{LISTED_IP}: listed on 4 of 9 lists" in out
    assert "dbltest.com: listed on 1 of 3 lists (dbl.spamhaus.org)" in out
    assert "https://check.spamhaus.org/results/?query=192.0.2.99" in out


def test_json(env, capsys):
    assert main(["blacklist", "--json", CLEAN_IP, "2001:db8::1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["target"] for r in rows} == {CLEAN_IP, "2001:db8::1"}
    for row in rows:
        assert {"target", "zone", "result", "codes", "meaning", "txt", "why", "ms"} <= set(row)
        assert row["result"] in ("not_listed", "not_applicable")


def test_health(env, capsys):
    assert main(["blacklist", "--health", "--json"]) == 0
    verdicts = json.loads(capsys.readouterr().out)
    assert len(verdicts) == 12 and {v["state"] for v in verdicts} == {"ok"}
    assert main(["blacklist", "--health"]) == 0
    assert "zen.spamhaus.org" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["blacklist"], "give at least one IP address or domain, or --health"),
    (["blacklist", "not an ip"], "not an IP address or a domain: 'not an ip'"),
    (["blacklist", ""], "empty target"),
    (["blacklist", "--timeout", "0", CLEAN_IP], "--timeout must be positive"),
])
def test_bad_input_exits_2_with_one_line(env, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_zones_file_exits_1(env, capsys, tmp_path):
    path = tmp_path / "zones.json"
    path.write_text("{oops")
    assert main(["blacklist", "--zones", str(path), CLEAN_IP]) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_bad_nameserver_setting_exits_1(env, capsys, monkeypatch):
    monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "dns.example")
    assert main(["blacklist", CLEAN_IP]) == 1
    assert "BOUNCEBOT_DNS_NAMESERVERS" in capsys.readouterr().err


def test_health_and_targets_as_one_json_document(env, capsys):
    assert main(["blacklist", "--health", "--json", LISTED_IP]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {v["state"] for v in data["health"]} == {"ok"}
    assert any(r["result"] == "listed" for r in data["results"])
