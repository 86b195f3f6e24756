"""The traffic report's queries: a few GROUP BYs over one time window of the event table, parameterized.

Each function reads [start, end) through the (time, source_key) unique index and returns plain tuples; the
report (bot/report) turns them into pflogsumm's figures. Which events count as what is decided here, once,
in `_outcome` (see docs/report.md for the definitions and where pflogsumm's own are odd). The rollup
(bot/report/rollup.py) runs the same functions on one local day's new events (`ids`) and stores their rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from storage.models import Event, IngestCursor
from storage.types import BigId, UTCDateTime

#: A session or a connection: the rollup counts in its own transaction.
DB = Session | Connection
#: An id range (lo, hi]: only the events a rollup step adds (lo -1: every event up to hi).
Ids = tuple[int, int] | None

#: What the Postfix ingest appends to the reply text of a reject it inferred (Postfix logged no reject line:
#: bot/ingest/postfix_lines.py INFERRED_MARK); pflogsumm does not count those.
INFERRED_LIKE = "% (inferred%"
#: How Postfix's local(8) says a message was forwarded (an alias to another address), not delivered.
FORWARDED_LIKE = "forwarded as %"
#: 'deferred' written into the statement, not bound: the planners then use the partial index on deferred events
#: (ix_events_deferred_time), which a bound value does not prove applicable.
DEFERRED = literal_column("'deferred'")
#: Dispositions of a message × recipient that leave the queue for good.
FINAL = ("delivered", "bounced", "expired", "deleted", "rejected")


def _dialect(db: DB) -> str:
    bind = db if isinstance(db, Connection) else db.get_bind()
    return bind.dialect.name


def _epoch(db: DB) -> ColumnElement[Any]:
    return _epoch_of(db, Event.time)


def _outcome() -> ColumnElement[str]:
    """The pflogsumm figure an event counts toward ('' for none): one CASE shared by every query."""
    gateway = Event.rejected_by == "gateway"
    return case(
        (Event.disposition == "received", literal("received")),
        # the recipients a whole-message refusal did not name, a client lost in DATA: no line pflogsumm counts
        (and_(Event.disposition.in_(("rejected", "quarantined", "deleted")), Event.reply_text.like(INFERRED_LIKE)),
         literal("inferred")),
        (and_(Event.disposition == "delivered", Event.reply_text.like(FORWARDED_LIKE)), literal("forwarded")),
        (Event.disposition == "delivered", literal("delivered")),
        # the hand-over to an after-queue content filter is a status=sent line: pflogsumm counts it delivered
        (Event.disposition == "requeued", literal("delivered")),
        # discard(8) logs status=sent (with a relay, "none"): pflogsumm counts it delivered; a discard *action*
        # (and a gateway's delete of another source) is a discard.
        (and_(Event.disposition == "deleted", Event.relay.isnot(None), or_(Event.rejected_by.is_(None), ~gateway)),
         literal("delivered")),
        (Event.disposition == "deleted", literal("discarded")),
        (Event.disposition == "deferred", literal("deferred")),
        (Event.disposition == "bounced", literal("bounced")),
        (Event.disposition == "rejected", literal("rejected")),
        (Event.disposition == "warned", literal("reject_warning")),
        (Event.disposition == "quarantined", literal("held")),
        (Event.disposition == "expired", literal("expired")),
        else_=literal(""),
    )


def _window(db: DB, start: datetime, end: datetime, ids: Ids = None) -> ColumnElement[bool]:
    """[start, end), and with `ids` the events in (lo, hi]: by the primary key when lo >= 0 (new events), by the
    time index otherwise; on SQLite a unary + keeps the planner off the index not wanted."""
    if ids is None:
        return and_(Event.time >= start, Event.time < end)
    lo, hi = ids
    sqlite = _dialect(db) == "sqlite"
    if lo >= 0:
        time = type_coerce(literal_column("+events.time"), UTCDateTime()) if sqlite else Event.time
        return and_(Event.id > lo, Event.id <= hi, time >= start, time < end)
    ident = type_coerce(literal_column("+events.id"), BigId) if sqlite else Event.id
    return and_(Event.time >= start, Event.time < end, ident <= hi)


def outcome_buckets(session: DB, start: datetime, end: datetime,
                    ids: Ids = None) -> list[tuple[int, str, str, int, int]]:
    """(hours since `start`, source, outcome, events, sum of sizes) for every non-empty cell."""
    bucket = ((_epoch(session) - int(start.timestamp())) / 3600).label("bucket")
    outcome = _outcome().label("outcome")
    stmt = (select(bucket, Event.source, outcome, func.count(), func.coalesce(func.sum(Event.size), 0))
            .where(_window(session, start, end, ids)).group_by(bucket, Event.source, outcome))
    return [(int(b), src, o, int(n), int(s)) for b, src, o, n, s in session.execute(stmt)]


def deferred_messages(session: DB, start: datetime, end: datetime, ids: Ids = None) -> int:
    """Messages with at least one deferral (by queue id; an event without one is a message of its own)."""
    without = func.coalesce(func.sum(case((Event.queue_id.is_(None), 1), else_=0)), 0)
    stmt = select(func.count(func.distinct(Event.queue_id)), without).where(
        _window(session, start, end, ids), Event.disposition == "deferred")
    with_id, no_id = session.execute(stmt).one()
    return int(with_id or 0) + int(no_id or 0)


def deferrals_by_queue_id(session: DB, start: datetime, end: datetime, ids: Ids = None) -> list[tuple[Any, ...]]:
    """(queue id, deferrals): the rollup's form of `deferred_messages` (a message is deferred once however many
    days it is deferred on); the deferrals without a queue id are one row with None, each a message."""
    stmt = (select(Event.queue_id, func.count()).where(_window(session, start, end, ids),
                                                       Event.disposition == "deferred")
            .group_by(Event.queue_id))
    return [(qid, int(n)) for qid, n in session.execute(stmt)]


def received_by_sender(session: DB, start: datetime, end: datetime, ids: Ids = None) -> list[tuple[Any, ...]]:
    """(sender, sender domain, client host, client IP, messages, bytes) of the received messages whose sender
    and size are known (Postfix: qmgr saw them)."""
    stmt = (select(Event.sender, Event.sender_domain, Event.client_host, Event.client_ip, func.count(),
                   func.coalesce(func.sum(Event.size), 0))
            .where(_window(session, start, end, ids), Event.disposition == "received", Event.size.isnot(None))
            .group_by(Event.sender, Event.sender_domain, Event.client_host, Event.client_ip))
    return [tuple(row) for row in session.execute(stmt)]


#: Dispositions of a message that got in (not refused at the SMTP stage, not merely warned about).
GOT_IN = ("accepted", "delivered", "deferred", "bounced", "expired", "quarantined", "deleted")


def first_sightings(session: Session, start: datetime, end: datetime,
                    sources: set[str]) -> list[tuple[Any, ...]]:
    """For sources without `received` events (JSON Lines, TMEMS): each message that got in, once, as (hours
    since `start` of its first event in the window, sender, client host, client IP, size). A message is its
    Message-ID, else its queue id, else the event itself."""
    key = func.coalesce(Event.message_id, Event.queue_id, Event.source_key)
    first = func.min(_epoch(session))
    stmt = (select(Event.source, key, first, func.max(Event.sender), func.max(Event.client_host),
                   func.max(Event.client_ip), func.max(Event.size))
            .where(_window(session, start, end), Event.disposition.in_(GOT_IN), Event.source.in_(sorted(sources)),
                   or_(Event.rejected_by.is_(None), Event.rejected_by != "gateway")
                   | (Event.disposition != "deleted"))
            .group_by(Event.source, key))
    origin = int(start.timestamp())
    return [((int(at) - origin) // 3600, sender, host, ip, size) for _s, _k, at, sender, host, ip, size
            in session.execute(stmt)]


def delivered_by_recipient(session: DB, start: datetime, end: datetime, ids: Ids = None) -> list[tuple[Any, ...]]:
    """(recipient, recipient domain, deliveries, bytes) of the deliveries pflogsumm counts."""
    outcome = _outcome()
    stmt = (select(Event.recipient, Event.recipient_domain, func.count(), func.coalesce(func.sum(Event.size), 0))
            .where(_window(session, start, end, ids), Event.disposition.in_(("delivered", "deleted", "requeued")),
                   outcome == "delivered")
            .group_by(Event.recipient, Event.recipient_domain))
    return [tuple(row) for row in session.execute(stmt)]


def deferrals_by_domain(session: DB, start: datetime, end: datetime, ids: Ids = None) -> list[tuple[str, int]]:
    """(recipient domain, deferrals)."""
    stmt = (select(Event.recipient_domain, func.count())
            .where(_window(session, start, end, ids), Event.disposition == "deferred",
                   Event.recipient_domain.isnot(None))
            .group_by(Event.recipient_domain))
    return [(domain, int(n)) for domain, n in session.execute(stmt)]


def delays_by_domain(session: DB, start: datetime, end: datetime, domains: list[str] | None,
                     lifetime: timedelta = timedelta(days=7), ids: Ids = None) -> list[tuple[Any, ...]]:
    """(recipient domain, outcome, events, sum of delays, max delay, delays measured) of the deliveries and
    deferrals to `domains` (None: every domain, as the rollup counts them; each event costs a look-up); a delay
    is the event's time minus its message's `received` event (same queue id, within the queue lifetime before
    it), unknown (NULL) when the store has none."""
    received = aliased(Event)
    at = _epoch_of(session, Event.time)
    arrived_at = _epoch_of(session, received.time)
    arrived = (select(func.max(arrived_at)).where(
        received.queue_id == Event.queue_id, received.disposition == "received",
        arrived_at <= at, arrived_at >= at - int(lifetime.total_seconds()))
        .correlate(Event).scalar_subquery())
    outcome = _outcome().label("outcome")
    inner = (select(Event.recipient_domain.label("domain"), outcome, (at - arrived).label("delay"))
             .where(_window(session, start, end, ids),
                    Event.disposition.in_(("delivered", "deleted", "deferred", "requeued")),
                    Event.recipient_domain.in_(domains) if domains is not None else Event.recipient_domain.isnot(None))
             .subquery())
    stmt = (select(inner.c.domain, inner.c.outcome, func.count(), func.sum(inner.c.delay), func.max(inner.c.delay),
                   func.count(inner.c.delay))
            .where(inner.c.outcome.in_(("delivered", "deferred")))
            .group_by(inner.c.domain, inner.c.outcome))
    return [tuple(row) for row in session.execute(stmt)]


def _epoch_of(db: DB, column: Any) -> ColumnElement[Any]:
    if _dialect(db) == "sqlite":
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def problems(session: DB, start: datetime, end: datetime, ids: Ids = None) -> list[tuple[Any, ...]]:
    """(outcome, stage, reason, enhanced status, relay, events, an example reply) of the rejects, warnings,
    holds, discards, deferrals and bounces: grouped like pflogsumm's detail sections."""
    outcome = _outcome().label("outcome")
    inner = (select(outcome, Event.stage, Event.reason, Event.enhanced_status, Event.relay, Event.reply_text)
             .where(_window(session, start, end, ids), Event.disposition.in_(
                 ("rejected", "warned", "quarantined", "deleted", "deferred", "bounced")))
             .subquery())
    relay = case((inner.c.outcome.in_(("deferred", "bounced")), inner.c.relay), else_=None)
    stmt = (select(inner.c.outcome, inner.c.stage, inner.c.reason, inner.c.enhanced_status, relay, func.count(),
                   func.min(inner.c.reply_text))
            .where(inner.c.outcome.in_(("rejected", "reject_warning", "held", "discarded", "deferred", "bounced")))
            .group_by(inner.c.outcome, inner.c.stage, inner.c.reason, inner.c.enhanced_status, relay))
    return [tuple(row) for row in session.execute(stmt)]


