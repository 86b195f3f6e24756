"""Trend Micro Email Security log records -> tracking events.

TMEMS's own words (actions, blocking reasons, policy event types and actions) are mapped by the explicit tables
in bot.ingest.tmems_tables. An SMTP reply found in `details` goes to bot.reasons.classify, the same chain every
other source uses: it decides the reason wherever the reply says something specific, and TMEMS's own word
decides where the reply says less. The policy limits (Settings.policy) decide a size the tables cannot.

Records are read as published: keys are absent where they do not apply (a Quarantined record has no senderIP,
tlsInfo, deliveredTo, details), `deliveredTo` is `host[ip]:port`, a bare IP or `none`, policy events carry a
`recipients` list and a `messageID` but no `mailID`, and their `details` is a JSON object.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from bot.config import Settings
from bot.events import EARLIEST, LATEST, TrackingEvent, plausible_time, reverse_domain, split_domain, storable
from bot.ingest.tmems_tables import (
    ACTIONS,
    BLOCKED_REASONS,
    DELETE_ACTIONS,
    DELIVER_ACTIONS,
    EVENT_TYPES,
    HELD_TEXT,
    QUARANTINE_ACTIONS,
    UNKNOWN_ACTION,
    ActionRule,
    Rule,
)
from bot.reasons import Classification, classify, dnsbl_zone_in
from bot.vocab import Cause, Direction, Disposition, Side

SOURCE = "tmems"

#: Record kinds, as used in the source key and the cursor's stream names.
ACCEPTED = "accepted_traffic"
BLOCKED = "blocked_traffic"
POLICY = "policy_events"


_DIRECTIONS = {"in": Direction.INBOUND, "incoming": Direction.INBOUND, "inbound": Direction.INBOUND,
               "out": Direction.OUTBOUND, "outgoing": Direction.OUTBOUND, "outbound": Direction.OUTBOUND}

# "550 5.1.1 ...", "host x[192.0.2.1] said: 452-4.2.2 ...": the first reply code not part of an address.
_REPLY = re.compile(r"(?<![\d.])([245]\d\d)(?:[ -]+([245]\.\d{1,3}\.\d{1,3}))?(?![\d.])")
_HOST = re.compile(r"\bhost\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\[")
_ENHANCED = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")

_TEXT_MAX = 2000
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class BadRecord(ValueError):
    """A record that cannot become an event (no time, no recipient...): counted and skipped."""


class Mapped(NamedTuple):  # a tuple: made for every record, where a frozen dataclass costs a microsecond
    disposition: str
    reason: str | None
    cause: str | None
    rule: str


#: Classifier rules that read a reply only weakly (a general status code, generic words, the SMTP stage, or
#: nothing readable): TMEMS's own word says more than they do.
_WEAK_RULES = ("status-hint:", "weak-phrase:", "stage:", "fallback:")


def says_more(found: Classification) -> bool:
    """Whether the classifier read something specific in a reply (a provider rule, a named block list, a
    decisive status code, a specific phrase), rather than falling back on weak evidence."""
    return found.reason not in ("undefined", "onhold") and not found.rule.startswith(_WEAK_RULES)


def blocked_rule(reason_text: str | None) -> Rule | None:
    """The documented blocking reason a record names (its text exactly, in any case), or None."""
    if not reason_text:
        return None
    return BLOCKED_REASONS.get(" ".join(reason_text.split()).lower())


def event_rule(event_type: str, subtype: str) -> Rule | None:
    """The rule for a policy event's eventType and eventSubtype (documented values, any case), or None."""
    found = EVENT_TYPES.get(event_type.strip().lower())
    if found is None:
        return None
    rule, by_subtype = found
    return by_subtype.get(subtype.strip().lower(), rule)


_ACTION_SPLIT = re.compile(r"\s*[,;]\s*")
#: The one documented action whose own text holds a comma.
_CLEAN_OR_DELETE = "clean cleanable malware, delete those that cannot be cleaned"


