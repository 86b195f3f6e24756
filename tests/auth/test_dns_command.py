"""`bouncebot dns` and `/bounce dns` against the real NSD (and the Slack app over real HTTP)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.cli import main
from bot.slash import parse_bounce
from bot.store import Store
from tests.auth.nsd import Nsd
from tests.slack.conftest import fake, slack_store
from tests.slack.fakes import AppServer, FakeSlackAPI, serve_app, slash_command, test_settings

__all__ = ["fake", "slack_store"]  # fixtures used below


@pytest.fixture
def dns_env(nsd_server: Nsd, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Nsd:
    monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "127.0.0.1")
    monkeypatch.setenv("BOUNCEBOT_DNS_PORT", str(nsd_server.port))
    monkeypatch.setenv("BOUNCEBOT_DNS_TIMEOUT", "0.5")
    monkeypatch.setenv("BOUNCEBOT_OUTBOUND_IPS", "203.0.113.10,203.0.113.20")
    monkeypatch.setenv("BOUNCEBOT_DKIM_SELECTORS", "sel1")
    monkeypatch.setenv("BOUNCEBOT_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.chdir(tmp_path)
    return nsd_server


def test_cli_lines_for_every_check(dns_env: Nsd, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dns", "corp.example", "--ip", "192.0.2.9", "--no-blacklists"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0] for line in out.splitlines()[2:] if line and not line.startswith(" ")}
    assert {"MX", "SPF", "DMARC", "DKIM", "PTR"} <= lines
    assert "the mail left from 192.0.2.9, which it does not cover" in out and "fix: Add `ip4:192.0.2.9`" in out
    assert "sel1._domainkey.corp.example: rsa 2048 bits" in out


def test_cli_defaults_to_our_outbound_ips_and_checks_block_lists(dns_env: Nsd,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dns", "someone@corp.example", "--json"]) == 0
    health = json.loads(capsys.readouterr().out)
    assert health["domain"] == "corp.example" and health["ips"] == ["203.0.113.10", "203.0.113.20"]
    spf = [a["spf"]["result"] for a in health["authentication"]]
    ptr = [a["ptr"]["forward_confirmed"] for a in health["authentication"]]
    assert spf == ["pass", "pass"] and ptr == [True, False]
    assert {r["target"] for r in health["blacklists"]} == {"203.0.113.10", "203.0.113.20", "corp.example"}
    # the test server refuses the block-list zones: unknown, never listed nor clean
    assert all(r["result"] in ("unknown", "not_applicable") for r in health["blacklists"])
    assert any(x["check"] == "dnsbl" and x["verdict"] == "unknown" for x in health["lines"])


def test_cli_null_mx_and_bad_input(dns_env: Nsd, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dns", "nullmx.example", "--no-blacklists"]) == 0
    assert "null MX" in capsys.readouterr().out
    assert main(["dns", "not a domain!"]) == 2
    assert "is not a domain" in capsys.readouterr().err
    assert main(["dns", "corp.example", "--ip", "300.1.1.1"]) == 2
    assert main(["dns", "corp.example", "--selector", "bad selector"]) == 2


@pytest.mark.parametrize(("text", "kind", "target", "ip", "error"), [
    ("dns corp.example", "dns", "corp.example", None, None),
    ("dns corp.example 192.0.2.9", "dns", "corp.example", "192.0.2.9", None),
    ("dns", "invalid", None, None, "takes a domain"),
    ("dns corp.example notanip", "invalid", None, None, "not an IP address"),
    ("dns %%% ", "invalid", None, None, "is not a domain"),
])
def test_slash_parsing(text: str, kind: str, target: str | None, ip: str | None, error: str | None) -> None:
    parsed = parse_bounce(text)
    assert (parsed.kind, parsed.dns_target, parsed.dns_ip) == (kind, target, ip)
    assert error is None or error in (parsed.error or "")


@pytest.fixture
def live_server(db_url: str, fake: FakeSlackAPI, slack_store: Store, nsd_server: Nsd) -> Iterator[AppServer]:
    settings = test_settings(db_url, fake, dns_nameservers=("127.0.0.1",), dns_port=nsd_server.port,
                             dns_timeout=0.5, outbound_ips=("203.0.113.10",))
    with serve_app(settings, store=slack_store, live=True) as served:
        fake.wait_for("auth.test")
        fake.clear()
        yield served


def test_slash_dns_answers_through_the_response_url(live_server: AppServer, fake: FakeSlackAPI) -> None:
    reply = live_server.send(slash_command("dns corp.example 192.0.2.9", response_url=fake.response_url()))
    assert reply.status == 200 and b"DNS health" in reply.body
    (answer,) = fake.wait_for("response_url")
    body = json.dumps(answer.params)
    assert "corp.example publishes `v=spf1 ip4:203.0.113.0/24 -all`" in body and "ip4:192.0.2.9" in body
    assert len(answer.params["blocks"]) <= 50


def test_slash_dns_bad_input_is_ephemeral_usage(live_server: AppServer, fake: FakeSlackAPI) -> None:
    reply = live_server.send(slash_command("dns corp.example nope", response_url=fake.response_url()))
    assert b"not an IP address" in reply.body and b"dns DOMAIN [IP]" in reply.body


def test_cli_selectors_from_pasted_headers_and_an_ip_target(dns_env: Nsd, tmp_path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    message = tmp_path / "returned.eml"
    message.write_text("DKIM-Signature: v=1; a=rsa-sha256; d=corp.example; s=short; h=from; bh=x; b=y\n"
                       "DKIM-Signature: v=1; a=rsa-sha256; d=esp.example; s=other; h=from; bh=x; b=y\n\nbody\n")
    assert main(["dns", "corp.example", "--headers", str(message), "--no-blacklists", "--json"]) == 0
    dkim = json.loads(capsys.readouterr().out)["authentication"][0]["dkim"]
    assert [(d["selector"], d["found"]) for d in dkim] == [("short", False), ("sel1", True)]
    assert main(["dns", "203.0.113.20", "--no-blacklists"]) == 0
    out = capsys.readouterr().out
    assert "does not resolve back to 203.0.113.20" in out and "SPF" not in out
