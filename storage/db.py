"""Engine and session setup, and schema upgrades through Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import storage.partitions  # noqa: F401 - registers the hook that gives ORM-inserted events their partition
from storage import bulk

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(RuntimeError):
    """The tracking store cannot be used: unreachable, or its schema is out of date."""


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL: SQLite in WAL mode with a busy timeout, PostgreSQL through psycopg 3."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise StoreError(f"the folder for the SQLite database does not exist: {folder}")
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(parsed, **kwargs)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revisions() -> set[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return set(script.get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(engine: Engine) -> list[str]:
    """Build the indexes an unfinished bulk load left deferred (migrations expect them), then apply every migration
    not yet applied (`bouncebot db upgrade`). Returns the names of the indexes built."""
    built = bulk.restore_indexes(engine)
    command.upgrade(alembic_config(engine), "heads")
    return built


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def ensure_schema(engine: Engine) -> None:
    """Upgrade an empty SQLite file automatically; otherwise insist the schema is current."""
    try:
        current = current_revisions(engine)
    except OperationalError as exc:
        raise StoreError(f"the tracking store is unreachable: {_first_line(exc)}") from exc
    if current == head_revisions():
        return
    if engine.dialect.name == "sqlite" and (not current or is_empty(engine)):
        upgrade(engine)
        return
    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return
    raise StoreError("the tracking store's schema is not current: run `bouncebot db upgrade`")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def open_store(url: str, *, check_schema: bool = True) -> Engine:
    """Engine for `url`, with the schema ensured; raises StoreError with a one-line reason."""
    engine = make_engine(url)
    if check_schema:
        ensure_schema(engine)
    return engine