def policy_disposition(action: str) -> tuple[str, bool]:
    """(disposition, known) for a policyAction, which may name several actions: quarantine wins over deleting
    the message, which wins over everything that lets the message go on (attachment removed or cleaned, tag,
    stamp, BCC, notification...). `known` is False when an action is not a documented one."""
    text = action.strip().lower().replace(_CLEAN_OR_DELETE, "cleaned")
    items = [item for item in _ACTION_SPLIT.split(text) if item]
    known = bool(items) and all(i in QUARANTINE_ACTIONS or i in DELETE_ACTIONS or i in DELIVER_ACTIONS
                                for i in items)
    if any(i in QUARANTINE_ACTIONS for i in items):
        return Disposition.QUARANTINED, known
    if any(i in DELETE_ACTIONS for i in items):
        return Disposition.DELETED, known
    if any(i in DELIVER_ACTIONS for i in items):
        return Disposition.DELIVERED, known
    return Disposition.ACCEPTED, False


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 ('2026-11-30T08:00:00Z', with or without milliseconds) or epoch seconds/milliseconds -> UTC."""
    if value.__class__ is str:
        # The API's own form ('...T08:00:00.123Z') in one C call: a 'Z' or '+00:00' time is already UTC, so the
        # general path below would only normalise what is normal. Anything else (spaces, other offsets, no
        # zone, not a time at all) takes the general path, which decides exactly as it always did.
        try:
            parsed = _fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is UTC:
                return parsed if EARLIEST <= parsed < LATEST else None
    return _parse_time_general(value)


_fromisoformat = datetime.fromisoformat


def _parse_time_general(value: Any) -> datetime | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10_000_000_000 else value
        try:
            parsed = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed if plausible_time(parsed) else None


@lru_cache(maxsize=4096)
def reply_code(text: str | None) -> tuple[int | None, str | None]:
    """The SMTP reply code and enhanced status named in a reply text, if any."""
    if not text:
        return None, None
    match = _REPLY.search(text)
    if match:
        return int(match.group(1)), match.group(2)
    enhanced = _ENHANCED.search(text)
    return None, enhanced.group(1) if enhanced else None


@lru_cache(maxsize=4096)
def _classify_cached(code: int | None, enhanced: str | None, text: str | None, side: str,
                     disposition: str | None, host: str | None) -> Classification:
    # Downstream replies repeat a lot (the same remote refusing many messages): classify each text once.
    return classify(smtp_code=code, enhanced_status=enhanced, text=text, side=side, disposition=disposition,
                    host=host)


def remote_host(details: str | None, delivered_to: Any) -> str | None:
    """The next hop's host name, for the classifier's provider tables: 'host mx.x.example[...] said' in the
    reply, or the host of deliveredTo ('mx.example.net[203.0.113.10]:25') when that is a name."""
    host = _host_in(details) if details else None
    if host:
        return host
    return relay_host(delivered_to)


_DELIVERED_TO = re.compile(r"^([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z][A-Za-z0-9-]*)\.?(?:\[|$)")


def relay_host(delivered_to: Any) -> str | None:
    """The host name in deliveredTo (`host[ip]:port`, a bare IP or `none`); None for an address or none."""
    if delivered_to.__class__ is not str:
        return None
    match = _DELIVERED_TO.match(delivered_to.strip())
    return match.group(1).lower() if match else None


def relay_of(delivered_to: Any) -> str | None:
    """deliveredTo as the relay column holds it: `none` (a bounce) is no relay."""
    text = str(delivered_to or "").strip()
    return text[:255] if text and text.lower() != "none" else None


@lru_cache(maxsize=4096)
def _host_in(details: str) -> str | None:
    match = _HOST.search(details)
    return match.group(1).lower() if match else None


#: Replies repeat (one remote refusing many messages, one reason for a whole spam wave): look each up once.
_zone_in = lru_cache(maxsize=4096)(dnsbl_zone_in)


def _zone(reply: str | None) -> str | None:
    zone = _zone_in(reply)
    return zone if zone and len(zone) <= 253 else None  # a DNS name is at most 253 characters


def _text(value: Any) -> str | None:
    """details may be a string, or a JSON object/list: always a bounded string for reply_text."""
    if value.__class__ is str:
        return value[:_TEXT_MAX] or None
    if value is None or value == "" or value == [] or value == {}:
        return None
    if not isinstance(value, str):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value[:_TEXT_MAX]


def direction_of(record: Mapping[str, Any], local_domains: tuple[str, ...]) -> str:
    """The record's own direction; failing that, which side is one of our domains."""
    value = record.get("direction")
    if value.__class__ is str:
        known = _DIRECTIONS.get(value)  # the API's own 'in' / 'out', as sent
        if known is not None:
            return known
    if isinstance(value, str) and value.strip().lower() in _DIRECTIONS:
        return _DIRECTIONS[value.strip().lower()]
    if local_domains:
        sender, recipient = (str(record.get(k) or "").lower() for k in ("sender", "recipient"))
        if recipient.rpartition("@")[2] in local_domains:
            return Direction.INBOUND
        if sender.rpartition("@")[2] in local_domains:
            return Direction.OUTBOUND
    return Direction.UNKNOWN


