"""`bouncebot explain` runs the authentication checks for a bounce refused for authentication or reverse DNS,
against a real NSD serving the sender's records (tests/auth/bounces.py), and states the concrete fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.auth import bounces as b
from tests.auth.nsd import Nsd, serving
from tests.blacklists.dnsproxy import DelayingProxy


@pytest.fixture(scope="module")
def paste_dns() -> Iterator[Nsd]:
    with serving(b.ZONES) as server:
        yield server


@pytest.fixture
def dns_env(paste_dns: Nsd, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Nsd:
    monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "127.0.0.1")
    monkeypatch.setenv("BOUNCEBOT_DNS_PORT", str(paste_dns.port))
    monkeypatch.setenv("BOUNCEBOT_DNS_TIMEOUT", "0.5")
    monkeypatch.setenv("BOUNCEBOT_OUTBOUND_IPS", b.SENT_FROM)
    monkeypatch.delenv("BOUNCEBOT_DKIM_SELECTORS", raising=False)
    monkeypatch.chdir(tmp_path)
    return paste_dns


def explain(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *options: str) -> str:
    path = tmp_path / "bounce.eml"
    path.write_text(text, encoding="utf-8")
    assert main(["explain", str(path), *options]) == 0
    return capsys.readouterr().out


def explain_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> dict[str, Any]:
    return json.loads(explain(tmp_path, capsys, text, "--json"))


def lines_of(auth: dict[str, Any], check: str) -> list[dict[str, str]]:
    return [line for line in auth["lines"] if line["check"] == check]


UNAUTHENTICATED = b.postfix_dsn(b.GMAIL_UNAUTHENTICATED, b.original(
    return_path=f"anna@{b.SENDER}", signatures=((b.SENDER, "s2024"), (b.SENDER, "gone2023"))))


def test_gmail_unauthenticated_names_spf_dkim_and_dmarc_faults(dns_env: Nsd, tmp_path, capsys) -> None:
    result = explain_json(tmp_path, capsys, UNAUTHENTICATED)
    assert result["recipients"][0]["reason"] == "authfailure"
    auth = result["authentication"]
    assert (auth["domain"], auth["domain_source"]) == (b.SENDER, "header_from")
    assert (auth["ip"], auth["ip_source"]) == (b.SENT_FROM, "reply")  # not the answering host's REMOTE_MX
    assert auth["spf"]["result"] == "fail" and auth["spf"]["mechanism"] == "-all"
    (spf,) = lines_of(auth, "spf")
    assert f"the mail left from {b.SENT_FROM}, which it does not cover" in spf["text"]
    assert f"`ip4:{b.SENT_FROM}`" in spf["fix"]
    dkim = {d["selector"]: d for d in auth["dkim"]}
    assert dkim["s2024"]["found"] is True and dkim["s2024"]["key_bits"] == 2048
    assert dkim["gone2023"]["found"] is False
    missing = next(line for line in lines_of(auth, "dkim") if "gone2023" in line["text"])
    assert f"no DKIM key record at gone2023._domainkey.{b.SENDER}" in missing["text"]
    assert f"gone2023._domainkey.{b.SENDER}" in missing["fix"]
    dmarc = auth["dmarc"]
    assert (dmarc["policy"], dmarc["aligned_with"], dmarc["aligned_spf"], dmarc["aligned_dkim"]) == (
        "reject", "header_from", False, True)
    (line,) = lines_of(auth, "dmarc")
    assert line["verdict"] == "problem" and "DMARC p=reject" in line["text"]
    assert f"SPF does not pass aligned with header From {b.SENDER} for {b.SENT_FROM}" in line["text"]
    assert auth["ptr"]["forward_confirmed"] is False and result["authentication_note"] is None


def test_explain_text_has_the_authentication_section(dns_env: Nsd, tmp_path, capsys) -> None:
    out = explain(tmp_path, capsys, UNAUTHENTICATED)
    assert (f"Authentication and DNS (live: header From {b.SENDER}, sending IP {b.SENT_FROM} "
            "(named in the reply))") in out
    assert "SPF    PROBLEM" in out and "DMARC  PROBLEM" in out and "DKIM   ok" in out and "DKIM   PROBLEM" in out
    assert f"fix: Add `ip4:{b.SENT_FROM}`" in out
    assert f"aligned with header From {b.SENDER}" in " ".join(out.split())


def test_dmarc_alignment_is_judged_on_the_header_from(dns_env: Nsd, tmp_path, capsys) -> None:
    """The envelope sender is an ESP whose SPF covers the IP: SPF passes, but not aligned with the From."""
    returned = b.original(return_path=f"bounces-17@{b.ESP}", signatures=((b.ESP, "s2024"),))
    auth = explain_json(tmp_path, capsys, b.postfix_dsn(b.GMAIL_DMARC, returned))["authentication"]
    assert (auth["ip"], auth["ip_source"]) == (b.SENT_FROM, "outbound")  # the reply names no IP
    assert auth["spf"]["domain"] == b.ESP and auth["spf"]["result"] == "pass"
    dmarc = auth["dmarc"]
    assert dmarc["domain"] == b.SENDER and dmarc["spf_domain"] == b.ESP
    assert (dmarc["aligned_spf"], dmarc["aligned_dkim"], dmarc["dkim_domains"]) == (False, False, [b.ESP])
    (line,) = lines_of(auth, "dmarc")
    assert (f"SPF passes for the envelope domain {b.ESP}, which is not aligned with header From {b.SENDER}"
            in line["text"])
    assert f"MAIL FROM (Return-Path) domain under {b.SENDER}" in line["fix"] and "p=reject" in line["fix"]


@pytest.mark.parametrize(("ip", "fault"), [
    (b.SENT_FROM, f"{b.SENT_FROM} has no PTR record"),
    (b.PTR_NO_FCRDNS, f"dsl-78.isp.example, which does not resolve back to {b.PTR_NO_FCRDNS}"),
])
def test_requireptr_bounce_shows_ptr_and_fcrdns(dns_env: Nsd, tmp_path, capsys, ip: str, fault: str) -> None:
    reply = f"450 4.7.25 Client host rejected: cannot find your hostname, [{ip}]"
    text = b.postfix_dsn(reply, b.original(), recipient=f"sales@{b.ESP}", status="4.7.25",
                         remote=f"mx.{b.ESP}", stage="RCPT TO")
    result = explain_json(tmp_path, capsys, text)
    assert result["recipients"][0]["reason"] == "requireptr"
    auth = result["authentication"]
    assert (auth["ip"], auth["ip_source"]) == (ip, "reply")
    assert auth["ptr"]["forward_confirmed"] is False
    (ptr,) = lines_of(auth, "ptr")
    assert fault in ptr["text"] and ptr["verdict"] == "problem"
    assert "  PTR    PROBLEM " in explain(tmp_path, capsys, text)


def test_a_bounce_not_about_authentication_runs_no_checks(dns_env: Nsd, tmp_path, capsys) -> None:
    reply = "550 5.1.1 <dana@gmail.example>: Recipient address rejected: User unknown in virtual mailbox table"
    text = b.postfix_dsn(reply, b.original(signatures=((b.SENDER, "s2024"),)), status="5.1.1", stage="RCPT TO")
    result = explain_json(tmp_path, capsys, text)
    assert result["recipients"][0]["reason"] == "userunknown"
    assert result["authentication"] is None and result["authentication_note"] is None
    assert "Authentication" not in explain(tmp_path, capsys, text)


def test_no_live_skips_the_checks(dns_env: Nsd, tmp_path, capsys) -> None:
    out = explain(tmp_path, capsys, UNAUTHENTICATED, "--json", "--no-live")
    assert json.loads(out)["authentication"] is None


def test_a_resolver_that_times_out_gives_unknown_not_a_failure(paste_dns: Nsd, monkeypatch, tmp_path,
                                                               capsys) -> None:
    proxy = DelayingProxy(paste_dns.port, {b.SENDER: 3.0, "in-addr.arpa": 3.0})
    proxy.start()
    try:
        monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "127.0.0.1")
        monkeypatch.setenv("BOUNCEBOT_DNS_PORT", str(proxy.port))
        monkeypatch.setenv("BOUNCEBOT_DNS_TIMEOUT", "0.3")
        auth = explain_json(tmp_path, capsys, UNAUTHENTICATED)["authentication"]
    finally:
        proxy.stop()
    verdicts = {line["check"]: line["verdict"] for line in auth["lines"]}
    assert set(verdicts.values()) == {"unknown"}, auth["lines"]
    assert auth["spf"]["result"] == "temperror" and auth["dmarc"]["status"] == "unknown"
    assert all(d["found"] is None for d in auth["dkim"]) and auth["ptr"]["forward_confirmed"] is None
    assert all("could not be checked" not in line["text"] or line["verdict"] == "unknown" for line in auth["lines"])


def test_a_bad_resolver_setting_is_said_not_raised(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("BOUNCEBOT_DNS_NAMESERVERS", "not-an-ip")
    result = explain_json(tmp_path, capsys, UNAUTHENTICATED)
    assert result["authentication"] is None
    assert "could not run" in result["authentication_note"] and "BOUNCEBOT_DNS_NAMESERVERS" in \
        result["authentication_note"]
