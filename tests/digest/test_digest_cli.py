"""`bouncebot digest`: print, JSON, chart file, post through the Slack client to the fake Web API, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store
from tests.digest.dataset import insert, known_rows
from tests.slack.fakes import BOT_TOKEN, FakeSlackAPI


@pytest.fixture
def loaded(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)                      # no stray .env
    for name in ("BOUNCEBOT_DIGEST_CHANNELS", "SLACK_BOT_TOKEN", "BOUNCEBOT_SLACK_API_URL", "BOUNCEBOT_OUTBOUND_IPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOUNCEBOT_DIGEST_TIMEZONE", "UTC")
    monkeypatch.setenv("BOUNCEBOT_LOCAL_DOMAINS", "our.example")
    store = Store.open(db_url)
    insert(store, known_rows())
    store.dispose()
    return db_url


@pytest.fixture
def slack() -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI().start()
    yield fake
    fake.stop()


def test_print_shows_every_section(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", loaded, "digest", "--date", "2026-11-29", "--print"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Mail digest — Sun 29 Nov 2026 (UTC)")
    for line in ("66 blocked", "alice@partner.example — 10, Our gateway's policy (spamdetected); 42 accepted before",
                 "departed@our.example — 6", "gmail.example — 4", "no outbound IPs configured"):
        assert line in out


def test_json_and_chart_file(loaded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "charts" / "d.png"
    assert main(["--database", loaded, "digest", "--date", "2026-11-29", "--json", "--chart", str(chart)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["blocked"]["current"] == 66 and data["first_day"] == "2026-11-29" and not data["quiet"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_week(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", loaded, "digest", "--date", "2026-11-29", "--week"]) == 0
    assert "23 Nov – 29 Nov 2026" in capsys.readouterr().out


def test_post_goes_through_the_slack_client(loaded: str, slack: FakeSlackAPI, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("BOUNCEBOT_SLACK_API_URL", slack.base_url)
    assert main(["--database", loaded, "digest", "--date", "2026-11-29", "--post", "--channel", "C0CLI"]) == 0
    assert "posted to C0CLI" in capsys.readouterr().out
    assert slack.methods()[:4] == ["chat.postMessage", "files.getUploadURLExternal", "upload",
                                   "files.completeUploadExternal"]


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "2026-13-01"], "not a date"),
    (["--post"], "--post needs --channel"),
])
def test_bad_input_is_one_line(loaded: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", loaded, "digest", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_time_zone_is_one_line(loaded: str, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOUNCEBOT_DIGEST_TIMEZONE", "Mars/Olympus")
    assert main(["--database", loaded, "digest"]) == 1
    err = capsys.readouterr().err.strip()
    assert "unknown time zone 'Mars/Olympus'" in err and len(err.splitlines()) == 1


def test_the_digest_does_not_import_the_slack_sdk() -> None:
    """bot/ talks to Slack only through bot.ports.Chat: importing the digest must not load slack_sdk."""
    import subprocess
    import sys

    from tests.support import ROOT
    code = ("import sys, bot.digest, bot.scheduler, bot.cli.digest; "
            "sys.exit(1 if {'slack_sdk', 'slack_bolt'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120).returncode == 0
