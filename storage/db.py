"""Engine and session setup, and schema upgrades through Alembic.

The schema rule, the same on SQLite and PostgreSQL: a new, empty store (no tables yet) is created on first
use; a store whose schema is behind is refused with the command that upgrades it (`bouncebot db upgrade`), so a
long migration never starts from a plain `why`; a store newer than this bouncebot is refused too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import storage.partitions  # noqa: F401 - registers the hook that gives ORM-inserted events their partition
from storage import bulk

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(RuntimeError):
    """The tracking store cannot be used: unreachable, read-only, or its schema is out of date."""


#: The URL kinds bouncebot supports, as said in every refusal of another kind.
SUPPORTED = ("SQLite (sqlite:///path/to/bouncebot.db) and PostgreSQL via psycopg 3 "
             "(postgresql://user@host/db)")


def unsupported(url: str, backend: str) -> StoreError:
    return StoreError(f"unsupported database URL kind {backend!r} in {_safe(url)!r}: bouncebot supports {SUPPORTED}")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


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
        raise StoreError(f"not a database URL: {url!r}; bouncebot supports {SUPPORTED}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            _check_sqlite_path(Path(database).expanduser())
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend != "postgresql" or parsed.get_driver_name() != "psycopg":
        raise unsupported(url, parsed.drivername)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    try:
        return create_engine(parsed, **kwargs)
    except NoSuchModuleError as exc:  # psycopg missing from this installation
        raise StoreError(f"cannot use {_safe(url)!r}: {exc}") from exc


def _check_sqlite_path(path: Path) -> None:
    """Refuse, with the reason, an SQLite file bouncebot could not write: every command may write (the schema,
    the replay guard, WAL's shared-memory file), and SQLite's journal needs the folder writable too."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise StoreError(f"the folder for the SQLite database does not exist: {folder}")
    if path.is_dir():
        raise StoreError(f"cannot use {path} as the SQLite database: it is a folder")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"cannot write to {path}: the database file is read-only (or not ours); "
                         "bouncebot writes to its store on every command")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"cannot write to {folder}: the folder of the SQLite database is read-only "
                         "(SQLite keeps its journal files next to the database)")


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


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def ensure_schema(engine: Engine) -> None:
    """Create a new, empty store; refuse one whose schema is behind (or ahead) - on both databases alike."""
    try:
        current = current_revisions(engine)
    except OperationalError as exc:
        raise StoreError(f"the tracking store is unreachable: {_first_line(exc)}") from exc
    heads = head_revisions()
    if current == heads:
        return
    if not current and is_empty(engine):
        upgrade_or_explain(engine)
        return
    if current - known_revisions():
        raise StoreError(f"the tracking store's schema ({', '.join(sorted(current))}) is newer than this "
                         "bouncebot knows: install the bouncebot version that wrote it")
    raise StoreError(f"the tracking store's schema is behind (at {', '.join(sorted(current)) or 'none'}, this "
                     f"bouncebot needs {', '.join(sorted(heads))}): run `bouncebot db upgrade` (back the store up "
                     "first: a migration may take minutes on a large store)")


def pending_revisions(engine: Engine) -> list[str]:
    """The migrations not yet applied, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    current = current_revisions(engine)
    pending = []
    for head in script.get_heads():
        for rev in script.iterate_revisions(head, tuple(current) or "base"):
            if rev.revision not in pending:
                pending.append(rev.revision)
    return [f"{r} ({script.get_revision(r).doc})" for r in reversed(pending)]


def upgrade_or_explain(engine: Engine) -> list[str]:
    """`upgrade`, turning a failed migration into a StoreError that says which one failed, why, where the store
    was left, and what to do."""
    try:
        pending = pending_revisions(engine)
    except OperationalError as exc:
        raise StoreError(f"the tracking store is unreachable: {_first_line(exc)}") from exc
    try:
        return upgrade(engine)
    except Exception as exc:  # any failure inside a migration: said once, with what to do
        try:
            left = ", ".join(sorted(current_revisions(engine))) or "no schema yet"
            still = pending_revisions(engine)
        except Exception:  # the store went away while failing: report the migration's own error
            left, still = "unknown", pending
        failed = still[0] if still else (pending[0] if pending else "the index rebuild")
        raise StoreError(
            f"the schema migration {failed} failed: {_first_line(exc)}. The store is left at {left}. "
            f"Fix the cause (disk space, permissions, a lock held by another bouncebot), then run "
            f"`bouncebot db upgrade` again; `bouncebot --verbose db upgrade` shows the migration's log"
        ) from exc


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
