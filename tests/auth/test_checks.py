"""Each check against a real NSD serving SPF, DMARC, DKIM, PTR and MX records (tests/auth/nsd.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.auth import AuthChecker, AuthRequest
from bot.config import Settings
from tests.auth.nsd import Nsd
from tests.blacklists.dnsproxy import DelayingProxy


@pytest.fixture
def checker(nsd_server: Nsd) -> AuthChecker:
    return AuthChecker(nameservers=["127.0.0.1"], port=nsd_server.port, timeout=1.0)


SPF_CASES = [
    # domain, ip, result, mechanism, lookups
    ("corp.example", "203.0.113.10", "pass", "ip4:203.0.113.0/24", 0),
    ("corp.example", "192.0.2.9", "fail", "-all", 0),
    ("include.example", "198.51.100.7", "pass", "include:_spf.relay.example", 1),
    ("include.example", "192.0.2.9", "fail", "-all", 1),
    ("redirect.example", "203.0.113.20", "pass", "ip4:203.0.113.0/24", 1),
    ("redirect.example", "192.0.2.9", "fail", "-all", 1),
    ("macro.example", "192.0.2.9", "pass", "exists:%{ir}._spf.macro.example", 1),
    ("macro.example", "192.0.2.10", "fail", "-all", 1),
    ("softfail.example", "192.0.2.9", "softfail", "~all", 0),
    ("neutral.example", "192.0.2.9", "neutral", "?all", 0),
    ("nospf.example", "192.0.2.9", "none", None, 0),
    ("toomany.example", "192.0.2.9", "permerror", None, 11),
    ("syntax.example", "192.0.2.9", "permerror", None, 0),
    ("twospf.example", "192.0.2.9", "permerror", None, 0),
]


@pytest.mark.parametrize(("domain", "ip", "result", "mechanism", "lookups"), SPF_CASES)
def test_spf(checker: AuthChecker, domain: str, ip: str, result: str, mechanism: str | None, lookups: int) -> None:
    spf = checker.check(AuthRequest(domain, ip)).spf
    assert spf is not None
    assert (spf.result, spf.mechanism, spf.lookups) == (result, mechanism, lookups), spf
    assert spf.verdict == ("ok" if result == "pass" else "problem")


def test_spf_fail_names_the_record_the_ip_and_the_fix(checker: AuthChecker) -> None:
    line = next(x for x in checker.check(AuthRequest("corp.example", "192.0.2.9")).to_json()["lines"]
                if x["check"] == "spf")
    assert "corp.example publishes `v=spf1 ip4:203.0.113.0/24 -all`" in line["text"]
    assert "192.0.2.9" in line["text"] and "`ip4:192.0.2.9`" in line["fix"]


def test_spf_errors_are_named(checker: AuthChecker) -> None:
    too_many = checker.check(AuthRequest("toomany.example", "192.0.2.9")).spf
    assert too_many is not None and "Too many DNS lookups" in (too_many.error or "")
    syntax = checker.check(AuthRequest("syntax.example", "192.0.2.9")).spf
    assert syntax is not None and "Invalid IP4 address" in (syntax.error or "")
    assert syntax.record == "v=spf1 ip4:192.0.2.300 -all"
    none = checker.check(AuthRequest("nospf.example", "192.0.2.9")).spf
    assert none is not None and none.error == "no SPF record" and none.record is None


DMARC_CASES = [
    # domain, ip that sent, status, policy, sp, applied, aligned_spf
    ("corp.example", "203.0.113.10", "found", "reject", "quarantine", "reject", True),
    ("corp.example", "192.0.2.9", "found", "reject", "quarantine", "reject", False),
    ("mail.corp.example", "203.0.113.11", "found", "reject", "quarantine", "quarantine", False),  # org domain
    ("none.example", "192.0.2.9", "found", "none", None, "none", True),
    ("quarantine.example", "192.0.2.9", "found", "quarantine", None, "quarantine", False),
    ("include.example", "198.51.100.7", "found", "reject", None, "reject", True),
    ("nospf.example", "192.0.2.9", "none", None, None, None, None),
    ("badpolicy.example", "192.0.2.9", "invalid", None, None, None, None),
    ("nopolicy.example", "192.0.2.9", "invalid", None, None, None, None),
    ("tworecords.example", "192.0.2.9", "invalid", None, None, None, None),
]


@pytest.mark.parametrize(("domain", "ip", "status", "policy", "sp", "applied", "aligned"), DMARC_CASES)
def test_dmarc(checker: AuthChecker, domain: str, ip: str, status: str, policy: str | None, sp: str | None,
               applied: str | None, aligned: bool | None) -> None:
    dmarc = checker.check(AuthRequest(domain, ip)).dmarc
    assert dmarc is not None
    assert (dmarc.status, dmarc.policy, dmarc.subdomain_policy, dmarc.applied_policy, dmarc.aligned_spf) == (
        status, policy, sp, applied, aligned), dmarc
    if status != "found":
        assert dmarc.error and dmarc.verdict == "problem"


def test_dmarc_tags(checker: AuthChecker) -> None:
    dmarc = checker.check(AuthRequest("quarantine.example", "192.0.2.9")).dmarc
    assert dmarc is not None
    assert (dmarc.pct, dmarc.aspf, dmarc.adkim, dmarc.rua) == (50, "s", "r", ("mailto:d@quarantine.example",))
    assert any("pct=50" in w for w in dmarc.warnings)
    missing = checker.check(AuthRequest("nopolicy.example")).dmarc
    assert missing is not None and "`p=` is missing" in (missing.error or "")
    assert "no DMARC record at _dmarc.nospf.example" in (checker.check(AuthRequest("nospf.example")).dmarc.error
                                                         or "")


DKIM_CASES = [
    ("sel1", True, "rsa", 2048, None),
    ("short", False, "rsa", 512, "too short"),
    ("revoked", False, None, None, "revoked"),
    ("garbled", False, None, None, "does not parse"),
    ("absent", False, None, None, "no DKIM key record at absent._domainkey.corp.example"),
]


@pytest.mark.parametrize(("selector", "found", "key_type", "bits", "error"), DKIM_CASES)
def test_dkim(checker: AuthChecker, selector: str, found: bool, key_type: str | None, bits: int | None,
              error: str | None) -> None:
    (dkim,) = checker.check(AuthRequest("corp.example", selectors=(selector,))).dkim
    assert (dkim.found, dkim.key_type, dkim.key_bits) == (found, key_type, bits)
    assert (error is None and dkim.error is None) or (error and error in (dkim.error or ""))


PTR_CASES = [
    ("203.0.113.10", ("mx1.corp.example",), True),
    ("203.0.113.20", ("mail.nowhere.example",), False),   # the name does not resolve back
    ("203.0.113.30", (), False),                          # no PTR at all
    ("192.0.2.1", (), None),                              # the server refuses: unknown
]


@pytest.mark.parametrize(("ip", "names", "confirmed"), PTR_CASES)
def test_ptr(checker: AuthChecker, ip: str, names: tuple[str, ...], confirmed: bool | None) -> None:
    ptr = checker.check(AuthRequest(ip=ip)).ptr
    assert ptr is not None and (ptr.names, ptr.forward_confirmed) == (names, confirmed)
    assert ptr.verdict == {True: "ok", False: "problem", None: "unknown"}[confirmed]


MX_CASES = [
    ("corp.example", "ok", ("mx1.corp.example",)),
    ("nullmx.example", "null_mx", ()),
    ("nospf.example", "implicit", ("nospf.example",)),   # no MX, an A record
    ("deadmx.example", "unresolvable", ("gone.deadmx.example",)),
    ("halfmx.example", "ok", ("mx1.corp.example", "gone.halfmx.example")),
    ("nosuchdomain.example", "nxdomain", ()),
    ("broken.example", "unknown", ()),
]


@pytest.mark.parametrize(("domain", "status", "hosts"), MX_CASES)
def test_mx(checker: AuthChecker, domain: str, status: str, hosts: tuple[str, ...]) -> None:
    mx = checker.check(AuthRequest(mx_domain=domain)).mx
    assert mx is not None and (mx.status, mx.hosts) == (status, hosts)


def test_an_include_that_fails_is_temperror_not_fail(checker: AuthChecker) -> None:
    spf = checker.check(AuthRequest("brokeninclude.example", "192.0.2.9")).spf
    assert spf is not None and (spf.result, spf.verdict) == ("temperror", "unknown")
    assert "spf.broken.example" in (spf.error or "") and "SERVFAIL" in (spf.error or "")


def test_servfail_is_unknown_never_a_failure(checker: AuthChecker) -> None:
    report = checker.check(AuthRequest("mail.broken.example", "203.0.113.10", ("sel1",), "broken.example"))
    assert report.spf is not None and report.spf.result == "temperror" and "SERVFAIL" in (report.spf.error or "")
    verdicts = {name: r.verdict for name, r in report.results()}
    assert verdicts == {"mx": "unknown", "spf": "unknown", "dmarc": "unknown", "dkim": "unknown", "ptr": "ok"}
    assert all(line["verdict"] != "problem" for line in report.to_json()["lines"])


@pytest.fixture
def slow(nsd_server: Nsd) -> Iterator[DelayingProxy]:
    proxy = DelayingProxy(nsd_server.port, {"slow.example": 3.0})
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_timeouts_are_unknown_and_bounded(slow: DelayingProxy) -> None:
    checker = AuthChecker(nameservers=["127.0.0.1"], port=slow.port, timeout=0.3)
    report = checker.check(AuthRequest("slow.example", "203.0.113.10", ("sel1",), "slow.example"))
    assert report.spf is not None and report.spf.result == "temperror"
    assert report.dmarc is not None and report.dmarc.status == "unknown" and report.dmarc.error
    assert report.mx is not None and report.mx.status == "unknown"
    assert report.dkim[0].found is None
    assert report.ptr is not None and report.ptr.forward_confirmed is True  # the reverse zone is not slowed
    assert report.ms < 3000, "every check is bounded by its own limit, far below the server's 3 s delay"
    assert not any(r.verdict == "problem" for _, r in report.results())


def test_known_results_are_cached_unknown_ones_are_not(nsd_server: Nsd, slow: DelayingProxy) -> None:
    checker = AuthChecker(nameservers=["127.0.0.1"], port=nsd_server.port, timeout=1.0)
    checker.check(AuthRequest("include.example", "203.0.113.20", mx_domain="corp.example"))
    ran = checker.checks_run
    again = checker.check(AuthRequest("include.example", "203.0.113.20", mx_domain="corp.example"))
    assert checker.checks_run == ran and again.spf is not None and again.spf.result == "fail"
    slow_checker = AuthChecker(nameservers=["127.0.0.1"], port=slow.port, timeout=0.3)
    slow_checker.check(AuthRequest(mx_domain="slow.example"))
    slow_checker.check(AuthRequest(mx_domain="slow.example"))
    assert slow_checker.checks_run == 2


def test_settings_and_selectors() -> None:
    settings = Settings.from_env({"BOUNCEBOT_DKIM_SELECTORS": "sel1, partner.example:s2024",
                                  "BOUNCEBOT_LOCAL_DOMAINS": "corp.example", "BOUNCEBOT_DNS_NAMESERVERS": "127.0.0.1"},
                                 dotenv=None)
    checker = AuthChecker.from_settings(settings)
    assert checker.selectors_for("corp.example") == ("sel1",)
    assert checker.selectors_for("news.corp.example") == ("sel1",)
    assert checker.selectors_for("partner.example") == ("s2024",)
    assert checker.selectors_for("other.example") == ()
