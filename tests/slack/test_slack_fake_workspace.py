"""The fake Web API refuses what Slack refuses: the workspace tests are only as good as this."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack.fakes import RESPONSE_URL_USES, FakeSlackAPI, fake_slack


@pytest.fixture
def api() -> FakeSlackAPI:
    with fake_slack() as fake:
        fake.add_channel("CNOBOT", bot=False, members=("UALICE",))
        fake.add_channel("GSECRET", bot=False, private=True)
        fake.add_channel("CWITHBOT", members=("UALICE",))
        fake.add_dm("DPEOPLE", "UALICE", "UBOB")
        yield fake


def _error(call) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value.response["error"]


def test_posts_where_the_bot_is_not_a_member_are_refused(api: FakeSlackAPI) -> None:
    client = WebClient(token=api.token, base_url=api.base_url)
    assert _error(lambda: client.chat_postMessage(channel="CNOBOT", text="x")) == "not_in_channel"
    assert _error(lambda: client.chat_postMessage(channel="GSECRET", text="x")) == "channel_not_found"
    assert _error(lambda: client.chat_postEphemeral(channel="DPEOPLE", user="UALICE", text="x")) == "channel_not_found"
    assert _error(lambda: client.chat_update(channel="DPEOPLE", ts="1.2", text="x")) == "channel_not_found"
    assert _error(lambda: client.chat_postEphemeral(channel="CWITHBOT", user="UBOB", text="x")) == "user_not_in_channel"
    assert client.chat_postEphemeral(channel="CWITHBOT", user="UALICE", text="x")["ok"]
    assert client.chat_postMessage(channel="CELSEWHERE", text="x")["ok"]  # never declared: the bot is in it
    assert client.chat_postMessage(channel="UALICE", text="x")["ok"]      # a DM from the app
    assert [c.error for c in api.refused("chat.postMessage")] == ["not_in_channel", "channel_not_found"]
    assert len(api.accepted("chat.postMessage")) == 2


def _post(url: str) -> int:
    request = urllib.request.Request(url, data=b'{"text": "hi"}',  # noqa: S310 - loopback
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_response_url_takes_five_answers_then_refuses(api: FakeSlackAPI) -> None:
    url = api.response_url("r")
    assert [_post(url) for _ in range(RESPONSE_URL_USES + 1)] == [200] * RESPONSE_URL_USES + [404]
    assert [c.error for c in api.calls_to("response_url")][-1] == "used_url"
    assert len(api.responses("r")) == RESPONSE_URL_USES
    api.expire_response_url("old")
    assert _post(api.response_url("old")) == 404