def source_key(kind: str, mail_id: str, recipient: str, what: str, when: str) -> str:
    """Deterministic and short: the same record polled twice (overlap, re-poll) gives the same key."""
    digest = hashlib.blake2b(f"{mail_id}\x1f{recipient}\x1f{kind}\x1f{what}\x1f{when}".encode(),
                             digest_size=16).hexdigest()
    return f"{SOURCE}:{kind[0]}:{digest}"


def _queue_id(mail_id: str | None) -> str | None:
    # TMEMS mail IDs are UUIDs (36 characters); the column holds 32, which the UUID fits without hyphens.
    if not mail_id:
        return None
    return mail_id if len(mail_id) <= 32 else mail_id.replace("-", "")[:32]


def _address(value: Any, what: str) -> str | None:
    """An envelope address as the store can hold it (320 characters, a domain of at most 253): a record with
    a longer one is malformed; storing it would fail the whole window on PostgreSQL, again on every run."""
    if not value:
        return None
    address = str(value).strip()
    if len(address) > 253 and (len(address) > 320 or len(address.rpartition("@")[2]) > 253):
        raise BadRecord(f"{what} address longer than an address can be")
    return address or None


def _size(value: Any) -> int | None:
    if value.__class__ is int:
        return value if 0 <= value < 2**62 else None
    try:
        size = int(value) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None
    return size if size is not None and 0 <= size < 2**62 else None  # the column is a 64-bit integer


#: Distinct domains a Mapper remembers (see Mapper._domain).
_DOMAINS_KEPT = 65536
#: Each vocabulary word (an enum member, or the string it equals) -> the plain string. Events and rows hold the
#: plain string (equal to the member, stored the same): a dict of nothing but strings, numbers, times and None is
#: one the garbage collector never tracks, and a poll keeps tens of thousands of rows waiting for the writer;
#: with enum members in them, every full collection walked all of those rows (~8 us a record in GC).
_PLAIN: dict[Any, str] = {member: member.value for vocab in (Cause, Direction, Disposition, Side) for member in vocab}


