"""The fake API itself behaves as documented (the other tests are only as good as it is)."""

from __future__ import annotations

import http.client
from datetime import UTC, datetime, timedelta

import pytest

from bot.ingest.tmems_client import MAIL_TRACKING_PATH, TmemsClient, TmemsRequestError, iso
from tests.tmems.fake_tmems import FakeTmems
from tests.tmems.records import accepted

NOW = datetime.now(UTC)


@pytest.fixture
def now() -> datetime:
    """Taken when the test starts (NOW is taken at collection, minutes earlier in a long run)."""
    return datetime.now(UTC)


@pytest.fixture
def published(fake: FakeTmems, now: datetime) -> FakeTmems:
    """One record 2 minutes ago, one 20 minutes ago."""
    fake.add("accepted_traffic", [
        accepted(now - timedelta(minutes=m), action="Delivered", sender=f"m{m}@x.example", recipient="r@o.example")
        for m in (2, 20)])
    return fake


def _senders(client: TmemsClient, **params: str) -> list[str]:
    page = client.get(MAIL_TRACKING_PATH, {"type": "accepted_traffic", **params})
    return sorted(r["sender"] for r in page.logs) if page else []


def test_default_windows_are_five_minutes(published: FakeTmems, client: TmemsClient, now: datetime) -> None:
    assert _senders(client) == ["m2@x.example"]  # neither start nor end: the last five minutes
    assert _senders(client, start=iso(now - timedelta(minutes=22))) == ["m20@x.example"]
    assert _senders(client, end=iso(now - timedelta(minutes=18))) == ["m20@x.example"]
    assert _senders(client, start=iso(now - timedelta(minutes=30)), end=iso(now)) == sorted(["m2@x.example",
                                                                                              "m20@x.example"])


def test_direction_and_domain_filters(published: FakeTmems, client: TmemsClient, now: datetime) -> None:
    assert _senders(client, start=iso(now - timedelta(hours=1)), direction="out") == []
    assert len(_senders(client, start=iso(now - timedelta(hours=1)), end=iso(now), domain="o.example")) == 2


@pytest.mark.parametrize("params", [
    {"type": "all_traffic"},
    {"type": "accepted_traffic", "limit": "501"},
    {"type": "accepted_traffic", "start": "2026-11-30 08:00:00"},
    {"type": "accepted_traffic", "start": iso(NOW), "end": iso(NOW - timedelta(minutes=1))},
    {"type": "accepted_traffic", "token": "bm90IGEgdG9rZW4="},
])
def test_bad_requests_answer_400(fake: FakeTmems, client: TmemsClient, params: dict[str, str]) -> None:
    with pytest.raises(TmemsRequestError, match="HTTP 400"):
        client.get(MAIL_TRACKING_PATH, params)


def test_other_methods_and_paths(fake: FakeTmems) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(fake.url.rsplit(":", 1)[1]), timeout=10)
    conn.request("POST", MAIL_TRACKING_PATH, body=b"")
    response = conn.getresponse()
    assert response.status == 400 and b"InvalidMethod" in response.read()
    conn.request("GET", "/api/v1/domains/x/secrets")
    response = conn.getresponse()
    assert response.status == 404
    response.read()
    conn.close()
