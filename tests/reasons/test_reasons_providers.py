"""Provider tables: each rule, and that they win over the RFC 3463 meaning of the same code."""

from __future__ import annotations

import pytest

from bot.reasons import classify
from bot.reasons.providers import RULES, provider_of

# (rule, code, status, text, host, reason)
PROVIDER_CASES = [
    ("microsoft-banned-ip", 550, "5.7.606", "Access denied, banned sending IP [203.0.113.45]", None, "blocked"),
    ("microsoft-banned-ip", 550, "5.7.649", "Access denied, banned sending IP [203.0.113.45]", None, "blocked"),
    ("microsoft-tenant-blocked", 550, "5.7.708", "Service unavailable. Access denied, traffic not accepted from this "
     "IP", "mx.outlook.com", "blocked"),
    ("microsoft-unregistered-domain", 550, "5.7.750", "Service unavailable. Client blocked from sending from "
     "unregistered domains", "outlook.com", "rejected"),
    ("microsoft-ip-reputation", 451, "4.7.650", "The mail server [203.0.113.45] has been temporarily rate limited due "
     "to IP reputation", "outlook.com", "badreputation"),
    ("microsoft-banned-sender", 550, "5.7.511", "Access denied, banned sender", "hotmail.com", "blocked"),
    ("microsoft-dbeb", 550, "5.4.1", "Recipient address rejected: Access denied. AS(201806281)",
     "contoso-com.mail.protection.outlook.com", "userunknown"),
    ("microsoft-recipient-not-found", 550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found",
     "contoso-com.mail.protection.outlook.com", "userunknown"),
    ("microsoft-recipient-not-found-text", 550, None, "Recipient not found by SMTP address lookup", None,
     "userunknown"),
    ("gmail-dmarc", 550, "5.7.26", "Unauthenticated email from example.com is not accepted due to domain's DMARC "
     "policy", "gmail-smtp-in.l.google.com", "authfailure"),
    ("gmail-spf-dkim", 550, "5.7.27", "The sender's SPF record does not authorize this IP", "aspmx.l.google.com",
     "authfailure"),
    ("gmail-rate", 421, "4.7.28", "Our system has detected an unusual rate of unsolicited mail originating from your "
     "IP address", "gmail-smtp-in.l.google.com", "speeding"),
    ("gmail-low-reputation", 550, "5.7.1", "Our system has detected that this message is likely suspicious due to the "
     "very low reputation of the sending IP address", "gmail-smtp-in.l.google.com", "badreputation"),
    ("gmail-unsolicited", 550, "5.7.1", "Our system has detected that this message is likely unsolicited mail. gsmtp",
     None, "spamdetected"),
    ("gmail-disabled", 550, "5.2.1", "The email account that you tried to reach is disabled. gsmtp", None, "suspend"),
    ("gmail-recipient-rate", 450, "4.2.1", "The user you are trying to contact is receiving mail at a rate that "
     "prevents additional messages from being delivered. gsmtp", None, "speeding"),
    ("yahoo-no-account", 554, None, "delivery error: dd This user doesn't have a yahoo.com account", None,
     "userunknown"),
    ("yahoo-bl21", 553, "5.7.1", "[BL21] Connections will not be accepted from 203.0.113.45, because the ip is in "
     "Spamhaus's list", None, "blocked"),
    ("yahoo-ts01", 421, "4.7.0", "[TS01] Messages from 203.0.113.45 temporarily deferred due to unexpected volume or "
     "user complaints", None, "speeding"),
    ("yahoo-ts03", 554, "5.7.9", "[TS03] All messages from 203.0.113.45 will be permanently deferred", None,
     "blocked"),
    ("yahoo-tss04", 421, "4.7.0", "[TSS04] Messages from 203.0.113.45 temporarily deferred due to user complaints",
     None, "badreputation"),
    ("trendmicro-rbl-plus", 550, None, "Service unavailable; Client host [203.0.113.45] blocked using Trend Micro "
     "RBL+. Please see http://www.mail-abuse.com/cgi-bin/lookup?ip_address=203.0.113.45", None, "blocked"),
    ("trendmicro-ers", 550, None, "Mail from 203.0.113.45 refused: Email Reputation Services", None, "blocked"),
    ("googlegroups-not-allowed", None, None, "We're writing to let you know that the group you tried to contact may "
     "not exist, or you may not have permission to post messages to the group.", "googlegroups.com", "rejected"),
    ("au-domain-filter", 550, None, "550 : User unknown", None, "filtered"),
    ("au-domain-filter-notice", None, None, "Each of the following recipients was rejected by a remote mail server.",
     "lsean.ezweb.ne.jp", "filtered"),
    ("docomo-sender-refused", 550, None, "Unknown user someone@docomo.ne.jp", None, "rejected"),
    ("cox-cdrbl", 550, "5.1.0", "sender rejected. AUP#CDRBL https://www.cox.com/residential/support/", None,
     "blocked"),
    # Cox's other AUP codes (not in the corpora: written from cox.com's email error code page)
    ("cox-cxbl", 554, None, "554 192.0.2.1 rejected - see https://www.cox.com/residential/support/ AUP#CXBL", None,
     "blocked"),
    ("cox-ipbl", 554, None, "554 192.0.2.1 rejected - IP listed. AUP#IPBL0001", None, "blocked"),
    ("cox-cxdns", 421, None, "421 192.0.2.1 DNS check failure - try again later - AUP#CXDNS", None, "requireptr"),
    ("cox-cxsndr", 554, None, "554 cox.net requires that all sender domains resolve to a valid MX or A-record "
     "within DNS - AUP#CXSNDR", None, "authfailure"),
    ("cox-cxsmtp", 554, None, "554 rejected - AUP#CXSMTP", None, "rejected"),
    ("cox-cxcnct", 421, None, "421 too many sessions from 192.0.2.1 - AUP#CXCNCT", None, "toomanyconn"),
    ("cox-cxmxrt", 452, None, "452 too many recipients sent - AUP#CXMXRT", None, "toomanyconn"),
    ("cox-cxthrt", 554, None, "554 sending limited due to suspicious account activity - AUP#CXTHRT", None,
     "securityerror"),
    ("cox-cxmj", 554, None, "554 sending blocked due to suspicious account activity - AUP#CXMJ", None,
     "securityerror"),
    ("cox-urlbl", 554, None, "554 rejected - a URL in the message is listed. AUP#URLBL1001", None, "spamdetected"),
    # Spectrum/Charter AUP numbers: 1310 is in the corpus (rhost-spectrum-01), the others are written from
    # spectrum.net's error code page (not in the corpora)
    ("spectrum-connections", 550, "5.1.0", "<x@amazonses.com> sender rejected. Please see https://www.spectrum.net/"
     "support/internet/understanding-email-error-codes for more information. AUP#In-1310", None, "toomanyconn"),
    ("spectrum-blocked", 554, None, "554 5.7.1 Your IP has been blocked. AUP#I-1000", None, "blocked"),
    ("spectrum-sender", 550, None, "550 5.1.0 sender rejected. AUP#O-1010", None, "rejected"),
    ("spectrum-unprocessed", 451, None, "451 unable to process, try later. AUP#I-1090", None, "systemerror"),
    ("spectrum-rdns", 550, None, "550 5.7.1 IP has no reverse DNS. AUP#I-1120", None, "requireptr"),
    ("spectrum-policy", 550, None, "550 5.7.1 against your domain's security policies. AUP#I-1160", None,
     "policyviolation"),
    ("spectrum-ipv6", 550, None, "550 IPv6 not accepted. AUP#I-1260", None, "networkerror"),
    ("spectrum-rate", 452, None, "452 too many messages. AUP#I-1360", None, "speeding"),
    ("spectrum-size", 552, None, "552 message too large. AUP#O-1530", None, "mesgtoobig"),
    ("orange-content-rejected", 550, "5.2.0", "Mail rejete. Mail rejected. OFR_506 [506]", "smtp-in.orange.fr",
     "spamdetected"),
    ("orange-invalid-recipient", 550, "5.5.0", "Adresse destinataire invalide. Invalid recipient. LPN007_416",
     "smtp-in.laposte.net", "userunknown"),
]


