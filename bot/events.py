"""The tracking event: one message x recipient x outcome, as every log source produces it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from storage.models import EVENT_COLUMNS, Event

#: Event times outside this range are not mail events but damaged input (and would not fit a day partition).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def plausible_time(value: datetime) -> bool:
    """Whether a parsed time can be a real event's (parsers skip the record otherwise, counted)."""
    return EARLIEST <= value < LATEST


def split_domain(address: str | None) -> str | None:
    """Return the lowercase domain of an address, or None for the null sender or a bare local part."""
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().lower().rstrip(".") or None


def reverse_domain(domain: str | None) -> str | None:
    """'mx.partner.example' -> 'example.partner.mx.': subdomains share a prefix, so a range scan finds them."""
    if not domain:
        return None
    return ".".join(reversed(domain.lower().rstrip(".").split("."))) + "."


@dataclass(slots=True)
class TrackingEvent:
    """One row of the tracking store. Times are timezone-aware UTC."""

    time: datetime
    source: str
    source_key: str
    direction: str
    disposition: str
    sender: str | None = None
    recipient: str | None = None
    client_ip: str | None = None
    client_host: str | None = None
    helo: str | None = None
    relay: str | None = None
    message_id: str | None = None
    queue_id: str | None = None
    size: int | None = None
    nrcpt: int | None = None
    smtp_code: int | None = None
    enhanced_status: str | None = None
    reply_text: str | None = None
    stage: str | None = None
    rejected_by: str | None = None
    reason: str | None = None
    cause: str | None = None
    dnsbl_zone: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sender_domain(self) -> str | None:
        return split_domain(self.sender)

    @property
    def recipient_domain(self) -> str | None:
        return split_domain(self.recipient)

    def as_row(self) -> dict[str, Any]:
        """The column values for storage by name (derived domain columns included, `extra` left out)."""
        return dict(zip(EVENT_COLUMNS, self.as_values(), strict=True))

    def as_values(self) -> tuple[Any, ...]:
        """The column values for storage in storage.models.EVENT_COLUMNS order: lowercase addresses, the derived
        domain columns, every value storable. Ingestion's compact row form (no names to build, pickle and read)."""
        return finish_values(self.raw_values())

    def raw_values(self) -> tuple[Any, ...]:
        """The event's own values in EVENT_COLUMNS order, as they are (the derived columns hold placeholders):
        what `finish_values` turns into a value row, maybe in the writer process (bot.ingest.writer)."""
        return _ATTRIBUTES(self)


def finish_values(raw: Sequence[Any]) -> tuple[Any, ...]:
    """A value row from TrackingEvent.raw_values(): lowercase addresses, the derived domain columns, every value
    storable."""
    values = list(raw)
    sender = values[_SENDER] = (values[_SENDER] or "").lower() or None
    recipient = values[_RECIPIENT] = (values[_RECIPIENT] or "").lower() or None
    sender_domain = values[_SENDER_DOMAIN] = split_domain(sender)
    values[_SENDER_DOMAIN_REV] = reverse_domain(sender_domain)
    values[_RECIPIENT_DOMAIN] = split_domain(recipient)
    return storable_values(values)


def _clean_text(value: str, limit: int | None) -> str:
    """Text any database holds: no NUL (PostgreSQL refuses it), no lone surrogates, within the column."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def storable(row: dict[str, Any]) -> dict[str, Any]:
    """Make a row storable whatever a log line said: a hostile HELO, binary junk or a 2**70 size must cost
    that field, never the batch it arrived in."""
    for name, value in row.items():
        if value.__class__ is str:
            # the common case costs three cheap checks: ASCII, no NUL, within the column
            if value.isascii() and "\x00" not in value and len(value) <= _TEXT_LIMITS.get(name, _NO_LIMIT):
                continue
            row[name] = _clean_text(value, _TEXT_LIMITS.get(name))
        elif value.__class__ is int and name in _INT_LIMITS and not 0 <= value < _INT_LIMITS[name]:
            row[name] = None
    return row


def storable_values(values: list[Any]) -> tuple[Any, ...]:
    """`storable` for a value row (a list in EVENT_COLUMNS order); returns it as a tuple."""
    for index, limit in _TEXT_CHECKS:
        value = values[index]
        # the common case costs three cheap checks: within the column, ASCII, no NUL
        if value.__class__ is str and (len(value) > limit or not value.isascii() or "\x00" in value):
            values[index] = _clean_text(value, None if limit == _NO_LIMIT else limit)
    for index, limit in _INT_CHECKS:
        value = values[index]
        if value.__class__ is int and not 0 <= value < limit:
            values[index] = None
    return tuple(values)


#: Column widths of the event table (PostgreSQL enforces them) and the ranges of its integer columns.
_TEXT_LIMITS: dict[str, int] = {c.name: c.type.length for c in Event.__table__.columns
                                if getattr(c.type, "length", None)}
_INT_LIMITS: dict[str, int] = {"size": 2**63, "nrcpt": 2**31, "smtp_code": 1000}
_NO_LIMIT = 1 << 30
#: (position, width) of every text column in a value row, and (position, bound) of the bounded integer ones.
_TEXT_CHECKS: tuple[tuple[int, int], ...] = tuple(
    (i, _TEXT_LIMITS.get(name, _NO_LIMIT)) for i, name in enumerate(EVENT_COLUMNS)
    if Event.__table__.c[name].type.python_type is str)
_INT_CHECKS: tuple[tuple[int, int], ...] = tuple(
    (EVENT_COLUMNS.index(name), bound) for name, bound in _INT_LIMITS.items())
#: A value row's columns from the event's attributes; the derived ones are placeholders, set by finish_values.
_DERIVED = {"sender_domain", "sender_domain_rev", "recipient_domain"}
_ATTRIBUTES = attrgetter(*(("time" if name in _DERIVED else name) for name in EVENT_COLUMNS))
_SENDER, _RECIPIENT, _SENDER_DOMAIN, _SENDER_DOMAIN_REV, _RECIPIENT_DOMAIN = (
    EVENT_COLUMNS.index(name) for name in ("sender", "recipient", "sender_domain", "sender_domain_rev",
                                           "recipient_domain"))