def still_deferred(session: Session, until: datetime, limit: int,
                   lifetime: timedelta = timedelta(days=7)) -> tuple[int, list[tuple[Any, ...]]]:
    """Message × recipients deferred in the queue lifetime before `until` with no final outcome after: (how
    many, the `limit` oldest as (queue id, recipient, sender, first deferral, last deferral, deferrals, relay,
    last reply)). The deferrals come from the partial index on deferred events; a final outcome is looked up
    by queue id (on SQLite a unary + keeps the planner off the recipient and time indexes, which a busy
    mailbox makes long)."""
    later = aliased(Event, name="later")
    if _dialect(session) == "sqlite":
        recipient = literal_column("+later.recipient")
        time = type_coerce(literal_column("+later.time"), UTCDateTime())
    else:
        recipient, time = later.recipient, later.time
    # the explicit lower bound (implied by time >= Event.time) lets PostgreSQL skip older partitions
    done = exists().where(
        later.queue_id == Event.queue_id, recipient == Event.recipient, later.disposition.in_(FINAL),
        time >= Event.time, time >= until - lifetime, time < until)
    waiting = (select(Event.queue_id, Event.recipient, func.max(Event.sender).label("sender"),
                      func.min(Event.time).label("since"), func.max(Event.time).label("last"),
                      func.count().label("deferrals"), func.max(Event.relay).label("relay"),
                      func.max(Event.reply_text).label("reply"))
               .where(Event.time >= until - lifetime, Event.time < until, Event.disposition == DEFERRED,
                      Event.queue_id.isnot(None), ~done)
               .group_by(Event.queue_id, Event.recipient)
               .subquery())
    oldest = (select(waiting, func.count().over().label("total"))
              .order_by(waiting.c.since, waiting.c.queue_id, func.coalesce(waiting.c.recipient, "")).limit(limit))
    with _probing(session):
        rows = [tuple(row) for row in session.execute(oldest)]
    if rows:
        return int(rows[0][-1]), [row[:-1] for row in rows]
    if limit > 0:
        return 0, []
    return int(session.scalar(select(func.count()).select_from(waiting)) or 0), []


