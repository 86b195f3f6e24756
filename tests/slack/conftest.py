"""Fixtures: a fake Slack Web API and the app served over HTTP against it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.store import Store
from tests.slack.fakes import AppServer, FakeSlackAPI, fake_slack, serve_app, test_settings

APPROVER = "UAPPROVER"
GROUP_APPROVER = "UGROUPIE"
APPROVER_GROUP = "SAPPROVERS"
CASES_CHANNEL = "CCASES"


@pytest.fixture
def fake() -> Iterator[FakeSlackAPI]:
    with fake_slack() as api:
        api.usergroups[APPROVER_GROUP] = [GROUP_APPROVER]
        yield api


@pytest.fixture
def slack_store(db_url: str) -> Iterator[Store]:
    store = Store.open(db_url)
    yield store
    store.dispose()


@pytest.fixture
def settings(db_url: str, fake: FakeSlackAPI):
    return test_settings(db_url, fake, approvers=(APPROVER,), approver_group=APPROVER_GROUP,
                         cases_channel=CASES_CHANNEL)


@pytest.fixture
def server(settings, slack_store: Store, fake: FakeSlackAPI) -> Iterator[AppServer]:
    with serve_app(settings, store=slack_store) as served:
        fake.wait_for("auth.test")
        fake.clear()
        yield served
