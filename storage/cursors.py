"""Ingest cursors: where each stream of each source was read up to, saved in the transaction of what was read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import IngestCursor


def load(conn: Connection | Session, source: str, stream: str) -> Row[Any] | None:
    """A stream's saved cursor (inode, offset, state), or None if it was never saved."""
    return conn.execute(select(IngestCursor.inode, IngestCursor.offset, IngestCursor.state).where(
        IngestCursor.source == source, IngestCursor.stream == stream)).first()


def save(conn: Connection | Session, source: str, stream: str, state: dict[str, Any], *, inode: int | None = None,
         offset: int = 0) -> None:
    """Insert or replace a stream's cursor (one statement: INSERT ... ON CONFLICT (source, stream) DO UPDATE)."""
    values = {"inode": inode, "offset": offset, "state": state, "updated_at": datetime.now(UTC)}
    dialect = (conn.get_bind() if isinstance(conn, Session) else conn).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    conn.execute(insert(IngestCursor).values(source=source, stream=stream, **values).on_conflict_do_update(
        index_elements=["source", "stream"], set_=values))
