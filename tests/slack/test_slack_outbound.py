"""handlers.outbound.SlackChat (bot.ports.Chat over WebClient) against the fake Web API."""

from __future__ import annotations

import pytest

from bot.ports import ChatError
from handlers.outbound import SlackChat, make_client
from tests.slack.fakes import FakeSlackAPI, fake_slack


@pytest.fixture
def api():
    with fake_slack() as fake:
        yield fake


def chat_for(fake: FakeSlackAPI, token: str | None = None) -> SlackChat:
    return SlackChat(make_client(token or fake.token, fake.base_url))


def test_post_and_update(api) -> None:
    chat = chat_for(api)
    ts = chat.post_message("C1", text="hello", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
                           thread_ts="1.2")
    chat.update_message("C1", ts, text="changed")
    post, update = api.calls_to("chat.postMessage")[0], api.calls_to("chat.update")[0]
    assert post.params["thread_ts"] == "1.2" and post.json("blocks")[0]["text"]["text"] == "hi"
    assert update.params["ts"] == ts and update.params["text"] == "changed"


def test_upload_uses_the_three_step_v2_flow(api, tmp_path) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 5000)
    chat_for(api).upload_file("CDIGEST", chart, title="Blocked per hour", thread_ts="9.9", initial_comment="chart")
    assert [m for m in api.methods() if m != "auth.test"] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    get_url = api.calls_to("files.getUploadURLExternal")[0]
    assert get_url.params["filename"] == "chart.png" and int(get_url.params["length"]) == 5008
    complete = api.calls_to("files.completeUploadExternal")[0]
    assert complete.params["channel_id"] == "CDIGEST" and complete.params["thread_ts"] == "9.9"
    file_id = complete.json("files")[0]["id"]
    assert api.uploads[file_id] == chart.read_bytes()


def test_rate_limit_is_waited_out(api) -> None:
    api.fail_next("chat.postMessage", retry_after=1, times=2)
    chat_for(api).post_message("C1", text="after two 429s")
    methods = api.methods()
    assert methods.count("chat.postMessage#429") == 2 and methods.count("chat.postMessage") == 1
    waits = [c.at for c in api.calls if c.method.startswith("chat.postMessage")]
    assert waits[1] - waits[0] >= 1.0 and waits[2] - waits[1] >= 1.0


def test_persistent_rate_limit_ends_as_chat_error(api) -> None:
    api.fail_next("chat.update", retry_after=0, times=10)
    with pytest.raises(ChatError, match=r"chat\.update"):
        chat_for(api).update_message("C1", "1.1", text="never")


def test_errors_never_carry_the_token(api) -> None:
    secret = "xoxb-wrong-token-SECRET"
    with pytest.raises(ChatError) as caught:
        chat_for(api, token=secret).post_message("C1", text="x")
    assert "invalid_auth" in str(caught.value) and secret not in str(caught.value)


def test_usergroup_members_and_unknown_group(api) -> None:
    api.usergroups["S1"] = ["U1", "U2"]
    chat = chat_for(api)
    assert chat.usergroup_members("S1") == {"U1", "U2"}
    with pytest.raises(ChatError, match="no_such_subteam"):
        chat.usergroup_members("S404")


def test_private_file_download_needs_the_token(api) -> None:
    stored = api.add_file("b.eml", b"bounce bytes")
    chat = chat_for(api)
    info = chat.file_info(stored["id"])
    assert chat.download(info["url_private"], max_bytes=100) == b"bounce bytes"
    with pytest.raises(ChatError, match="too large"):
        chat.download(info["url_private"], max_bytes=5)
    with pytest.raises(ChatError, match="download failed"):
        chat_for(api, token="xoxb-other").download(info["url_private"], max_bytes=100)
    with pytest.raises(ChatError, match="not an http"):
        chat.download("file:///etc/passwd", max_bytes=100)
