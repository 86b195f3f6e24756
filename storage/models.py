"""SQLAlchemy 2 typed models of the tracking store and bouncebot's own records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import BigId, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Event(Base):
    """One message x recipient x outcome, from any log source."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32))
    source_key: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(16))
    disposition: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str | None] = mapped_column(String(320))
    sender_domain: Mapped[str | None] = mapped_column(String(255))
    #: sender_domain reversed by label with a trailing dot ("example.partner."): a prefix range finds subdomains.
    sender_domain_rev: Mapped[str | None] = mapped_column(String(256))
    recipient: Mapped[str | None] = mapped_column(String(320))
    recipient_domain: Mapped[str | None] = mapped_column(String(255))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    client_host: Mapped[str | None] = mapped_column(String(255))
    helo: Mapped[str | None] = mapped_column(String(255))
    relay: Mapped[str | None] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(998))
    queue_id: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int | None] = mapped_column(BigId)
    nrcpt: Mapped[int | None] = mapped_column(Integer)
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    enhanced_status: Mapped[str | None] = mapped_column(String(16))
    reply_text: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(String(16))
    rejected_by: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(24))
    cause: Mapped[str | None] = mapped_column(String(24))
    dnsbl_zone: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        # The time is part of the key because a partitioned table's unique keys must contain the partition column,
        # and it comes first because events arrive in time order: inserts append to the index instead of landing on
        # random pages (the source key is a hash). It also serves time ranges and newest-first (no plain time index).
        UniqueConstraint("time", "source_key", name="uq_events_time_source_key"),
        Index("ix_events_sender_time", "sender", "time"),
        Index("ix_events_sender_domain_rev_time", "sender_domain_rev", "time"),
        Index("ix_events_client_ip_time", "client_ip", "time"),
        Index("ix_events_recipient_time", "recipient", "time"),
        Index("ix_events_message_id_time", "message_id", "time"),
        Index("ix_events_queue_id", "queue_id"),
        # Deferred events only (a few per cent): what is still in the queue, for the report's "deferred now".
        Index("ix_events_deferred_time", "time", sqlite_where=text("disposition = 'deferred'"),
              postgresql_where=text("disposition = 'deferred'")),
    )


#: The event table's columns a row gives (all but the id), in table order: the order of a value row (a tuple), the
#: compact form ingestion makes and sends to its writer process (storage.queries.insert_events takes both forms).
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in Event.__table__.columns if c.name != "id")


class IngestCursor(Base):
    """Where a log stream was read up to, with the parser state needed to resume there exactly."""

    __tablename__ = "ingest_cursors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    stream: Mapped[str] = mapped_column(String(1024))
    inode: Mapped[int | None] = mapped_column(BigId)
    offset: Mapped[int] = mapped_column(BigId, default=0)
    state: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("source", "stream", name="uq_ingest_cursors_source_stream"),)


class ApprovedSender(Base):
    """A sender address or domain our gateway should accept; exported to the gateway on every change."""

    __tablename__ = "approved_senders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pattern: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(8))  # address | domain
    reason: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(64))
    #: The idempotency key of the request that created it (e.g. the Slack message + action).
    request_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: "kind:pattern" while the approval is active, NULL once removed or expired: its unique index is what
    #: makes two concurrent approvals of one sender yield one row (NULLs never collide).
    active_key: Mapped[str | None] = mapped_column(String(330))

    __table_args__ = (
        Index("ix_approved_senders_pattern", "pattern"),
        Index("ux_approved_senders_active_key", "active_key", unique=True),
    )


class AuditEntry(Base):
    """Who did what, when, from which message: approvals, refusals, removals, case changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(998))
    outcome: Mapped[str] = mapped_column(String(32))  # done | refused | duplicate | failed
    detail: Mapped[dict[str, Any] | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_audit_log_time", "time"),)


class SupportCase(Base):
    """A support case opened from a diagnosis, with a snapshot of that diagnosis."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(998))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    snapshot: Mapped[dict[str, Any] | None]
    opened_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    case_message_ts: Mapped[str | None] = mapped_column(String(32))
    request_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    reopened_at: Mapped[datetime | None]
    reopened_by: Mapped[str | None] = mapped_column(String(64))


