"""The chart PNG, the post + files upload v2 flow against a fake Slack Web API over real HTTP, and our
outbound IPs checked live against a real rbldnsd."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.digest.chart import render_chart
from bot.digest.content import compute_digest
from bot.digest.ipstatus import outbound_status, save_snapshot
from bot.digest.period import Period
from bot.digest.post import post_digest, publish
from bot.render.ids import ACTION_DIGEST_WHY
from bot.store import Store
from tests.blacklists.rbldnsd import CLEAN_IP, HEALTHY, LISTED_IP, Rbldnsd, find_rbldnsd, ip4set, settings_for
from tests.digest.dataset import OUR_DOMAIN, D, insert, known_rows
from tests.slack.fakes import FakeSlackAPI, slack_chat
from tests.support import unavailable

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI().start()
    yield fake
    fake.stop()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_chart_is_a_png_of_plausible_size(store: Store, tmp_path: Path) -> None:
    insert(store, known_rows())
    digest = compute_digest(store, Period(D), ZoneInfo("UTC"), now=NOW)
    path = render_chart(digest, tmp_path / "out" / "chart.png")
    data = path.read_bytes()
    assert _png_size(data) == (1000, 650)
    assert 15_000 < len(data) < 400_000
    assert data.endswith(b"IEND\xaeB`\x82")


def test_post_then_chart_in_thread_with_the_three_upload_steps(store: Store, slack: FakeSlackAPI) -> None:
    insert(store, known_rows())
    settings = Settings(database_url="unused", local_domains=(OUR_DOMAIN,), digest_timezone="UTC")
    digest = compute_digest(store, Period(D), ZoneInfo("UTC"), local_domains=(OUR_DOMAIN,), now=NOW)
    posted = publish(slack_chat(slack.base_url), "C0DIGEST", digest)
    assert posted.chart_uploaded
    methods = slack.methods()
    assert methods[:4] == ["chat.postMessage", "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    post = slack.calls_to("chat.postMessage")[0].params
    assert post["channel"] == "C0DIGEST" and "66 blocked" in post["text"]
    blocks = json.loads(post["blocks"]) if isinstance(post["blocks"], str) else post["blocks"]
    assert any(b.get("accessory", {}).get("action_id") == ACTION_DIGEST_WHY for b in blocks)
    get_url = slack.calls_to("files.getUploadURLExternal")[0].params
    uploaded = slack.uploads[slack.calls_to("upload")[0].params["file_id"]]
    assert int(get_url["length"]) == len(uploaded) and _png_size(uploaded) == (1000, 650)
    complete = slack.calls_to("files.completeUploadExternal")[0].params
    assert complete["channel_id"] == "C0DIGEST" and complete["thread_ts"] == posted.ts
    files = json.loads(complete["files"]) if isinstance(complete["files"], str) else complete["files"]
    assert files[0]["id"] == slack.calls_to("upload")[0].params["file_id"]
    assert settings.digest_timezone == "UTC"


def test_on_demand_digest_is_not_counted(store: Store, slack: FakeSlackAPI) -> None:
    insert(store, known_rows())
    settings = Settings(database_url="unused", digest_timezone="UTC")
    chat = slack_chat(slack.base_url)
    first = post_digest(store, settings, chat, "C1", D, now=NOW)
    second = post_digest(store, settings, chat, "C1", D, now=NOW)
    assert first is not None and second is not None and first.ts != second.ts
    assert len(slack.calls_to("chat.postMessage")) == 2
    counted = post_digest(store, settings, chat, "C1", D, counted=True, now=NOW)
    again = post_digest(store, settings, chat, "C1", D, counted=True, now=NOW)
    assert counted is not None and again is None
    assert len(slack.calls_to("chat.postMessage")) == 3


def test_quiet_digest_posts_no_chart(store: Store, slack: FakeSlackAPI) -> None:
    digest = compute_digest(store, Period(D), ZoneInfo("UTC"), now=NOW)
    posted = publish(slack_chat(slack.base_url), "C1", digest)
    assert digest.quiet and not posted.chart_uploaded
    assert slack.methods() == ["chat.postMessage"]


# --- our outbound IPs, live against rbldnsd --------------------------------------------------------------

def _start(datasets: dict) -> Rbldnsd:
    binary = find_rbldnsd()
    if not binary:
        unavailable("rbldnsd is not installed (apt-get install rbldnsd)")
    return Rbldnsd.start(datasets, binary=binary)


def test_outbound_ips_status_and_change_since_last_digest(store: Store) -> None:
    before = _start(HEALTHY)
    try:
        settings = settings_for(before.port, outbound_ips=(LISTED_IP, CLEAN_IP))
        first = outbound_status(store, settings, "daily:C1")
    finally:
        before.stop()
    listed = {a.zone for a in first.listed}
    assert LISTED_IP in {a.ip for a in first.listed} and CLEAN_IP not in {a.ip for a in first.listed}
    assert {"zen.spamhaus.org", "bl.spamcop.net"} <= listed
    assert first.previous_at is None and first.changes == []
    save_snapshot(store, "daily:C1", first, NOW)
    # the next day SpamCop has delisted us
    delisted = dict(HEALTHY)
    delisted[("bl.spamcop.net", "ip4set")] = ip4set(":127.0.0.2:Blocked - see https://www.spamcop.net/\n127.0.0.2\n")
    after = _start(delisted)
    try:
        second = outbound_status(store, settings_for(after.port, outbound_ips=(LISTED_IP, CLEAN_IP)), "daily:C1")
    finally:
        after.stop()
    assert second.previous_at == NOW
    assert [(c.ip, c.zone, c.before, c.after) for c in second.changes] == [
        (LISTED_IP, "bl.spamcop.net", "listed", "not_listed")]
    assert "bl.spamcop.net" not in {a.zone for a in second.listed}


def test_outbound_ips_unknown_stays_unknown(store: Store) -> None:
    server = _start({**HEALTHY, ("bl.spamcop.net", "acl"): "0.0.0.0/0 :ignore\n"})   # spamcop times out
    try:
        settings = replace(settings_for(server.port, outbound_ips=(CLEAN_IP,)), dns_timeout=0.5)
        status = outbound_status(store, settings, "daily:C1")
    finally:
        server.stop()
    spamcop = [a for a in status.answers if a.zone == "bl.spamcop.net"]
    assert [a.result for a in spamcop] == ["unknown"]
    assert not status.listed


def test_outbound_ips_without_configuration_or_checker_say_so(store: Store) -> None:
    assert "BOUNCEBOT_OUTBOUND_IPS" in outbound_status(store, Settings(), "d").note
    failing = outbound_status(store, Settings(outbound_ips=("192.0.2.1",)), "d",
                              check=lambda ips: (_ for _ in ()).throw(OSError("resolver unreachable")))
    assert failing.answers == [] and "resolver unreachable" in failing.note
