"""Queries on the tracking store: events for a target, counts, the newest event, inserts and purges."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    delete,
    exists,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage import partitions
from storage.models import EVENT_COLUMNS, Event

TargetKind = Literal["address", "domain", "ip", "message_id", "queue_id", "recipient", "recipient_domain"]
TARGET_KINDS: tuple[str, ...] = (
    "address", "domain", "ip", "message_id", "queue_id", "recipient", "recipient_domain",
)


def _reverse(domain: str) -> str:
    return ".".join(reversed(domain.lower().rstrip(".").split("."))) + "."


def target_condition(kind: str, value: str) -> ColumnElement[bool]:
    """The WHERE clause for a target; every kind is served by an index (no leading-wildcard LIKE)."""
    value = value.strip()
    if kind == "address" and value in ("<>", ""):  # the null sender: stored as NULL (some sources: "" or "<>")
        return Event.sender.is_(None) | Event.sender.in_(["", "<>"])
    if kind == "address":
        return Event.sender == value.lower()
    if kind == "domain":
        # "partner.example" and every subdomain: reversed names share the prefix "example.partner.".
        # '/' sorts right after '.', so [prefix, prefix-with-/) is exactly the names under the prefix.
        prefix = _reverse(value)
        return (Event.sender_domain_rev >= prefix) & (Event.sender_domain_rev < prefix[:-1] + "/")
    if kind == "ip":
        return Event.client_ip == value
    if kind == "message_id":
        bare = value.strip("<>")
        return Event.message_id.in_([bare, f"<{bare}>"])
    if kind == "queue_id":
        return Event.queue_id == value
    if kind == "recipient":
        return Event.recipient == value.lower()
    if kind == "recipient_domain":
        return Event.recipient_domain == value.lower().rstrip(".")
    raise ValueError(f"unknown target kind: {kind}")


def newest_first(session: Session) -> tuple[Any, ...]:
    """ORDER BY time DESC, id DESC, written so that SQLite sorts the target's rows instead of walking the time
    index backwards through the whole table to avoid a sort (its choice with a LIMIT: 111 s instead of 60 ms
    at 10 M events). A unary + makes the term an expression no index can serve; PostgreSQL plans it right."""
    if session.get_bind().dialect.name == "sqlite":
        return literal_column("+events.time").desc(), Event.id.desc()
    return Event.time.desc(), Event.id.desc()


def _window(stmt: Select[Any], since: datetime | None, until: datetime | None) -> Select[Any]:
    if since is not None:
        stmt = stmt.where(Event.time >= since)
    if until is not None:
        stmt = stmt.where(Event.time < until)
    return stmt


def events_for(
    session: Session,
    kind: str,
    value: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 1000,
    newest: bool = True,
) -> list[Event]:
    """Events matching a target in [since, until), newest first by default."""
    stmt = _window(select(Event).where(target_condition(kind, value)), since, until)
    stmt = stmt.order_by(*newest_first(session)) if newest else stmt.order_by(Event.time.asc(), Event.id.asc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def count_by_disposition(
    session: Session, kind: str, value: str, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, int]:
    """{disposition: count} for a target in the window."""
    stmt = _window(
        select(Event.disposition, func.count()).where(target_condition(kind, value)), since, until
    ).group_by(Event.disposition)
    return {disposition: count for disposition, count in session.execute(stmt)}


def newest_event_time(session: Session, source: str | None = None) -> datetime | None:
    """The time of the newest ingested event (per source if given): how far the store is current."""
    stmt = select(func.max(Event.time))
    if source is not None:
        stmt = stmt.where(Event.source == source)
    return session.scalar(stmt)


def total_events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Event)) or 0


def counts_by_source(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Event.source, func.count()).group_by(Event.source)).all())


#: The events' unique key (storage.models: uq_events_time_source_key), the conflict target of every insert.
_UNIQUE_KEY = ["time", "source_key"]
#: Every column an insert may give (the id is the table's own), in table order: a value row's order.
_INSERTABLE = EVENT_COLUMNS

#: What insert_events takes: a mapping of column -> value, or a value row (a tuple in EVENT_COLUMNS order).
Row = Mapping[str, Any] | tuple[Any, ...]


def insert_events(conn: Connection | Session, rows: Sequence[Row]) -> int:
    """Insert rows, skipping any whose (time, source_key) is already stored; returns how many were new.

    Rows are all mappings (any of the insertable columns) or all value rows (tuples of every column in
    storage.models.EVENT_COLUMNS order, the compact form ingestion sends between its processes).
    On PostgreSQL the day partitions the rows need are created first, in the same transaction, and the rows go
    through COPY and one INSERT ... SELECT (see _PG_STAGING). On SQLite the statement goes to the driver's
    executemany and the new rows are counted from the connection's change counter: SQLAlchemy's
    executemany-with-RETURNING spent more time per row in Python than either database spent inserting it.
    """
    if not rows:
        return 0
    columns = _columns_of(rows[0])
    connection = conn.connection() if isinstance(conn, Session) else conn
    if connection.dialect.name == "sqlite":
        return _insert_sqlite(connection, rows, columns)
    partitions.ensure_partitions(connection, partitions.days_of(rows))
    return _insert_postgresql(connection, rows, columns)


def _columns_of(row: Row) -> frozenset[str]:
    """The columns a batch gives, judged by its first row (ValueError for anything but event columns)."""
    if isinstance(row, tuple):
        if len(row) != len(_INSERTABLE):
            raise ValueError(f"a value row has {len(_INSERTABLE)} values (EVENT_COLUMNS), not {len(row)}")
        return _ALL_COLUMNS
    unknown = set(row).difference(_INSERTABLE)
    if unknown:
        raise ValueError(f"not columns of the event table: {sorted(unknown)}")
    return frozenset(row)


_ALL_COLUMNS = frozenset(_INSERTABLE)


def _values_in(order: Sequence[str]) -> Callable[[Row], list[Any]]:
    """A function giving a row's values in `order`, whichever form the row has."""
    positions = [_INSERTABLE.index(name) for name in order]
    whole = positions == list(range(len(_INSERTABLE)))

    def values(row: Row) -> list[Any]:
        if isinstance(row, tuple):
            return list(row) if whole else [row[i] for i in positions]
        return [row.get(name) for name in order]

    return values


