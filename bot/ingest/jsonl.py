"""JSON Lines -> tracking events: the way in for any gateway that is not Postfix (schema: docs/jsonl.md).

One JSON object per line. A record that is not an object, lacks a required field or has a value of the
wrong kind is counted and skipped with its line number; it never stops the import.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.events import TrackingEvent, plausible_time
from bot.ingest.base import NO_EVENTS, KeyMaker, ParseStats
from bot.reasons import classify, dnsbl_zone_in
from bot.vocab import REASONS, Cause, Direction, Disposition, Side

SOURCE = "jsonl"

_TEXT_FIELDS = {  # field -> longest value the store keeps
    "sender": 320, "recipient": 320, "client_ip": 45, "client_host": 255, "helo": 255, "relay": 255,
    "message_id": 998, "queue_id": 32, "enhanced_status": 16, "reply_text": 100_000, "stage": 16,
}
_INT_FIELDS = ("size", "nrcpt")
_DISPOSITIONS = frozenset(d.value for d in Disposition)
_DIRECTIONS = frozenset(d.value for d in Direction)
_SIDES = frozenset(s.value for s in Side)
_CAUSES = frozenset(c.value for c in Cause)
_REASONS = frozenset(REASONS)
#: Epoch numbers above this are milliseconds (year 5138 in seconds).
_MILLIS = 1e11


class BadRecord(ValueError):
    """Why one record was skipped."""


def parse_time(value: Any) -> datetime:
    """RFC 3339 / ISO 8601 text (no offset = UTC) or epoch seconds/milliseconds -> aware UTC datetime."""
    if isinstance(value, bool):
        raise BadRecord("time must be a date-time text or an epoch number")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > _MILLIS else value
        try:
            return _plausible(datetime.fromtimestamp(seconds, UTC), value)
        except (OverflowError, OSError, ValueError) as exc:
            raise BadRecord(f"time {value!r} is out of range") from exc
    if not isinstance(value, str) or not value.strip():
        raise BadRecord("time must be a date-time text or an epoch number")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError as exc:
        raise BadRecord(f"time {value!r} is not RFC 3339") from exc
    return _plausible(parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC), value)


def _plausible(when: datetime, given: Any) -> datetime:
    if not plausible_time(when):
        raise BadRecord(f"time {given!r} is out of range")
    return when


def _choice(record: dict[str, Any], name: str, allowed: frozenset[str], default: str | None) -> str | None:
    value = record.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in allowed:
        raise BadRecord(f"{name} must be one of {', '.join(sorted(allowed))}, got {value!r}")
    return value.lower()


def record_to_event(record: Any, key: KeyMaker, line: str) -> TrackingEvent:
    """Validate one decoded record and build its event; raises BadRecord saying what is wrong."""
    if not isinstance(record, dict):
        raise BadRecord("a record must be a JSON object")
    if "time" not in record:
        raise BadRecord("time is required")
    when = parse_time(record["time"])
    disposition = _choice(record, "disposition", _DISPOSITIONS, None)
    if disposition is None:
        raise BadRecord("disposition is required")
    fields: dict[str, Any] = {}
    for name, limit in _TEXT_FIELDS.items():
        value = record.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise BadRecord(f"{name} must be text")
        if len(value) > limit:
            raise BadRecord(f"{name} is longer than {limit} characters")
        fields[name] = value
    if not any(fields.get(n) for n in ("sender", "recipient", "client_ip", "message_id")):
        raise BadRecord("one of sender, recipient, client_ip, message_id is required")
    for name in (*_INT_FIELDS, "smtp_code"):
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BadRecord(f"{name} must be a whole number")
        fields[name] = value
    code = fields.get("smtp_code")
    if code is not None and not 200 <= code <= 599:
        raise BadRecord(f"smtp_code must be between 200 and 599, got {code}")
    direction = _choice(record, "direction", _DIRECTIONS, Direction.UNKNOWN.value)
    default_side = Side.GATEWAY.value if disposition == Disposition.REJECTED else Side.REMOTE.value
    rejected_by = _choice(record, "rejected_by", _SIDES, None)
    reason = _choice(record, "reason", _REASONS, None)
    cause = _choice(record, "cause", _CAUSES, None)
    if reason is None or cause is None:
        found = classify(smtp_code=code, enhanced_status=fields.get("enhanced_status"),
                         text=fields.get("reply_text"), stage=fields.get("stage"),
                         side=rejected_by or default_side, disposition=disposition,
                         host=fields.get("relay"))
        reason, cause = reason or found.reason, cause or found.cause
    zone = record.get("dnsbl_zone")
    if zone is not None and not isinstance(zone, str):
        raise BadRecord("dnsbl_zone must be text")
    source = record.get("source") or SOURCE
    if not isinstance(source, str) or len(source) > 32:
        raise BadRecord("source must be text of at most 32 characters")
    given_key = record.get("source_key")
    if given_key is not None and (not isinstance(given_key, str | int) or len(str(given_key)) > 90):
        raise BadRecord("source_key must be text of at most 90 characters")
    source_key = f"{source}:{given_key}" if given_key is not None else key.key(when.isoformat(), line)
    return TrackingEvent(
        time=when, source=source, source_key=source_key, direction=direction or Direction.UNKNOWN.value,
        disposition=disposition, rejected_by=rejected_by, reason=reason, cause=cause,
        dnsbl_zone=(zone or None) if "dnsbl_zone" in record else dnsbl_zone_in(fields.get("reply_text")),
        **fields,
    )


class JsonlParser:
    """One event per line; the line number is part of the state so messages stay right after a resume."""

    source = SOURCE

    def __init__(self, **_options: Any) -> None:
        self.stats = ParseStats()
        self._keys = KeyMaker(SOURCE)
        self._line = 0

    def feed(self, line: str) -> Sequence[TrackingEvent]:
        self.stats.lines += 1
        self._line += 1
        text = line.strip()
        if not text:
            return NO_EVENTS
        try:
            event = record_to_event(json.loads(text), self._keys, text)
        except json.JSONDecodeError as exc:
            self.stats.skip("bad record", line, f"line {self._line}: not JSON ({exc.msg}): ")
            return NO_EVENTS
        except RecursionError:
            self.stats.skip("bad record", line, f"line {self._line}: nested too deeply: ")
            return NO_EVENTS
        except BadRecord as exc:
            self.stats.skip("bad record", line, f"line {self._line}: {exc}: ")
            return NO_EVENTS
        self.stats.events += 1
        return (event,)

    def snapshot(self) -> dict[str, Any]:
        return {"line": self._line, "keys": self._keys.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        self._line = int(state.get("line") or 0)
        self._keys.restore(state.get("keys") or {})
