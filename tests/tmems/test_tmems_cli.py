"""`bouncebot ingest tmems`: --once in process, the polling loop in a real process ended by SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from tests.support import ROOT
from tests.tmems.fake_tmems import FakeTmems
from tests.tmems.records import blocked, samples


@pytest.fixture
def env(fake: FakeTmems, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"BOUNCEBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "BOUNCEBOT_TMEMS_URL": fake.url,
              "BOUNCEBOT_TMEMS_USER": fake.user, "BOUNCEBOT_TMEMS_API_KEY": fake.api_key}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return values


def test_once_polls_and_prints_the_summary(fake: FakeTmems, env, capsys) -> None:
    now = datetime.now(UTC)
    for e in samples(now):
        fake.add(e.kind, [e.record])
    assert main(["ingest", "tmems", "--once", "--since", "2h"]) == 0
    out = capsys.readouterr().out
    assert f"{len(samples(now))} new events" in out
    assert main(["events", "to:rita@ourcorp.example", "--since", "1d"]) == 0
    assert "gateway_reputation" in capsys.readouterr().out


def test_once_with_a_wrong_key_says_what_to_fix(fake: FakeTmems, env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BOUNCEBOT_TMEMS_API_KEY", "not-the-key")
    assert main(["ingest", "tmems", "--once"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "BOUNCEBOT_TMEMS_API_KEY" in err and "not-the-key" not in err


def test_bad_since_and_missing_settings_are_one_line(env, capsys, monkeypatch) -> None:
    assert main(["ingest", "tmems", "--once", "--since", "yesterdayish"]) == 2
    assert "not a duration or a date" in capsys.readouterr().err
    monkeypatch.delenv("BOUNCEBOT_TMEMS_URL")
    assert main(["ingest", "tmems", "--once"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "BOUNCEBOT_TMEMS_URL is not set" in err


def test_the_loop_polls_until_ctrl_c(fake: FakeTmems, env) -> None:
    fake.add("blocked_traffic", [blocked(datetime.now(UTC) - timedelta(minutes=2), reason="Sender IP found in DUL",
                                        sender="a@x.example", recipient="b@ourcorp.example")])
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
                             "ingest", "tmems", "--since", "10m"], env=child_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, proc.kill)  # a hung child must not hang the suite
    watchdog.start()
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        assert "1 new events" in first
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err
