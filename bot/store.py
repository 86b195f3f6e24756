"""The store as the rest of bot/ sees it: one engine and a session factory, opened from settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import seen
from bot.config import Settings
from storage.db import open_store, session_factory


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def open(cls, settings: Settings | str) -> Store:
        url = settings if isinstance(settings, str) else settings.database_url
        engine = open_store(url)
        return cls(engine=engine, sessions=session_factory(engine))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        seen.release(self.engine)  # the replay guard's own connections (PostgreSQL)
        self.engine.dispose()
