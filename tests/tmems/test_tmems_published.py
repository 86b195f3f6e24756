"""The API as it really answers: the published records of ../shared/corpus/tmems/samples.json, served by the
fake in every paging mode the real service shows, and every documented value held to its meaning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.ingest.tmems import poll_once
from bot.ingest.tmems_client import MAIL_TRACKING_PATH, TmemsClient, iso, next_token
from bot.ingest.tmems_map import ACCEPTED, POLICY, Mapper, blocked_rule, event_rule, policy_disposition
from bot.ingest.tmems_store import FLUSH_ROWS
from bot.reasons import classify
from storage import queries
from storage.models import Event
from tests.support import shared_path
from tests.tmems.fake_tmems import FakeTmems
from tests.tmems.records import blocked, policy_event, published


@pytest.fixture
def corpus() -> dict[str, Any]:
    return published(shared_path("corpus", "tmems", "samples.json"), datetime.now(UTC))


def _vocab(corpus: dict[str, Any], name: str) -> Any:
    return corpus["documented_vocab"][name]["values"]


# --- the published records, one by one ----------------------------------------------------------------------------
#: What each documented action makes of a published record (the downstream reply decides a bounce's reason).
BY_ACTION = {
    "Delivered": ("delivered", "delivered", "delivered"),
    "Quarantined": ("quarantined", "filtered", "gateway_policy"),
    "Scanning in sandbox": ("accepted", "onhold", None),
}


def test_every_published_accepted_record_maps_with_its_shape(corpus) -> None:
    mapper = Mapper(Settings())
    for record in corpus["accepted_traffic"]:
        [event] = mapper.map(ACCEPTED, record)
        action = record["action"]
        if action in BY_ACTION:
            assert (event.disposition, event.reason, event.cause) == BY_ACTION[action], action
        else:
            assert action == "Bounced" and event.disposition == "bounced" and event.rejected_by == "remote"
            assert event.reason not in ("undefined", None) and event.reply_text == record["details"]
        # a UUID mail ID fits the queue_id column without its hyphens
        assert event.queue_id == record["mailID"].replace("-", "")
        # the time the message was received (delivered: when it was delivered), never genTime, which is later
        expected = record["deliveryTime"] if action == "Delivered" else record["timestamp"]
        assert event.time == datetime.fromisoformat(expected.replace("Z", "+00:00"))
        assert event.client_ip == record.get("senderIP")  # absent on a Quarantined record: None, not ""
        delivered_to = record.get("deliveredTo")
        assert event.relay == (None if delivered_to in (None, "none") else delivered_to)
    assert mapper.unmapped == 0


def test_delivered_to_as_published_names_the_next_hop() -> None:
    from bot.ingest.tmems_map import relay_host, relay_of

    assert relay_host("antispam.example.org[203.0.113.25]:25") == "antispam.example.org"
    assert relay_host("MX1.Example.NET[203.0.113.10]:25") == "mx1.example.net"
    assert relay_host("2.2.2.2") is None and relay_host("none") is None and relay_host(None) is None
    assert relay_of("none") is None and relay_of("2.2.2.2") == "2.2.2.2"


def test_a_downstream_reply_is_classified_for_the_host_in_delivered_to() -> None:
    """deliveredTo's host reaches the classifier's provider tables: Microsoft's 5.4.1 'Access denied' is an
    unknown recipient when Microsoft says it (and not otherwise)."""
    now = datetime.now(UTC)
    record = {"genTime": iso(now), "timestamp": iso(now - timedelta(seconds=4)), "action": "Bounced",
              "direction": "out", "sender": "a@ourcorp.example", "recipient": "b@partner.example",
              "mailID": "00000000-0000-4000-8000-00000000000a", "messageID": "<m@ourcorp.example>",
              "details": "550 5.4.1 Recipient address rejected: Access denied",
              "deliveredTo": "partner-example.mail.protection.outlook.com[52.101.0.1]:25"}
    [event] = Mapper(Settings()).map(ACCEPTED, record)
    assert (event.reason, event.cause) == ("userunknown", "invalid_recipient")


# --- paging as the real service does it ---------------------------------------------------------------------------
def test_the_vendors_token_is_sent_back_decoded_exactly_once(corpus) -> None:
    token = corpus["page_example"]["nextToken"]
    assert {"+", "/", "="} <= set(token)
    assert next_token(quote(token, safe="")) == token      # percent-encoded: un-quoted once
    assert next_token(token) == token                       # as it is: untouched ('+' stays '+')
    assert next_token(quote(quote(token, safe=""), safe="")) == quote(token, safe="")  # once, not twice
    assert next_token("") is None and next_token(None) is None


MODES = ["204", "quoted-tokens", "empty-200"]


def _serve(fake: FakeTmems, mode: str, corpus: dict[str, Any], now: datetime) -> int:
    fake.page_size = 2  # a handful of records still takes several pages
    fake.quote_tokens = mode == "quoted-tokens"
    fake.end_with_empty_200 = mode == "empty-200"
    fake.add("accepted_traffic", corpus["accepted_traffic"])
    fake.add("blocked_traffic", [
        blocked(now - timedelta(minutes=m), reason=reason, sender=f"s{m}@bulk.example", recipient="u@ourcorp.example")
        for m, reason in enumerate(_vocab(corpus, "blocked_reason"), start=1)])
    fake.add("policy", [
        policy_event(now - timedelta(minutes=m), event_type=kind, subtype=(subs or [None])[0], policy_name="p",
                     policy_action="Quarantine", sender="x@bulk.example", recipients=["u@ourcorp.example",
                                                                                       "v@ourcorp.example"])
        for m, (kind, subs) in enumerate(_vocab(corpus, "policy_eventType_eventSubtype").items(), start=1)])
    n_policy = len(_vocab(corpus, "policy_eventType_eventSubtype"))
    return len(corpus["accepted_traffic"]) + len(_vocab(corpus, "blocked_reason")) + 2 * n_policy


@pytest.mark.parametrize("flush_rows", [FLUSH_ROWS, 3], ids=["in-place", "writer-process"])
@pytest.mark.parametrize("mode", MODES)
def test_the_same_poll_twice_adds_nothing_in_every_mode(fake, store, tmems_settings, corpus, mode,
                                                        flush_rows) -> None:
    now = datetime.now(UTC)
    expected = _serve(fake, mode, corpus, now)
    first = poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=2), flush_rows=flush_rows)
    assert first.ok, first.errors
    assert first.new == expected and first.skipped == 0 and first.unmapped == 0
    assert first.pages > 6  # paged, not one page a window
    again = poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=2), flush_rows=flush_rows)
    assert again.ok and again.new == 0 and again.records == first.records
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == expected
    tokens = [s.params["token"] for s in fake.seen if "token" in s.params]
    assert tokens and all("%" not in t and "+" in t and "/" in t for t in tokens)  # decoded once, '+' kept
    assert all(s.status in (200, 204) for s in fake.seen)
    if mode == "empty-200":
        assert any(s.status == 200 for s in fake.seen) and not any(s.status == 204 for s in fake.seen)


def test_a_token_sent_back_still_quoted_is_refused_by_the_fake(fake) -> None:
    """The fake is strict, so the test above can fail: a client that does not un-quote gets 400."""
    now = datetime.now(UTC)
    fake.page_size, fake.quote_tokens = 1, True
    fake.add("accepted_traffic", [dict(r, genTime=iso(now - timedelta(minutes=i + 1)))
                                  for i, r in enumerate([{"mailID": "m1"}, {"mailID": "m2"}])])
    with TmemsClient(fake.url, fake.user, fake.api_key) as client:
        params = {"type": "accepted_traffic", "start": iso(now - timedelta(hours=1)), "end": iso(now)}
        page = client.get(MAIL_TRACKING_PATH, params)
        assert page is not None and page.next_token and "%" not in page.next_token
        quoted = quote(page.next_token, safe="")
        from bot.ingest.tmems_client import TmemsRequestError

        with pytest.raises(TmemsRequestError, match="HTTP 400"):
            client.get(MAIL_TRACKING_PATH, {**params, "token": quoted})


def test_policy_events_join_their_tracking_records_by_message_id_and_recipient(fake, store, tmems_settings,
                                                                             corpus) -> None:
    now = datetime.now(UTC)
    quarantined = next(r for r in corpus["accepted_traffic"] if r["action"] == "Quarantined")
    fake.add("accepted_traffic", [quarantined])
    event = policy_event(now - timedelta(minutes=1), event_type="Scan Exception",
                         subtype="Password protected attachment", policy_name="Password protected files",
                         policy_action="Quarantine", sender=quarantined["sender"],
                         recipients=[quarantined["recipient"], "other@example.org"],
                         message_id=quarantined["messageID"])
    fake.add("policy", [event])
    assert poll_once(store, tmems_settings, now=now, since=now - timedelta(hours=2)).new == 3
    with store.session() as session:
        found = queries.events_for(session, "message_id", quarantined["messageID"], since=now - timedelta(days=1))
    mine = [e for e in found if e.recipient == quarantined["recipient"]]
    assert sorted(e.disposition for e in mine) == ["quarantined", "quarantined"]
    # the tracking record says only "Quarantined": it takes the why of its policy event
    assert [e.reason for e in mine] == ["policyviolation", "policyviolation"]
    [tracked] = [e for e in mine if e.queue_id]
    assert (tracked.reply_text or "").startswith("Quarantined by Scan Exception (Password protected attachment)")


def test_the_join_needs_the_same_message_recipient_and_outcome() -> None:
    now = datetime.now(UTC)
    mapper = Mapper(Settings())
    mapper.map(POLICY, policy_event(now, event_type="Malware", policy_name="p", policy_action="Delete",
                                    sender="a@x.example", recipients=["b@ourcorp.example"], message_id="<m1@x>"))
    from tests.tmems.records import accepted

    def reason(action: str, message_id: str, recipient: str = "b@ourcorp.example") -> str | None:
        record = accepted(now, action=action, sender="a@x.example", recipient=recipient, message_id=message_id)
        return mapper.map(ACCEPTED, record)[0].reason

    assert reason("Deleted", "<M1@x>") == "virusdetected"
    assert reason("Deleted", "<m2@x>") == "filtered"                                # another message
    assert reason("Deleted", "<m1@x>", recipient="c@ourcorp.example") == "filtered"  # another recipient
    assert reason("Quarantined", "<m1@x>") == "filtered"                            # another outcome


# --- every documented value, with what it must mean ---------------------------------------------------------------
BLOCKED = {
    "Sender IP found in QIL": ("deferred", "blocked", "transient"),
    "Rate limit temporarily exceeded": ("deferred", "speeding", "transient"),
    "Sender IP found in KSSL": ("rejected", "blocked", "gateway_reputation"),
    "Sender IP found in DUL": ("rejected", "blocked", "gateway_reputation"),
    "Sender IP found in ETL": ("rejected", "blocked", "gateway_reputation"),
    "Sender IP found in block list": ("rejected", "blocked", "gateway_reputation"),
    "Sender IP blocked": ("rejected", "blocked", "gateway_reputation"),
    "Sender IP not allowed": ("rejected", "norelaying", "gateway_policy"),
    "Sender blocked (block list)": ("rejected", "rejected", "gateway_policy"),
    "Recipient invalid": ("rejected", "userunknown", "invalid_recipient"),
    "Sender domain not found": ("rejected", "rejected", "gateway_policy"),
    "Recipient domain not found": ("rejected", "hostunknown", "invalid_recipient"),
    "TLS not available": ("rejected", "failedstarttls", "gateway_policy"),
    "Message too big": ("rejected", "mesgtoobig", "gateway_policy"),
}


def test_every_documented_blocked_reason_has_its_expectation(corpus) -> None:
    assert set(BLOCKED) == set(_vocab(corpus, "blocked_reason"))


@pytest.mark.parametrize("reason", sorted(BLOCKED))
def test_each_blocked_reason_without_a_reply(reason: str) -> None:
    now = datetime.now(UTC)
    mapper = Mapper(Settings())
    [event] = mapper.map("blocked_traffic", blocked(now, reason=reason, sender="a@x.example",
                                                    recipient="b@ourcorp.example"))
    assert (event.disposition, event.reason, event.cause) == BLOCKED[reason]
    assert event.rejected_by == "gateway" and event.reply_text == reason and mapper.unmapped == 0
    assert blocked_rule(reason.upper()) == blocked_rule(f"  {reason} ")  # any case, any spacing


#: A reply in `details` that says something specific decides the reason through the classifier chain; the
#: documented reason keeps deciding what the reply does not say (a temporary reason stays deferred/transient),
#: except that our gateway's temporary refusal of the sender's domain is its policy, as for Postfix's
#: reject_unknown_sender_domain (450 4.1.8): retrying does not make the domain resolve.
CLASSIFIER = "<as bot.reasons.classify reads the reply on the gateway side>"
WITH_REPLY = [
    ("Sender domain not found", "450 4.1.8 <a@x.example>: Sender address rejected: Domain not found",
     ("deferred", CLASSIFIER, "gateway_policy")),
    ("Sender domain not found", "550 5.1.8 <a@x.example>: Sender address rejected: Domain not found",
     ("rejected", "rejected", "gateway_policy")),
    ("Recipient invalid", "550 5.1.1 <b@ourcorp.example>: Recipient address rejected: User unknown",
     ("rejected", "userunknown", "invalid_recipient")),
    ("Sender IP found in KSSL", "550 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using Trend "
     "Micro RBL+", ("rejected", "blocked", "gateway_reputation")),
    ("Sender IP found in QIL", "450 4.7.1 Service unavailable; Client host [203.0.113.7] blocked using Trend "
     "Micro RBL+", ("deferred", "blocked", "transient")),
    ("Sender IP found in ETL", "550 5.7.1 Access denied", ("rejected", "blocked", "gateway_reputation")),
    ("Message too big", "552 5.3.4 Message size exceeds fixed limit", ("rejected", "mesgtoobig", "gateway_policy")),
]


@pytest.mark.parametrize(("reason", "details", "expected"), WITH_REPLY, ids=[f"{r}:{d[:9]}" for r, d, _ in WITH_REPLY])
def test_each_blocked_reason_with_a_reply(reason: str, details: str, expected: tuple[str, str, str]) -> None:
    [event] = Mapper(Settings()).map("blocked_traffic", blocked(datetime.now(UTC), reason=reason, details=details,
                                                                sender="a@x.example", recipient="b@ourcorp.example"))
    if expected[1] is CLASSIFIER:
        expected = (expected[0], classify(smtp_code=int(details[:3]), enhanced_status=details[4:9], text=details,
                                          side="gateway", disposition=expected[0]).reason, expected[2])
    assert (event.disposition, event.reason, event.cause) == expected
    assert event.smtp_code == int(details[:3]) and event.reply_text == f"{reason}: {details}"


ACTIONS = {
    "Delivered": ("delivered", "delivered", "delivered"),
    "Redirected": ("delivered", "delivered", "delivered"),
    "Bounced": ("bounced", "userunknown", "invalid_recipient"),
    "Expired": ("expired", "expired", "transient"),
    "Temporary delivery error": ("deferred", "mailboxfull", "transient"),
    "Deferred": ("deferred", "mailboxfull", "transient"),
    "Deleted": ("deleted", "filtered", "gateway_policy"),
    "Quarantined": ("quarantined", "filtered", "gateway_policy"),
    "Scanning in sandbox": ("accepted", "onhold", None),
    "Submitted to sandbox": ("accepted", "onhold", None),
    "Password analyzing": ("accepted", "onhold", None),
}
_REPLY_BY_ACTION = {"Bounced": "550 5.1.1 <b@partner.example>: Recipient address rejected: User unknown",
                    "Expired": "451 4.4.1 Connection timed out",
                    "Temporary delivery error": "452 4.2.2 Mailbox full", "Deferred": "452 4.2.2 Mailbox full"}


def test_every_documented_action_has_its_expectation(corpus) -> None:
    assert set(ACTIONS) == set(_vocab(corpus, "accepted_action"))


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action(action: str) -> None:
    from tests.tmems.records import accepted

    mapper = Mapper(Settings())
    record = accepted(datetime.now(UTC), action=action, sender="a@ourcorp.example", recipient="b@partner.example",
                      direction="out", details=_REPLY_BY_ACTION.get(action))
    [event] = mapper.map(ACCEPTED, record)
    assert (event.disposition, event.reason, event.cause) == ACTIONS[action]
    assert mapper.unmapped == 0
    if event.reason == "onhold":  # held, not refused, and the evidence says so
        assert event.rejected_by is None and "held by our gateway" in (event.reply_text or "")
        assert action in (event.reply_text or "")


EVENTS = {
    ("Domain-based Authentication", s): "authfailure" for s in (
        "Sender IP Match", "SPF", "DKIM", "DMARC", "DMARC - SPF", "DMARC - DKIM", "DMARC - Alignment",
        "DMARC - Availability")
} | {
    ("Malware", "Predictive Machine Learning"): "virusdetected",
    ("Malware", "Pattern-based scanning"): "virusdetected",
    ("Ransomware", None): "virusdetected",
    ("Suspicious Objects", "Suspicious Files"): "virusdetected",
    ("Suspicious Objects", "Suspicious URLs"): "spamdetected",
    ("Advanced Persistent Threat", "Analyzed Advanced Threats (Files)"): "virusdetected",
    ("Advanced Persistent Threat", "Analyzed Advanced Threats (URLs)"): "spamdetected",
    ("Advanced Persistent Threat", "Probable Advanced Threats"): "virusdetected",
    ("Scan Exception", "Virtual Analyzer scan exception"): "policyviolation",
    ("Scan Exception", "Virtual Analyzer submission quota exception"): "policyviolation",
    ("Scan Exception", "Password protected attachment"): "policyviolation",
    ("Scan Exception", "Other exceptions"): "policyviolation",
    ("Web Reputation", None): "spamdetected",
}


def test_every_documented_event_type_and_subtype_has_its_expectation(corpus) -> None:
    documented = {(t, s) for t, subs in _vocab(corpus, "policy_eventType_eventSubtype").items()
                  for s in (subs or [None])}
    assert set(EVENTS) == documented


@pytest.mark.parametrize(("event_type", "subtype"), sorted(EVENTS, key=str))
def test_each_event_type_and_subtype(event_type: str, subtype: str | None) -> None:
    mapper = Mapper(Settings())
    record = policy_event(datetime.now(UTC), event_type=event_type, subtype=subtype, policy_name="p",
                          policy_action="Quarantine", sender="a@x.example", recipients=["b@ourcorp.example"])
    [event] = mapper.map(POLICY, record)
    assert (event.disposition, event.reason, event.cause) == ("quarantined", EVENTS[(event_type, subtype)],
                                                              "gateway_policy")
    assert mapper.unmapped == 0 and event_type in (event.reply_text or "")
    assert event_rule(event_type.upper(), (subtype or "").lower()) == event_rule(event_type, subtype or "")


POLICY_ACTIONS = {
    "Quarantine": "quarantined", "Quarantined": "quarantined",
    "Delete": "deleted", "Message deleted": "deleted",
    **{a: "delivered" for a in (
        "Bypass", "Deliver", "Attachment sanitized", "Sanitize attachments",
        "Attachment deleted upon failure to remove active content", "Attachment deleted", "BCC", "Cleaned",
        "Notification sent", "Send notification", "Recipient changed", "Change recipient", "Stamp inserted",
        "Insert stamp in body", "Subject tagged", "Tag Subject", "Submitted for encryption", "X-Header inserted",
        "Insert X-Header", "Clean cleanable malware", "delete those that cannot be cleaned")},
}


def test_every_documented_policy_action_has_its_expectation(corpus) -> None:
    assert set(POLICY_ACTIONS) == set(_vocab(corpus, "policyAction"))


@pytest.mark.parametrize("action", sorted(POLICY_ACTIONS))
def test_each_policy_action(action: str) -> None:
    assert policy_disposition(action) == (POLICY_ACTIONS[action], True)


@pytest.mark.parametrize(("action", "expected"), [
    ("Clean cleanable malware, delete those that cannot be cleaned", "delivered"),  # only attachments went
    ("Attachment deleted, Notification sent", "delivered"),
    ("Quarantine, Notification sent", "quarantined"),
    ("Tag Subject; Delete", "deleted"),
])
def test_combined_policy_actions_take_the_strongest(action: str, expected: str) -> None:
    assert policy_disposition(action) == (expected, True)


def test_an_undocumented_policy_action_is_counted_not_guessed() -> None:
    mapper = Mapper(Settings())
    record = policy_event(datetime.now(UTC), event_type="Malware", policy_name="p", policy_action="Vaporize",
                          sender="a@x.example", recipients=["b@ourcorp.example"])
    [event] = mapper.map(POLICY, record)
    assert event.disposition == "accepted" and mapper.unmapped == 1


def test_policy_event_details_are_a_json_object_kept_as_evidence(corpus) -> None:
    for details in _vocab(corpus, "policy_details_examples"):
        record = policy_event(datetime.now(UTC), event_type="Malware", policy_name="p", policy_action="Delete",
                              sender="a@x.example", recipients=["b@ourcorp.example"], details=details)
        [event] = Mapper(Settings()).map(POLICY, record)
        first_key = next(iter(details))
        assert first_key in (event.reply_text or "")
