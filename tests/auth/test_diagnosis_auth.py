"""The diagnosis runs the checks for authentication findings and states the concrete fault.

The dev Postfix scenario's authentication case (Gmail's 5.7.26 DMARC refusal of northwind-traders.example's
mail) against an NSD that serves the domain's records as a misconfigured sender would publish them; a
requireptr and an SPF refusal of inbound mail on hand-built events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.auth import AuthChecker
from bot.config import Settings
from bot.diagnosis import diagnose
from bot.events import TrackingEvent
from bot.ingest.runner import Ingestor
from bot.render.blocks import render_blocks
from bot.render.text import render_text
from bot.store import Store
from bot.targets import parse_target
from storage import queries
from tests.auth.nsd import SOA, Nsd, serving, txt
from tests.support import shared_path

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OUR_IP = "203.0.113.45"  # what the scenario's remotes quote as ours

SCENARIO_ZONES = {
    "northwind-traders.example": SOA + f"""
@ {txt('v=spf1 ip4:198.51.100.0/24 include:_spf.mailer.example -all')}
_dmarc {txt('v=DMARC1; p=reject; rua=mailto:dmarc@northwind-traders.example')}
mx1 A {OUR_IP}
""",
    "mailer.example": SOA + f"_spf {txt('v=spf1 ip4:192.0.2.0/25 ~all')}\n",
    "partner.example": SOA + f"@ {txt('v=spf1 ip4:198.51.100.0/24 -all')}\n",
    "113.0.203.in-addr.arpa": SOA + "45 PTR mx1.northwind-traders.example.\n",
    "saigon-imports.example": SOA + f"@ {txt('v=spf1 mx -all')}\n@ MX 10 mail\nmail A 127.0.1.29\n",
    # the scenario's clients are loopback addresses: .41 has a PTR that does not resolve back, .40 none
    "isp.example": SOA + "dsl-41 A 127.0.1.99\n",
    "1.0.127.in-addr.arpa": SOA + "29 PTR mail.saigon-imports.example.\n41 PTR dsl-41.isp.example.\n",
}

#: Postfix's reject_unknown_client_hostname, as the dev scenario's Postfix writes its rejects (two clients).
PTR_REJECTS = """\
Nov 30 06:27:10 mx1 postfix/smtpd[664]: NOQUEUE: reject: RCPT from unknown[127.0.1.40]: 450 4.7.25 Client host \
rejected: cannot find your hostname, [127.0.1.40]; from=<t.nguyen@saigon-imports.example> \
to=<ines.larsen@northwind-traders.example> proto=ESMTP helo=<mail.saigon-imports.example>
Nov 30 06:27:12 mx1 postfix/smtpd[664]: NOQUEUE: reject: RCPT from unknown[127.0.1.41]: 550 5.7.25 Client host \
rejected: cannot find your hostname, [127.0.1.41]; from=<sales@saigon-imports.example> \
to=<ines.larsen@northwind-traders.example> proto=ESMTP helo=<dsl-41.isp.example>
"""


@pytest.fixture(scope="module")
def scenario_dns() -> Iterator[Nsd]:
    with serving(SCENARIO_ZONES) as server:
        yield server


def _settings(server: Nsd) -> Settings:
    return Settings(outbound_ips=(OUR_IP,), dns_nameservers=("127.0.0.1",), dns_port=server.port, dns_timeout=1.0)


def _case(letter: str) -> dict[str, Any]:
    cases = json.loads(shared_path("corpus", "postfix", "dev-expected.json").read_text())
    return next(c for c in cases if c["case"] == letter)


def test_dev_scenario_dmarc_refusal_names_the_spf_fault(store: Store, scenario_dns: Nsd) -> None:
    case = _case("n")
    Ingestor(store, "postfix").ingest(shared_path("corpus", "postfix", "dev-maillog.log"))
    settings = _settings(scenario_dns)
    with store.session() as session:
        d = diagnose(session, parse_target(case["sender"]), settings=settings, since=LONG_AGO,
                     auth_checker=AuthChecker.from_settings(settings))
    assert (d.verdict.cause, d.verdict.reason) == (case["expected_cause"], case["expected_reason"])
    auth = d.authentication
    assert auth is not None and auth["domain"] == "northwind-traders.example" and auth["ip"] == OUR_IP
    assert auth["spf"]["result"] == "fail" and auth["spf"]["mechanism"] == "-all" and auth["spf"]["lookups"] == 1
    assert auth["dmarc"]["policy"] == "reject" and auth["dmarc"]["aligned_spf"] is False
    assert auth["ptr"]["forward_confirmed"] is True and auth["mx"]["domain"] == "gmail.com"
    assert auth["mx"]["verdict"] == "unknown"  # our test server refuses gmail.com: unknown, not a failure
    top = d.findings[0]
    fault = ("northwind-traders.example publishes `v=spf1 ip4:198.51.100.0/24 include:_spf.mailer.example -all`; "
             f"the mail left from {OUR_IP}, which it does not cover")
    assert fault in top.facts[0] and fault in d.verdict.text
    assert f"`ip4:{OUR_IP}`" in top.next_steps[0]
    text = render_text(d)
    assert "Authentication and DNS (live" in text and "PROBLEM" in text
    blocks = render_blocks(d)
    assert len(blocks) <= 50 and any("SPF" in b.get("text", {}).get("text", "") for b in blocks)
    assert json.loads(json.dumps(d.to_json()))["authentication"]["spf"]["result"] == "fail"
    _has_the_documented_fields(auth)


def _has_the_documented_fields(auth: dict[str, Any]) -> None:
    """The fields docs/diagnosis-json.md promises (more may be there)."""
    assert {"domain", "ip", "spf", "dmarc", "dkim", "ptr", "mx"} <= set(auth)
    assert {"record", "result", "mechanism", "lookups", "error"} <= set(auth["spf"])
    assert {"record", "policy", "subdomain_policy", "aligned_spf", "error"} <= set(auth["dmarc"])
    assert all({"selector", "found", "error"} <= set(d) for d in auth["dkim"])
    assert {"ip", "names", "forward_confirmed", "error"} <= set(auth["ptr"])
    assert {"domain", "hosts", "error"} <= set(auth["mx"])


def test_no_live_skips_the_checks(store: Store) -> None:
    Ingestor(store, "postfix").ingest(shared_path("corpus", "postfix", "dev-maillog.log"))
    with store.session() as session:
        d = diagnose(session, parse_target(_case("n")["sender"]), settings=Settings(), since=LONG_AGO)
    assert d.authentication is None and d.to_json()["authentication"] is None


def ev(key: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        time=NOW - timedelta(minutes=5), source="test", source_key=key, direction="inbound",
        disposition="rejected", sender="alice@partner.example", recipient="bob@ours.example",
        client_ip="203.0.113.30", rejected_by="gateway", smtp_code=550)
    base.update(kw)
    return TrackingEvent(**base).as_row()


def _diagnose(store: Store, server: Nsd, rows: list[dict[str, Any]], target: str) -> Any:
    with store.session() as s:
        queries.insert_events(s, rows)
        s.commit()
    settings = _settings(server)
    with store.session() as s:
        return diagnose(s, parse_target(target), settings=settings, now=NOW,
                        auth_checker=AuthChecker.from_settings(settings))


def test_inbound_without_ptr_says_so(store: Store, scenario_dns: Nsd) -> None:
    d = _diagnose(store, scenario_dns, [ev("p1", cause="gateway_policy", reason="requireptr", enhanced_status="5.7.25",
                                           reply_text="Client host rejected: cannot find your hostname")],
                  "alice@partner.example")
    auth = d.authentication
    assert auth["ip"] == "203.0.113.30" and auth["ptr"]["forward_confirmed"] is False and auth["ptr"]["names"] == []
    assert any("203.0.113.30 has no PTR record" in f for f in d.findings[0].facts)
    assert auth["spf"]["result"] == "fail"  # partner.example's SPF does not cover the client either


def test_policy_rejection_with_spf_wording_runs_the_checks(store: Store, scenario_dns: Nsd) -> None:
    reply = "Message rejected due to SPF policy: sender 198.51.100.9 is permitted"
    d = _diagnose(store, scenario_dns, [ev("s1", client_ip="198.51.100.9", cause="gateway_policy",
                                           reason="policyviolation", reply_text=reply)], "alice@partner.example")
    auth = d.authentication
    assert auth["spf"]["result"] == "pass"
    assert auth["ptr"]["forward_confirmed"] is None  # the reverse zone is not served here: unknown
    assert any("Nothing wrong is published now" in f or "Could not be checked" in f for f in d.findings[0].facts)
    assert not any("PROBLEM" in line for line in render_text(d).splitlines() if "PTR" in line)


def test_unrelated_findings_run_no_checks(store: Store, scenario_dns: Nsd) -> None:
    d = _diagnose(store, scenario_dns, [ev("u1", cause="invalid_recipient", reason="userunknown",
                                           reply_text="User unknown in local recipient table")],
                  "alice@partner.example")
    assert d.authentication is None


@pytest.mark.parametrize(("sender", "ip", "fault"), [
    ("t.nguyen@saigon-imports.example", "127.0.1.40", "127.0.1.40 has no PTR record"),
    ("sales@saigon-imports.example", "127.0.1.41", "dsl-41.isp.example, which does not resolve back to 127.0.1.41"),
])
def test_postfix_ptr_rejects_name_the_reverse_dns_fault(store: Store, scenario_dns: Nsd, tmp_path, sender: str,
                                                        ip: str, fault: str) -> None:
    log = tmp_path / "maillog"
    log.write_text(PTR_REJECTS)
    Ingestor(store, "postfix").ingest(log)
    settings = _settings(scenario_dns)
    with store.session() as session:
        d = diagnose(session, parse_target(sender), settings=settings, since=LONG_AGO,
                     auth_checker=AuthChecker.from_settings(settings))
    assert d.verdict.reason == "requireptr", d.verdict.text
    auth = d.authentication
    assert auth["ip"] == ip and auth["ptr"]["forward_confirmed"] is False
    assert any(fault in fact for fact in d.findings[0].facts)
    assert auth["spf"]["result"] == "fail" and auth["spf"]["mechanism"] == "-all"  # `mx` covers only .29
    assert "  PTR    PROBLEM " in render_text(d)


def test_a_bad_resolver_setting_is_said_not_raised(store: Store) -> None:
    settings = Settings(dns_nameservers=("not-an-ip",))
    with store.session() as s:
        queries.insert_events(s, [ev("c1", cause="gateway_policy", reason="requireptr",
                                     reply_text="Client host rejected: cannot find your hostname")])
        s.commit()
    with store.session() as s:
        d = diagnose(s, parse_target("alice@partner.example"), settings=settings, now=NOW, checker=_NoLists())
    assert d.authentication is None
    assert any("could not run" in f and "BOUNCEBOT_DNS_NAMESERVERS" in f for f in d.findings[0].facts)


class _NoLists:
    """A live diagnosis whose block-list checker has nothing to say (this test is about the auth checks)."""

    def check(self, targets: list[str]) -> list[Any]:
        return []

    def zone_named(self, text: str) -> str | None:
        return None
