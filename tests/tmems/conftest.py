"""Fixtures for the TMEMS tests: a started fake API and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.ingest.tmems_client import TmemsClient
from tests.tmems.fake_tmems import FakeTmems


@pytest.fixture
def fake() -> Iterator[FakeTmems]:
    with FakeTmems() as server:
        yield server


@pytest.fixture
def tmems_settings(fake: FakeTmems, db_url: str) -> Settings:
    return Settings(database_url=db_url, tmems_url=fake.url, tmems_user=fake.user, tmems_api_key=fake.api_key,
                    local_domains=("ourcorp.example",))


class SleepLog:
    """A real (short) sleep that remembers what it was asked for: Retry-After honoured or not."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        import time

        self.asked.append(seconds)
        time.sleep(min(seconds, 1.5))


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
def client(fake: FakeTmems, sleeps: SleepLog) -> Iterator[TmemsClient]:
    with TmemsClient(fake.url, fake.user, fake.api_key, backoff=0.01, max_attempts=3, sleep=sleeps) as c:
        yield c