class SlackEventSeen(Base):
    """Event ids already answered, so Slack's retries never get a second answer."""

    __tablename__ = "slack_events_seen"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]


class DigestRun(Base):
    """The claim on one digest for one date: the instance whose insert succeeds posts it."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(128))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in the digest's time zone
    claimed_by: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("digest", "day", name="uq_digest_runs_digest_day"),)


class DigestRollup(Base):
    """Tracking events counted per local day (of one time zone) and dimension, so the digest reads no raw events.

    `kind` says which dimension `key` holds: total (key ''), hour (hours since local midnight), sender, domain,
    ip, recipient (invalid-recipient rejections), remote_domain (outbound failures); sender_n, domain_n and ip_n
    are compact twins without cause and reason (one row per key, direction, disposition). Unknown cause/reason
    is ''.
    """

    __tablename__ = "digest_rollup"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    zone: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in `zone`
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(320))
    direction: Mapped[str] = mapped_column(String(16))
    disposition: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(24))
    count: Mapped[int] = mapped_column(BigId)

    __table_args__ = (
        UniqueConstraint("zone", "kind", "day", "key", "direction", "disposition", "cause", "reason",
                         name="uq_digest_rollup_cell"),
        Index("ix_digest_rollup_lookup", "zone", "kind", "key", "day", "disposition", "direction"),
    )


class RollupDayState:
    """How far one local day of a rollup is built (bot/rollups.py): every event with id <= built_through_id is
    counted in it. The columns of each rollup's state table."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    zone: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))
    built_through_id: Mapped[int] = mapped_column(BigId)  # -1: not built yet
    events: Mapped[int] = mapped_column(BigId)
    built_at: Mapped[datetime]


class DigestRollupDay(RollupDayState, Base):
    """The digest rollup's state per zone and local day."""

    __tablename__ = "digest_rollup_days"
    __table_args__ = (UniqueConstraint("zone", "day", name="uq_digest_rollup_days_zone_day"),)


class ReportRollup(Base):
    """The traffic report's figures per local day (of one time zone), so a day's report reads no raw events.

    `kind` names the figure and what k1..k5 hold (bot/report/rollup.py: traffic, sender, recipient,
    deferral_domain, deferred_qid, delay, problem); a missing key is ''. `n` counts events, `bytes` sums sizes,
    `delay_sum`/`delays`/`delay_max` are the delays measured (seconds), `example` the smallest reply text.
    """

    __tablename__ = "report_rollup"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    zone: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in `zone`
    kind: Mapped[str] = mapped_column(String(16))
    k1: Mapped[str] = mapped_column(String(320))
    k2: Mapped[str] = mapped_column(String(320))
    k3: Mapped[str] = mapped_column(String(255))
    k4: Mapped[str] = mapped_column(String(255))
    k5: Mapped[str] = mapped_column(String(255))
    n: Mapped[int] = mapped_column(BigId)
    bytes: Mapped[int] = mapped_column(BigId)
    delay_sum: Mapped[int] = mapped_column(BigId)
    delays: Mapped[int] = mapped_column(BigId)
    delay_max: Mapped[int | None] = mapped_column(BigId)
    example: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("zone", "day", "kind", "k1", "k2", "k3", "k4", "k5", name="uq_report_rollup_cell"),
    )


class ReportRollupDay(RollupDayState, Base):
    """The report rollup's state per zone and local day."""

    __tablename__ = "report_rollup_days"
    __table_args__ = (UniqueConstraint("zone", "day", name="uq_report_rollup_days_zone_day"),)


class BlacklistSnapshot(Base):
    """Our outbound IPs' block-list answers as one digest saw them: the next digest reports what changed."""

    __tablename__ = "blacklist_snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(128))
    taken_at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(String(45))
    zone: Mapped[str] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(16))  # listed | not_listed | unknown
    detail: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_blacklist_snapshots_digest_taken", "digest", "taken_at"),)


class DeferredIndex(Base):
    """An event-table index a bulk load dropped (SQLite), with the statement that builds it again (storage.bulk)."""

    __tablename__ = "deferred_indexes"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    ddl: Mapped[str] = mapped_column(Text)
    deferred_at: Mapped[datetime]