@contextmanager
def _probing(session: Session) -> Iterator[None]:
    """PostgreSQL, for one statement: look each deferral's final outcome up by queue id (a nested loop over the
    partial index, 0.22 s at 10 M events) rather than hash or merge the queue lifetime's final outcomes (0.47 s,
    0.9 s), which the planner prefers; and no JIT, whose compiling costs more than this statement
    (docs/benchmarks.md)."""
    if _dialect(session) != "postgresql":
        yield
        return
    settings = ("enable_hashjoin", "enable_mergejoin", "jit")
    for name in settings:
        session.execute(text(f"SET LOCAL {name} = off"))
    try:
        yield
    finally:
        for name in settings:
            session.execute(text(f"SET LOCAL {name} TO DEFAULT"))


def ingesting_since(session: Session, since: datetime) -> datetime | None:
    """When an ingest cursor last moved, if it moved after `since` (an ingest is running or just ran)."""
    newest = session.scalar(select(func.max(IngestCursor.updated_at)))
    return newest if newest is not None and newest >= since else None


def time_range(session: Session) -> tuple[datetime | None, datetime | None]:
    """The oldest and newest event times in the store (both through the time-first unique index)."""
    oldest = session.scalar(select(Event.time).order_by(Event.time.asc()).limit(1))
    newest = session.scalar(select(Event.time).order_by(Event.time.desc()).limit(1))
    return oldest, newest


__all__ = ["deferrals_by_domain", "deferrals_by_queue_id", "deferred_messages", "delays_by_domain",
           "delivered_by_recipient", "first_sightings", "ingesting_since", "outcome_buckets", "problems",
           "received_by_sender", "still_deferred", "time_range"]
