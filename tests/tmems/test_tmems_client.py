"""The API client against the fake server: paging, 204, auth, retries, setup errors, URL rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError, Settings
from bot.ingest.tmems_client import (
    MAIL_TRACKING_PATH,
    POLICY_EVENT_PATH,
    TmemsClient,
    TmemsRequestError,
    TmemsSetupError,
    TmemsUnavailable,
    iso,
)
from tests.tmems.fake_tmems import FakeTmems
from tests.tmems.records import accepted

NOW = datetime.now(UTC)


def _window(minutes: int = 60) -> dict[str, str]:
    return {"type": "accepted_traffic", "start": iso(NOW - timedelta(minutes=minutes)), "end": iso(NOW)}


def _publish(fake: FakeTmems, n: int) -> None:
    fake.add("accepted_traffic", [
        accepted(NOW - timedelta(minutes=30, seconds=i), action="Delivered", sender=f"s{i}@x.example",
                 recipient="r@ourcorp.example") for i in range(n)])


def test_pages_follow_next_token_until_the_last_page(fake: FakeTmems, client: TmemsClient) -> None:
    _publish(fake, 1203)
    pages = list(client.pages(MAIL_TRACKING_PATH, {**_window(), "limit": "500"}))
    assert [len(p) for p in pages] == [500, 500, 203]
    assert len({r["mailID"] for p in pages for r in p}) == 1203
    tokens = [s.params.get("token") for s in fake.seen]
    assert tokens[0] is None and all(tokens[1:])


def test_an_empty_window_answers_204_and_yields_nothing(fake: FakeTmems, client: TmemsClient) -> None:
    _publish(fake, 3)
    assert list(client.pages(MAIL_TRACKING_PATH, {**_window(5), "limit": "500"})) == []
    assert [s.status for s in fake.seen] == [204]


def test_start_and_end_filter_the_records(fake: FakeTmems, client: TmemsClient) -> None:
    _publish(fake, 10)  # 30 minutes ago, one second apart
    params = {"type": "accepted_traffic", "start": iso(NOW - timedelta(minutes=30, seconds=4)),
              "end": iso(NOW - timedelta(minutes=30, seconds=2)), "limit": "500"}
    [page] = list(client.pages(MAIL_TRACKING_PATH, params))
    assert sorted(r["sender"] for r in page) == ["s2@x.example", "s3@x.example", "s4@x.example"]


def test_basic_auth_is_sent_and_checked(fake: FakeTmems) -> None:
    _publish(fake, 1)
    with TmemsClient(fake.url, fake.user, fake.api_key) as good:
        assert len(list(good.pages(MAIL_TRACKING_PATH, _window()))) == 1
    with TmemsClient(fake.url, fake.user, "wrong-key") as bad, pytest.raises(TmemsSetupError) as info:
        list(bad.pages(MAIL_TRACKING_PATH, _window()))
    assert info.value.status == 401
    assert "BOUNCEBOT_TMEMS_API_KEY" in str(info.value) and "API Access" in str(info.value)
    assert [s.authorized for s in fake.seen] == [True, False]


def test_404_says_to_enable_log_retrieval(fake: FakeTmems, client: TmemsClient) -> None:
    fake.log_retrieval = False
    with pytest.raises(TmemsSetupError) as info:
        client.get(MAIL_TRACKING_PATH, _window())
    assert info.value.status == 404
    assert "Log Retrieval" in str(info.value) and "ResourceNotAvailable" in str(info.value)
    assert len(fake.seen) == 1  # no retries: retrying cannot fix a console setting


def test_429_then_success_honours_retry_after(fake: FakeTmems, client: TmemsClient, sleeps) -> None:
    _publish(fake, 2)
    fake.fail(429, retry_after="1")
    [page] = list(client.pages(MAIL_TRACKING_PATH, _window()))
    assert len(page) == 2
    assert [s.status for s in fake.seen] == [429, 200]
    assert sleeps.asked == [1.0]


def test_500_is_retried_with_backoff_then_succeeds(fake: FakeTmems, client: TmemsClient, sleeps) -> None:
    _publish(fake, 2)
    fake.fail(500, times=2)
    assert len(client.get(MAIL_TRACKING_PATH, _window()).logs) == 2
    assert [s.status for s in fake.seen] == [500, 500, 200]
    assert sleeps.asked == [0.01, 0.02]


def test_500_every_time_gives_up_with_a_clear_error(fake: FakeTmems, client: TmemsClient) -> None:
    fake.fail(500, times=10)
    with pytest.raises(TmemsUnavailable) as info:
        client.get(MAIL_TRACKING_PATH, _window())
    assert "HTTP 500" in str(info.value) and "gave up after 3 attempts" in str(info.value)
    assert len(fake.seen) == 3


def test_an_unreachable_server_is_unavailable_not_a_traceback(sleeps) -> None:
    from tests.support import free_port

    client = TmemsClient(f"http://127.0.0.1:{free_port()}", "u", "k", backoff=0.01, max_attempts=2, sleep=sleeps)
    with pytest.raises(TmemsUnavailable, match="unreachable"):
        client.get(MAIL_TRACKING_PATH, _window())


def test_a_window_older_than_72_hours_is_refused_by_the_api(fake: FakeTmems, client: TmemsClient) -> None:
    params = {"type": "accepted_traffic", "start": iso(NOW - timedelta(hours=73)), "end": iso(NOW)}
    with pytest.raises(TmemsRequestError, match="72 hours"):
        client.get(MAIL_TRACKING_PATH, params)


def test_policy_event_log_and_gzip(client: TmemsClient) -> None:
    from tests.tmems.records import policy_event

    with FakeTmems(gzip_pages=True) as zipped:
        zipped.add("policy", [policy_event(NOW - timedelta(minutes=3), event_type="Spam", policy_name="p",
                                           policy_action="Quarantine", sender="a@x.example",
                                           recipients=["b@ourcorp.example"])])
        with TmemsClient(zipped.url, zipped.user, zipped.api_key) as c:
            [page] = list(c.pages(POLICY_EVENT_PATH, {"start": iso(NOW - timedelta(minutes=10)), "end": iso(NOW)}))
    assert page[0]["policyName"] == "p"


def test_the_client_never_shows_its_credentials(fake: FakeTmems) -> None:
    client = TmemsClient(fake.url, "login@ourcorp.example", "s3cret-api-key")
    text = repr(client) + str(client.endpoint)
    assert "s3cret" not in text and "login@" not in text


@pytest.mark.parametrize(("url", "problem"), [
    ("http://api.tmes.trendmicro.com", "https"),
    ("https://user:pw@api.tmes.trendmicro.com", "credentials"),
    ("ftp://api.tmes.trendmicro.com", "region"),
])
def test_bad_urls_are_refused_with_one_line(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        TmemsClient(url, "u", "k")


def test_a_bare_region_host_means_https() -> None:
    assert str(TmemsClient("api.tmes.trendmicro.eu", "u", "k").endpoint) == "https://api.tmes.trendmicro.eu"


def test_missing_settings_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="BOUNCEBOT_TMEMS_URL"):
        TmemsClient.from_settings(Settings())


def test_a_kept_alive_connection_closed_by_the_server_is_reopened_quietly(fake: FakeTmems, client: TmemsClient,
                                                                         sleeps, caplog) -> None:
    import logging

    caplog.set_level(logging.WARNING)
    _publish(fake, 1100)
    fake.drop_connections = True
    pages = list(client.pages(MAIL_TRACKING_PATH, {**_window(), "limit": "500"}))
    assert [len(p) for p in pages] == [500, 500, 100]
    assert sleeps.asked == [] and not caplog.records  # no retry, no warning


def test_a_service_never_reached_fails_fast_one_that_answered_is_retried_in_full(fake: FakeTmems, sleeps) -> None:
    from bot.ingest.tmems_client import TmemsUnreachable
    from tests.support import free_port

    never = TmemsClient(f"http://127.0.0.1:{free_port()}", "u", "k", backoff=0.01, max_attempts=5, sleep=sleeps)
    with pytest.raises(TmemsUnreachable, match=r"BOUNCEBOT_TMEMS_URL.*region.*Log Retrieval"):
        never.get(MAIL_TRACKING_PATH, _window())
    assert sleeps.asked == [0.01]  # two attempts, not five
    _publish(fake, 1)
    fake.drop_connections = True  # no kept-alive connection outlives the server below
    with TmemsClient(fake.url, fake.user, fake.api_key, backoff=0.01, max_attempts=3, sleep=sleeps) as client:
        assert client.get(MAIL_TRACKING_PATH, _window()) is not None
        fake.stop()  # gone after it answered: a blip worth the full retries
        with pytest.raises(TmemsUnavailable) as info:
            client.get(MAIL_TRACKING_PATH, _window())
    assert not isinstance(info.value, TmemsUnreachable) and "gave up after 3 attempts" in str(info.value)


def test_a_200_with_an_empty_body_ends_paging(fake: FakeTmems, client: TmemsClient) -> None:
    _publish(fake, 3)
    fake.page_size, fake.end_with_empty_200 = 2, True
    pages = list(client.pages(MAIL_TRACKING_PATH, {**_window(), "limit": "500"}))
    assert [len(p) for p in pages] == [2, 1]
    assert [s.status for s in fake.seen] == [200, 200, 200]  # the third: an empty body, the end