class _SqliteInsert:
    """INSERT ... ON CONFLICT (time, source_key) DO NOTHING compiled once per column set, with the columns' own
    bind processors (so times are stored exactly as the ORM stores them)."""

    def __init__(self, connection: Connection, columns: Sequence[str]) -> None:
        stmt = sqlite.insert(Event).on_conflict_do_nothing(index_elements=_UNIQUE_KEY)
        compiled = stmt.compile(dialect=connection.dialect, column_keys=list(columns))
        self.sql = str(compiled)
        self.order: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.values = _values_in(self.order)
        self.convert = _bind_processors(connection, self.order)

    def params(self, rows: Sequence[Row]) -> Iterator[list[Any]]:
        """Each row's values in statement order, made as the driver asks for them (a batch is never copied)."""
        values_of, convert = self.values, self.convert
        # Converted once per distinct value: events share their second by the dozen, and the time's conversion
        # (to UTC, then to SQLite's text) cost more than everything else done per row here.
        memos: list[dict[Any, Any]] = [{} for _ in convert]
        for row in rows:
            values = values_of(row)
            for (index, process), memo in zip(convert, memos, strict=True):
                value = values[index]
                converted = memo.get(value, _MISSING)
                if converted is _MISSING:
                    converted = memo[value] = process(value)
                values[index] = converted
            yield values