@pytest.mark.parametrize(("rule", "code", "status", "text", "host", "reason"), PROVIDER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(PROVIDER_CASES)])
def test_provider_rule(rule, code, status, text, host, reason):
    stage = "DATA" if rule.startswith("docomo") else None
    result = classify(smtp_code=code, enhanced_status=status, text=text, host=host, stage=stage)
    assert result.reason == reason
    assert result.rule == f"provider:{rule}"


def test_every_provider_rule_has_a_case():
    covered = {c[0] for c in PROVIDER_CASES}
    missing = {r.name for r in RULES} - covered - {"yahoo-bl22", "yahoo-bl23", "yahoo-ts02", "yahoo-tss05",
                                                     "yahoo-tss09", "yahoo-tss11", "trendmicro-mail-abuse",
                                                     "orange-account-blocked", "orange-ip-blocked",
                                                     "orange-service-refused"}
    assert not missing


def test_microsoft_codes_mean_otherwise_elsewhere():
    """5.1.10 is null MX (RFC 7505), unless Microsoft says it: there it is "recipient not found"."""
    assert classify(smtp_code=550, enhanced_status="5.1.10", text="550 5.1.10 Undeliverable").reason == "notaccept"
    assert classify(smtp_code=550, enhanced_status="5.1.10", text="550 5.1.10 Undeliverable",
                    host="mx.contoso.mail.protection.outlook.com").reason == "userunknown"


def test_wording_beats_a_provider_code():
    """The precedence of evidence: what the reply says beats what a provider usually means by the code."""
    result = classify(smtp_code=550, enhanced_status="5.1.10", text="Recipient address has null MX",
                      host="mx.contoso.mail.protection.outlook.com")
    assert (result.reason, result.rule) == ("notaccept", "phrase:notaccept")


@pytest.mark.parametrize(("host", "provider"), [
    ("gmail-smtp-in.l.google.com", "google"), ("contoso-com.mail.protection.outlook.com", "microsoft"),
    ("mta7.am0.yahoodns.net", "yahoo"), ("smtp-in.orange.fr", "orange"), ("mx.example.com", None),
    ("notoutlook.com", None),
])
def test_provider_by_host_suffix(host, provider):
    assert provider_of(host, "") == provider


def test_provider_by_reply_marks_when_no_host():
    assert provider_of(None, "550 5.7.1 ... - gsmtp") == "google"
    assert provider_of(None, "[am4pepf00027a5f.eurprd04.prod.outlook.com]") == "microsoft"