class Mapper:
    """Maps one poll's records; keeps the policy limits and counts what it could not map.

    `rows` gives exactly what `map` followed by TrackingEvent.as_row gives (the poller stores rows; `map` is
    for everything that wants events), without making the event first: the columns are built once, the domain
    columns come from a per-poll cache (a gateway sees the same few hundred domains all day), and the row is
    made storable by bot.events.storable as every event row is."""

    def __init__(self, settings: Settings) -> None:
        self.local_domains = settings.local_domains
        self.max_bytes = int(settings.policy.max_message_mb * 1024 * 1024)
        self.unmapped = 0
        self.latest = datetime.now(UTC) + timedelta(days=2)  # the API serves the last 72 hours, nothing ahead
        self.by_kind: dict[str, Callable[..., list[Any]]] = {
            ACCEPTED: self.accepted, BLOCKED: self.blocked, POLICY: self.policy_event,
        }
        self._actions: dict[str, tuple[str, ActionRule, Mapped, bool, str | None]] = {}
        self._domains: dict[str, tuple[str | None, str | None]] = {}
        #: (message ID, recipient) -> (disposition, reason, cause, what the policy did) of this poll's policy
        #: events: the why of a Quarantined or Deleted tracking record, which says only that.
        self._policies: dict[tuple[str, str], tuple[str, str | None, str | None, str]] = {}

    def map(self, kind: str, record: Mapping[str, Any]) -> list[TrackingEvent]:
        """Events for one record of `kind`; raises BadRecord for a record that names no time."""
        if not isinstance(record, Mapping):
            raise BadRecord("not a JSON object")
        return self.by_kind[kind](record, self._event)

    def rows(self, kind: str, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        """[event.as_row() for event in self.map(kind, record)], made directly."""
        if record.__class__ is not dict and not isinstance(record, Mapping):
            raise BadRecord("not a JSON object")
        return self.by_kind[kind](record, self._row)

    # -- accepted traffic ----------------------------------------------------------------------------------------
    def _action(self, value: Any) -> tuple[str, ActionRule, Mapped, bool, str | None]:
        """What an `action` value means, worked out once per distinct value: (the action's text, its rule, the
        mapping unless a reply decides, whether a table knows it, who refused the mail)."""
        found = self._actions.get(value) if value.__class__ is str else None
        if found is not None:
            return found
        action_text = str(value or "").strip()
        rule = ACTIONS.get(action_text.lower())
        known = rule is not None
        rule = rule or UNKNOWN_ACTION
        mapped = Mapped(rule.disposition, rule.reason, rule.cause, f"tmems-action:{action_text.lower()}")
        if rule.downstream:
            rejected_by: str | None = Side.REMOTE
        elif rule.disposition in (Disposition.DELETED, Disposition.QUARANTINED):
            rejected_by = Side.GATEWAY
        else:
            rejected_by = None
        found = (action_text, rule, mapped, known, rejected_by)
        if value.__class__ is str and len(self._actions) < 1024:
            self._actions[value] = found
        return found

    def accepted(self, record: Mapping[str, Any], build: Callable[..., Any]) -> list[Any]:
        action_text, rule, mapped, known, rejected_by = self._action(record.get("action"))
        if not known:
            self.unmapped += 1
        details = _text(record.get("details"))
        code, enhanced = reply_code(details)
        if rule.downstream and details and rule.disposition != Disposition.EXPIRED:
            host = remote_host(details, record.get("deliveredTo"))
            found = _classify_cached(code, enhanced, details, Side.REMOTE, rule.disposition, host)
            # A deferral is transient whatever the reply says; the reply only makes the reason precise.
            cause = Cause.TRANSIENT if rule.disposition == Disposition.DEFERRED else found.cause
            mapped = Mapped(rule.disposition, found.reason, cause, f"classify:{found.rule}")
        # Expired: the queue gave up on temporary failures (a final bounce, cause transient); the last reply
        # stays the evidence. Held: the record says so in words, since it carries no reply.
        reply = details or (f"{action_text}: {HELD_TEXT}" if rule.held else action_text or None)
        if self._policies and rule.disposition in (Disposition.QUARANTINED, Disposition.DELETED) and \
                record.get("messageID"):
            joined = self._policies.get(_join_key(record.get("messageID"), record.get("recipient")))
            if joined is not None and joined[0] == rule.disposition:
                mapped = Mapped(rule.disposition, joined[1], joined[2], f"tmems-policy:{mapped.rule}")
                reply = f"{action_text} by {joined[3]}"[:_TEXT_MAX]
        when = record.get("deliveryTime") if rule.disposition == Disposition.DELIVERED else None
        return [build(ACCEPTED, record, mapped, action_text, reply, code, enhanced, rejected_by, when)]

    # -- blocked traffic -----------------------------------------------------------------------------------------
    def blocked(self, record: Mapping[str, Any], build: Callable[..., Any]) -> list[Any]:
        reason_text = _text(record.get("reason")) or ""
        details = _text(record.get("details"))
        code, enhanced = reply_code(details)
        if code is None and enhanced is None:
            code, enhanced = reply_code(reason_text)
        rule = blocked_rule(reason_text)
        if rule is None:  # not a documented reason: counted, whatever decides it below
            self.unmapped += 1
        temporary = (rule is not None and rule.temporary) or _temporary(code, enhanced)
        disposition = Disposition.DEFERRED if temporary else Disposition.REJECTED
        found = (_classify_cached(code, enhanced, details, Side.GATEWAY, disposition, None) if details else None)
        size = _size(record.get("size"))
        if found is not None and says_more(found):
            # The reply says what happened in SMTP's own words: the classifier reads it as for every source.
            cause = Cause.TRANSIENT if temporary and rule is not None and rule.temporary else found.cause
            mapped = Mapped(disposition, found.reason, cause, f"classify:{found.rule}")
        elif rule is not None:
            mapped = Mapped(disposition, rule.reason, rule.cause, f"tmems-reason:{reason_text.lower()}")
        elif size is not None and size > self.max_bytes:
            mapped = Mapped(disposition, "mesgtoobig", Cause.GATEWAY_POLICY, "size-over-policy-limit")
        else:
            text = " ".join(t for t in (reason_text, details) if t) or None
            found = _classify_cached(code, enhanced, text, Side.GATEWAY, disposition, None)
            mapped = Mapped(disposition, found.reason, found.cause, f"classify:{found.rule}")
        reply = (f"{reason_text}: {details}" if details else reason_text) if reason_text else details
        return [build(BLOCKED, record, mapped, reason_text, reply, code, enhanced, Side.GATEWAY, None)]

    # -- policy events -------------------------------------------------------------------------------------------
    def policy_event(self, record: Mapping[str, Any], build: Callable[..., Any]) -> list[Any]:
        event_type = str(record.get("eventType") or "")
        subtype = str(record.get("eventSubtype") or "")
        policy_name = str(record.get("policyName") or "")
        action = str(record.get("policyAction") or "")
        disposition, action_known = policy_disposition(action)
        rule = event_rule(event_type, subtype)
        size = _size(record.get("size"))
        if rule is None or not action_known:
            self.unmapped += 1
        if size is not None and size > self.max_bytes:
            mapped = Mapped(disposition, "mesgtoobig", Cause.GATEWAY_POLICY, "size-over-policy-limit")
        elif rule is not None:
            mapped = Mapped(disposition, rule.reason, rule.cause, f"tmems-event:{event_type.lower()}")
        else:
            mapped = Mapped(disposition, "undefined", Cause.GATEWAY_POLICY, "tmems-event:unknown")
        kind = f"{event_type} ({subtype})" if subtype else event_type or "policy"
        reply = f"{kind} policy '{policy_name}': {action or 'no action'}"
        details = _text(record.get("details"))
        if details:
            reply = f"{reply} ({details})"[:_TEXT_MAX]
        recipients = record.get("recipients")
        if isinstance(recipients, str):
            recipients = [recipients]
        elif not isinstance(recipients, list) or not recipients:
            recipients = [record.get("recipient")]
        what = f"{policy_name}\x1e{event_type}\x1e{subtype}\x1e{action}"
        events = [build(POLICY, record, mapped, what, reply, None, None, Side.GATEWAY, None, rcpt)
                  for rcpt in recipients]
        if disposition in (Disposition.QUARANTINED, Disposition.DELETED) and rule is not None and \
                record.get("messageID"):
            if len(self._policies) >= _POLICIES_KEPT:
                self._policies.clear()
            for rcpt in recipients:
                self._policies[_join_key(record.get("messageID"), rcpt)] = (
                    disposition, mapped.reason, mapped.cause, reply)
        return events

    # -- common ------------------------------------------------------------------------------------------------
    def _columns(self, kind: str, record: Mapping[str, Any], mapped: Mapped, what: str, reply: str | None,
                 code: int | None, enhanced: str | None, rejected_by: str | None, prefer: Any = None,
                 recipient: Any = ...) -> dict[str, Any]:
        """Every TrackingEvent field but `extra`, as the event holds it; raises BadRecord."""
        gen_raw = record.get("genTime") or record.get("timestamp")
        time = parse_time(prefer) if prefer else None
        time = time or parse_time(record.get("timestamp")) or parse_time(gen_raw)
        if time is None:
            raise BadRecord("no genTime/timestamp")
        if not _EARLIEST <= time <= self.latest:  # a year 9999 would fail the store (day partitions)
            raise BadRecord(f"time out of range: {time.isoformat()}")
        rcpt = _address(record.get("recipient") if recipient is ... else recipient, "recipient")
        mail_id = str(record.get("mailID") or "")
        message_id = record.get("messageID")
        if not mail_id and not message_id and not rcpt:
            raise BadRecord("neither mailID, messageID nor recipient")
        key = source_key(kind, mail_id or str(message_id or ""), (rcpt or "").lower(), what, str(gen_raw))
        client_ip = str(record.get("senderIP") or "").strip()
        direction = direction_of(record, self.local_domains)
        disposition, reason, cause = mapped.disposition, mapped.reason, mapped.cause
        # Vocabulary words as the plain strings the enum members equal (see _PLAIN), in the dict's first form.
        return {
            "time": time,
            "source": SOURCE,
            "source_key": key,
            "direction": _PLAIN.get(direction, direction),
            "disposition": _PLAIN.get(disposition, disposition),
            "sender": _address(record.get("sender"), "sender"),
            "recipient": rcpt,
            "client_ip": client_ip if 0 < len(client_ip) <= 45 else None,
            "client_host": None,
            "helo": None,
            "relay": relay_of(record.get("deliveredTo")),
            "message_id": str(message_id)[:998] if message_id else None,
            "queue_id": _queue_id(mail_id),
            "size": _size(record.get("size")),
            "nrcpt": None,
            "smtp_code": code,
            "enhanced_status": enhanced,
            "reply_text": reply,
            "stage": None,
            "rejected_by": _PLAIN.get(rejected_by, rejected_by),
            "reason": _PLAIN.get(reason, reason),
            "cause": _PLAIN.get(cause, cause),
            "dnsbl_zone": _zone(reply),
        }

    def _event(self, kind: str, record: Mapping[str, Any], mapped: Mapped, *args: Any) -> TrackingEvent:
        columns = self._columns(kind, record, mapped, *args)
        mail_id = str(record.get("mailID") or "") or None
        return TrackingEvent(**columns, extra={"kind": kind, "rule": mapped.rule, "mail_id": mail_id})

    def _row(self, kind: str, record: Mapping[str, Any], mapped: Mapped, *args: Any) -> dict[str, Any]:
        row = self._columns(kind, record, mapped, *args)
        # What TrackingEvent.as_row derives: lowercase addresses and the domain columns.
        sender, recipient = row["sender"], row["recipient"]
        if sender:
            row["sender"] = sender.lower()
            row["sender_domain"], row["sender_domain_rev"] = self._domain(sender)
        else:
            row["sender_domain"] = row["sender_domain_rev"] = None
        if recipient:
            row["recipient"] = recipient.lower()
            row["recipient_domain"] = self._domain(recipient)[0]
        else:
            row["recipient_domain"] = None
        return storable(row)

    def _domain(self, address: str) -> tuple[str | None, str | None]:
        """(split_domain(address), reverse_domain of that), looked up by the text after the last '@'."""
        at = address.rfind("@")
        if at < 0:
            return None, None
        tail = address[at + 1:]
        found = self._domains.get(tail)
        if found is None:
            domain = split_domain(address)
            found = (domain, reverse_domain(domain))
            if len(self._domains) >= _DOMAINS_KEPT:
                self._domains.clear()
            self._domains[tail] = found
        return found


#: Policy events a Mapper remembers for the join (one poll's worth; a bigger poll forgets the oldest batch).
_POLICIES_KEPT = 200_000


def _join_key(message_id: Any, recipient: Any) -> tuple[str, str]:
    """How a policy event and a tracking record of the same mail and recipient meet."""
    return (str(message_id or "").strip().strip("<>").lower(), str(recipient or "").strip().lower())


def _temporary(code: int | None, enhanced: str | None) -> bool:
    """A 4xx reply: the sender was told to try again."""
    return (code is not None and 400 <= code < 500) or (code is None and bool(enhanced) and enhanced[0] == "4")


def held_notes(profile: list[dict[str, Any]]) -> list[str]:
    """For the diagnosis: how many of a target's records say the gateway held the mail for analysis (sandbox,
    password analysis): held, not refused; its outcome comes in a later record. `profile`: rows of
    storage.queries.target_profile."""
    held = sum(row["count"] for row in profile
               if row["disposition"] == Disposition.ACCEPTED and row["reason"] == "onhold")
    if not held:
        return []
    return [f"{held} record{'s' if held != 1 else ''} of this mail say our gateway held it while analysing it "
            "(sandbox or password analysis): held, not refused. The gateway logs the outcome (delivered, "
            "quarantined...) in a later record; the newest ~2 hours may not be ingested yet."]