def _bind_processors(connection: Connection, columns: Sequence[str]) -> list[tuple[int, Any]]:
    """(position, processor) of the columns whose type converts a value before the driver sees it (the UTC times):
    the lean insert paths apply the same conversions SQLAlchemy's own statements would."""
    dialect = connection.dialect
    processors = [Event.__table__.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    return [(i, process) for i, process in enumerate(processors) if process]


_SQLITE_INSERTS: dict[frozenset[str], _SqliteInsert] = {}
_MISSING = object()


#: SQLite page cache (KiB) of a connection that inserts events. The event table's indexes are keyed by hashes,
#: addresses and message-ids, so inserts land on random pages: with SQLite's default 2 MiB cache every batch
#: re-reads and re-writes pages it touched a batch ago (measured: half the ingestion's CPU went to system calls).
#: SQLite allocates the cache as it fills, so a small store never uses it all.
SQLITE_WRITER_CACHE_KIB = 32768


def _insert_sqlite(connection: Connection, rows: Sequence[Row], columns: frozenset[str]) -> int:
    statement = _SQLITE_INSERTS.get(columns)
    if statement is None:
        statement = _SQLITE_INSERTS[columns] = _SqliteInsert(connection, sorted(columns))
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    info = connection.connection.info
    if not info.get("writer_cache"):  # once per pooled connection
        dbapi.execute(f"PRAGMA cache_size=-{int(SQLITE_WRITER_CACHE_KIB)}")
        info["writer_cache"] = True
    before = dbapi.total_changes
    cursor = dbapi.cursor()
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        cursor.executemany(statement.sql, statement.params(rows))
    except driver_error as exc:  # raised as SQLAlchemy raises it on its own paths
        raise DBAPIError.instance(statement.sql, None, exc, driver_error) from exc
    finally:
        cursor.close()
    return dbapi.total_changes - before


#: PostgreSQL: rows are COPYed into this temporary table (one per connection, emptied at every use and at commit),
#: then moved by one INSERT ... SELECT ... ON CONFLICT DO NOTHING whose row count is the new events. SQLAlchemy's
#: multi-row INSERT with RETURNING spent ~100 µs of Python a row binding its parameters; COPY's rows are encoded
#: by psycopg's C code.
_PG_STAGING = "bouncebot_incoming_events"


class _PostgresCopy:
    """The staging table's statements for one column set, composed once (psycopg's sql.Identifier for every name,
    taken from the table's own column list), with the columns' own bind processors."""

    def __init__(self, connection: Connection, given: frozenset[str]) -> None:
        from psycopg import sql  # the PostgreSQL driver, imported where it is used

        def names(columns: Sequence[str]) -> Any:
            return sql.SQL(", ").join(map(sql.Identifier, columns))

        self.columns = [c for c in _INSERTABLE if c in given]  # identifiers from the table, never from input
        staging, chosen = sql.Identifier(_PG_STAGING), names(self.columns)
        self.steps = {
            "create": sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS SELECT {} FROM events "
                              "WITH NO DATA").format(staging, names(_INSERTABLE)),
            "empty": sql.SQL("TRUNCATE {}").format(staging),
            "copy": sql.SQL("COPY {} ({}) FROM STDIN").format(staging, chosen),
            "move": sql.SQL("INSERT INTO events ({}) SELECT {} FROM {} ON CONFLICT ({}) DO NOTHING").format(
                chosen, chosen, staging, names(_UNIQUE_KEY)),
        }
        self.values = _values_in(self.columns)
        self.convert = _bind_processors(connection, self.columns)


_PG_COPIES: dict[frozenset[str], _PostgresCopy] = {}


def _insert_postgresql(connection: Connection, rows: Sequence[Row], given: frozenset[str]) -> int:
    plan = _PG_COPIES.get(given)
    if plan is None:
        plan = _PG_COPIES[given] = _PostgresCopy(connection, given)
    values_of, convert, steps = plan.values, plan.convert, plan.steps
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    driver_error = connection.dialect.loaded_dbapi.Error
    step = "create"
    try:
        with dbapi.cursor() as cursor:
            cursor.execute(steps["create"])
            step = "copy"
            with cursor.copy(steps["copy"]) as copy:
                for row in rows:
                    values = values_of(row)
                    for index, process in convert:  # the columns' own bind processing (aware UTC times)
                        values[index] = process(values[index])
                    copy.write_row(values)
            step = "move"
            cursor.execute(steps["move"])
            new = cursor.rowcount
            step = "empty"
            cursor.execute(steps["empty"])  # the next insert of this transaction starts from an empty table
    except driver_error as exc:  # raised as SQLAlchemy raises it on its own paths
        raise DBAPIError.instance(steps[step].as_string(dbapi), None, exc, driver_error) from exc
    return max(new, 0)


