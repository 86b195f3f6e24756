"""`bouncebot ingest tmems`: --once in process, the polling loop in a real process ended by SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from tests.support import ROOT, free_port
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


def _once_in_a_process(env: dict[str, str], **changes: str) -> tuple[int, str, str, float]:
    """`bouncebot ingest tmems --once` as a user runs it: its own process, its own logging set-up."""
    child_env = {**os.environ, **env, **changes, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())",
                           "ingest", "tmems", "--once"], env=child_env, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def _says_what_to_check(line: str) -> None:
    assert "BOUNCEBOT_TMEMS_URL" in line and "region" in line and "Log Retrieval" in line
    assert "Traceback" not in line


def test_a_closed_port_ends_once_quickly_with_one_line_saying_what_to_check(env) -> None:
    port = free_port()  # bound and released: nothing listens there, connections are refused
    code, out, err, took = _once_in_a_process(env, BOUNCEBOT_TMEMS_URL=f"http://127.0.0.1:{port}")
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: TMEMS is unreachable at http://127.0.0.1:") and "Refused" in line
    _says_what_to_check(line)
    assert "BOUNCEBOT_TMEMS_API_KEY" in line
    assert took < 15  # two connection attempts a second apart, plus the interpreter's start (was 45 s)


@pytest.mark.parametrize(("status", "change"), [(401, {"BOUNCEBOT_TMEMS_API_KEY": "not-the-key"}), (403, {})])
def test_a_refusing_service_ends_once_with_one_line(fake: FakeTmems, env, status: int, change) -> None:
    if status == 403:
        fake.refuse_with = 403
    code, out, err, _took = _once_in_a_process(env, **change)
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert f"HTTP {status}" in line and "API Access" in line and "BOUNCEBOT_TMEMS_URL" in line
    assert "not-the-key" not in line and fake.api_key not in line
    assert len(fake.seen) == 1  # refused once: nothing retried, no other stream tried
