"""`bouncebot serve` as a user runs it: a real process on waitress, configured only by environment variables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.slack.fakes import SIGNING_SECRET, fake_slack, get, send, slash_command
from tests.support import ROOT, free_port

#: `bouncebot ARGS` without needing the console script installed.
BOUNCEBOT = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BOUNCEBOT, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def _spawned_children(pid: int) -> list[int]:
    """The multiprocessing workers among a process's children (not its resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOUNCEBOT_"))}
    env.update(BOUNCEBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
               BOUNCEBOT_DNS_NAMESERVERS="127.0.0.1", BOUNCEBOT_DNS_PORT=str(free_port()), BOUNCEBOT_DNS_TIMEOUT="0.2")
    return env


@pytest.mark.parametrize("given,missing", [
    ({}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
])
def test_missing_secret_is_named(tmp_path, given, missing) -> None:
    env = {**base_env(tmp_path), **given}
    result = run_cli("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == f"bouncebot serve: {missing} is not set"


def test_socket_mode_needs_the_app_token(tmp_path) -> None:
    env = {**base_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1"}
    result = run_cli("serve", "--socket-mode", env=env)
    assert result.returncode == 1 and "SLACK_APP_TOKEN is not set" in result.stderr
    assert "xoxb-1" not in result.stderr + result.stdout


@pytest.mark.parametrize("args,named", [(["--port", "70000"], "--port"),
                                        (["--diagnosis-processes", "-1"], "--diagnosis-processes"),
                                        (["--diagnosis-nice", "20"], "--diagnosis-nice")])
def test_bad_numbers_are_usage_errors(tmp_path, args, named) -> None:
    env = {**base_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = run_cli("serve", *args, env=env)
    assert result.returncode == 2 and named in result.stderr


def test_serve_answers_over_http_and_stops_on_sigterm(tmp_path) -> None:
    port = free_port()
    with fake_slack() as fake:
        env = {**base_env(tmp_path), "SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "BOUNCEBOT_SLACK_API_URL": fake.base_url}
        process = subprocess.Popen([*BOUNCEBOT, "serve", "--host", "127.0.0.1", "--port",
                                    str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            health = f"http://127.0.0.1:{port}/healthz"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if get(health, timeout=1).status == 200:
                        break
                except OSError:
                    pass
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "bouncebot serve did not come up"
                time.sleep(0.1)
            url = f"http://127.0.0.1:{port}/slack/events"
            assert send(url, slash_command("help")).status == 200
            assert send(url, slash_command("help", secret="forged")).status == 401
            send(url, slash_command("cases", response_url=fake.response_url()))
            (listing,) = fake.wait_for("response_url")
            assert "No open support cases" in str(listing.params)
            # a diagnosis runs in the worker processes (two by default) and is posted from here
            send(url, slash_command("nobody@nowhere.example", channel="CPOOL"))
            (post,) = fake.wait_for("chat.postMessage", timeout=30)
            assert post.params["channel"] == "CPOOL" and "No mail" in str(post.params["blocks"])
            # the workers run at a lower CPU priority than the acknowledging process (+10 by default)
            workers = _spawned_children(process.pid)
            assert len(workers) == 2
            assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in workers} == {
                min(19, os.getpriority(os.PRIO_PROCESS, process.pid) + 10)}
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "serving /slack/events and /healthz" in err
        assert fake.token not in out + err and SIGNING_SECRET not in out + err


def test_refused_token_is_one_clear_line(tmp_path) -> None:
    with fake_slack() as fake:
        env = {**base_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-revoked-SECRET", "SLACK_SIGNING_SECRET": "s",
               "BOUNCEBOT_SLACK_API_URL": fake.base_url}
        result = run_cli("serve", "--port", str(free_port()), "--diagnosis-processes", "0", env=env)
    assert result.returncode == 1
    expected = f"bouncebot serve: SLACK_BOT_TOKEN was refused by Slack's Web API at {fake.base_url}"
    assert result.stderr.strip() == expected
    assert "SECRET" not in result.stderr


def test_unreachable_web_api_is_one_clear_line(tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    env = {**base_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
           "BOUNCEBOT_SLACK_API_URL": url}
    result = run_cli("serve", "--port", str(free_port()), "--diagnosis-processes", "0", env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"bouncebot serve: Slack's Web API at {url} cannot be reached")
    assert "Traceback" not in result.stderr