def purge_older_than(session: Session, cutoff: datetime, batch: int = 50_000) -> int:
    """Delete events older than cutoff; returns the count.

    On PostgreSQL whole day partitions are dropped (counted first); the rest, and SQLite, in short batches
    that keep the write lock brief.
    """
    removed = 0
    connection = session.connection()
    if partitions.is_partitioned(connection):
        removed += sum(partitions.drop_partitions_before(connection, cutoff).values())
        session.commit()
    while True:
        ids = select(Event.id).where(Event.time < cutoff).limit(batch).scalar_subquery()
        result = session.execute(delete(Event).where(Event.id.in_(ids)))
        session.commit()
        removed += result.rowcount or 0
        if not result.rowcount or result.rowcount < batch:
            return removed



# --- Diagnosis: one aggregate pass over the target, one bounded pass over its newest failures -------------

FAILED = ("rejected", "bounced", "expired", "deferred", "quarantined", "deleted")
#: Facts about traffic, not outcomes (a message entered the queue; a rule only warned; a content filter took it
#: and queued it again here): the traffic report reads them, the diagnosis does not count them.
TRAFFIC_ONLY = ("received", "warned", "requeued")


def target_profile(
    session: Session, kind: str, value: str, *, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """Counts, first and last time per (disposition, direction, cause, reason, dnsbl_zone), in ONE scan.

    Everything the diagnosis counts (the summary, the failure groups, when mail got through) comes from these
    rows, so even a sender with hundreds of thousands of events is read once.
    """
    stmt = _window(
        select(
            Event.disposition, Event.direction, Event.cause, Event.reason, Event.dnsbl_zone,
            func.count().label("count"), func.min(Event.time).label("first"), func.max(Event.time).label("last"),
        ).where(target_condition(kind, value), Event.disposition.not_in(TRAFFIC_ONLY)),
        since, until,
    ).group_by(Event.disposition, Event.direction, Event.cause, Event.reason, Event.dnsbl_zone)
    return [dict(row._mapping) for row in session.execute(stmt)]


def recent_failures(
    session: Session, kind: str, value: str, *, since: datetime | None, until: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The newest failed events of a target (light columns only), newest first, at most `limit`."""
    stmt = _window(
        select(Event.id, Event.time, Event.direction, Event.cause, Event.reason, Event.dnsbl_zone,
               Event.recipient, Event.client_ip, Event.disposition)
        .where(target_condition(kind, value), Event.disposition.in_(FAILED)),
        since, until,
    ).order_by(*newest_first(session)).limit(limit)
    return [dict(row._mapping) for row in session.execute(stmt)]


def events_by_id(session: Session, keys: Sequence[tuple[int, datetime]]) -> dict[int, Event]:
    """Events by (id, time): the time bounds let PostgreSQL look only in the partitions that hold them."""
    if not keys:
        return {}
    times = [t for _, t in keys]
    stmt = select(Event).where(Event.id.in_([i for i, _ in keys]), Event.time >= min(times), Event.time <= max(times))
    return {e.id: e for e in session.scalars(stmt)}


def recipients_ever_delivered(session: Session, recipients: Sequence[str]) -> set[str]:
    """Which of these addresses ever received mail (so they exist), in the whole store."""
    if not recipients:
        return set()
    # EXISTS stops at each address's first delivery; DISTINCT over IN read every delivery of busy mailboxes.
    wanted = union_all(*(select(literal(r.lower(), String).label("address")) for r in recipients)).subquery("wanted")
    delivered = exists().where(Event.recipient == wanted.c.address, Event.disposition == "delivered")
    return set(session.scalars(select(wanted.c.address).where(delivered)))


def other_senders_in_domain(session: Session, domain: str, *, exclude: str, since: datetime | None,
                            limit: int = 5) -> list[str]:
    """Other sender addresses seen for a domain: what the user may have meant."""
    stmt = _window(
        select(Event.sender, func.count().label("n")).where(
            target_condition("domain", domain), Event.sender != exclude.lower()
        ),
        since, None,
    ).group_by(Event.sender).order_by(func.count().desc()).limit(limit)
    return [row[0] for row in session.execute(stmt)]
