"""Secrets never reach a log line, with DEBUG logging on everywhere.

Real-looking secrets are set for every path that uses one: the Slack bot token (Bearer header to the Web API),
the signing secret (HMAC of every request), the app-level token, the TMEMS API key (HTTP Basic auth) and the
Spamhaus DQS key (part of the DNS query names). The CLI runs as separate processes with `-v` (DEBUG), and the
Slack app runs in this process with the root, slack_sdk, slack_bolt and urllib loggers at DEBUG; everything
they print or log is searched for each secret, its base64 form and the Basic-auth credential.
"""

from __future__ import annotations

import base64
import logging
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store
from storage.db import make_engine, upgrade
from tests.faults.loggen import write_log
from tests.faults.procs import cli_argv, cli_env, report, run_cli
from tests.slack.fakes import (
    BOT_USER_ID,
    FakeSlackAPI,
    block_action,
    event_callback,
    fake_slack,
    get,
    serve_app,
    signed_headers,
    slash_command,
    test_settings,
)
from tests.slack.seed import BLOCKED, seed
from tests.support import free_port
from tests.tmems.fake_tmems import FakeTmems

BOT_TOKEN = "xoxb-7301842265-8124460023457-Qm4rT9zXcV2bN7kLp0sWdE3f"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543c9f0b1e2"
APP_TOKEN = "xapp-1-A07QX2M4B1R-7788990011223-4c1b8e0f5d2a9b7e6c3d1f0a8b9c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c"
TMEMS_USER = "svc-bouncebot@ourcorp.example"
TMEMS_KEY = "TM-4f7a9c2e-81b3-4d6f-a0c5-9e8d7b6a5f4e"
DQS_KEY = "x7k2m9p4q8w3e6r1t5y0u3i8o2"
SECRETS = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": APP_TOKEN,
           "BOUNCEBOT_TMEMS_API_KEY": TMEMS_KEY, "BOUNCEBOT_SPAMHAUS_DQS_KEY": DQS_KEY}


def _forms() -> dict[str, str]:
    """Every way a secret could show: as is, URL-quoted, base64 (alone, and as the Basic credential)."""
    forms = {}
    for name, value in SECRETS.items():
        forms[name] = value
        forms[f"{name} (url-quoted)"] = urllib.parse.quote(value, safe="")
        forms[f"{name} (base64)"] = base64.b64encode(value.encode()).decode()
    forms["TMEMS Basic credential"] = base64.b64encode(f"{TMEMS_USER}:{TMEMS_KEY}".encode()).decode()
    forms["Slack token body"] = BOT_TOKEN.split("-", 3)[-1]
    return forms


FORMS = _forms()


def leaks(text: str) -> list[str]:
    return [name for name, form in FORMS.items() if form in text]


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'secrets.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(url)
    seed(store)
    store.dispose()
    return url


@pytest.fixture
def slack_fake() -> Iterator[FakeSlackAPI]:
    with fake_slack(token=BOT_TOKEN) as api:
        yield api


def _env(fake: FakeSlackAPI | None, tmems: FakeTmems | None, dns_port: int) -> dict[str, str]:
    env = dict(SECRETS)
    env.update(BOUNCEBOT_DNS_NAMESERVERS="127.0.0.1", BOUNCEBOT_DNS_PORT=str(dns_port), BOUNCEBOT_DNS_TIMEOUT="0.5",
               BOUNCEBOT_TMEMS_USER=TMEMS_USER, BOUNCEBOT_LOCAL_DOMAINS="ourcorp.example")
    if fake is not None:
        env["BOUNCEBOT_SLACK_API_URL"] = fake.base_url
    if tmems is not None:
        env["BOUNCEBOT_TMEMS_URL"] = tmems.url
    return env


class _SilentDns:
    """A UDP socket on 127.0.0.1 that records the DNS queries sent to it and never answers (every check times out)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="silent-dns", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.packets.append(self.sock.recvfrom(4096)[0])
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.mark.slow
def test_cli_commands_at_debug_log_no_secret(db: str, slack_fake: FakeSlackAPI, tmp_path: Path) -> None:
    log = write_log(tmp_path / "mail.log", 2_000, seed=9)
    dns = _SilentDns()
    try:
        with FakeTmems(user=TMEMS_USER, api_key=TMEMS_KEY) as tmems:
            tmems.fail(503, times=1)  # a retry, with its warning line
            env = _env(slack_fake, tmems, dns.port)
            commands = [
                ("-v", "ingest", "postfix", str(log)),
                ("-v", "ingest", "tmems", "--once", "--since", "1h"),
                ("-v", "blacklist", "192.0.2.99", "example.com"),
                ("-v", "why", BLOCKED),
                ("-v", "approved", "list"),
                ("-v", "events", BLOCKED),
            ]
            outputs = []
            for args in commands:
                done = run_cli(db, *args, cwd=tmp_path, extra=env, timeout=120)
                outputs.append(done.stdout + done.stderr)
                assert done.returncode == 0, (args, done.stderr[-1500:])
                assert "Traceback" not in done.stderr, (args, done.stderr[-1500:])
                assert not leaks(done.stdout + done.stderr), (args, leaks(done.stdout + done.stderr))
            # The keys really were used: the fake saw authorized requests (and the 503 that caused a retry), and
            # the DQS key went out inside DNS query names.
            assert any(s.authorized for s in tmems.seen) and any(s.status == 503 for s in tmems.seen)
    finally:
        dns.close()
    assert any(DQS_KEY.encode() in packet for packet in dns.packets), len(dns.packets)
    debug_lines = sum(o.count(" DEBUG ") for o in outputs)
    assert debug_lines > 0  # DEBUG logging really was on
    report("secrets_cli", commands=len(commands), output_lines=sum(o.count("\n") for o in outputs),
           debug_lines=debug_lines, secret_forms_checked=len(FORMS))


@pytest.mark.slow
def test_serve_at_debug_logs_no_secret(db: str, slack_fake: FakeSlackAPI, tmp_path: Path) -> None:
    """`bouncebot -v serve` as a process: signed requests, a rate-limited Web API call, then SIGTERM."""
    port = free_port()
    env = cli_env(db, _env(slack_fake, None, free_port()))
    proc = subprocess.Popen(cli_argv("-v", "serve", "--host", "127.0.0.1", "--port", str(port)), env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(f"{url}/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        slack_fake.fail_next("chat.postMessage", status=429, retry_after=1)
        from tests.slack.fakes import send

        sent = [
            send(f"{url}/slack/events", slash_command(BLOCKED, response_url=slack_fake.response_url(),
                                                      secret=SIGNING_SECRET)),
            send(f"{url}/slack/events", slash_command("cases", response_url=slack_fake.response_url("c"),
                                                      secret=SIGNING_SECRET)),
            send(f"{url}/slack/events", slash_command("help", secret="forged")),
            send(f"{url}/slack/events", event_callback({"type": "app_mention", "user": "UALICE",
                                                        "text": f"<@{BOT_USER_ID}> why {BLOCKED}",
                                                        "channel": "CSUPPORT", "ts": "1.000001"},
                                                       secret=SIGNING_SECRET)),
        ]
        assert [r.status for r in sent] == [200, 200, 401, 200]
        slack_fake.wait_for("chat.postMessage", count=2, timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert " DEBUG " in output, output[-2000:]
    assert not leaks(output), (leaks(output), output[-3000:])
    assert any(c.headers.get("authorization") == f"Bearer {BOT_TOKEN}" for c in slack_fake.calls)  # it was used
    report("secrets_serve", log_lines=output.count("\n"), debug_lines=output.count(" DEBUG "),
           requests=len(sent), secret_forms_checked=len(FORMS))


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # the message, its args and any traceback, as a handler writes it


def test_slack_app_in_process_logs_no_secret_at_debug(db: str, slack_fake: FakeSlackAPI) -> None:
    """Every logger at DEBUG, including failures whose tracebacks carry request objects."""
    handler = _Everything()
    names = ["", "slack_sdk", "slack_bolt", "urllib3", "urllib", "waitress", "bot", "handlers", "sqlalchemy"]
    saved = {n: logging.getLogger(n).level for n in names}
    root = logging.getLogger()
    root.addHandler(handler)
    for n in names:
        logging.getLogger(n).setLevel(logging.DEBUG if n != "sqlalchemy" else logging.INFO)
    try:
        settings = test_settings(db, slack_fake, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                                 slack_app_token=APP_TOKEN, tmems_api_key=TMEMS_KEY, tmems_user=TMEMS_USER,
                                 spamhaus_dqs_key=DQS_KEY, approvers=("UAPPROVER",))
        with serve_app(settings) as server:
            slack_fake.wait_for("auth.test")
            slack_fake.fail_next("chat.postMessage", status=429, retry_after=1)
            slack_fake.fail_next("chat.postEphemeral", status=500)
            requests = [
                slash_command(BLOCKED, response_url=slack_fake.response_url("a"), secret=SIGNING_SECRET),
                block_action("bouncebot.approve_sender", f'{{"kind": "address", "value": "{BLOCKED}"}}',
                             user="UMALLORY", secret=SIGNING_SECRET),
                slash_command("approved", response_url=slack_fake.response_url("b"), secret=SIGNING_SECRET),
                slash_command("help", secret="forged"),
            ]
            statuses = [server.send(r).status for r in requests]
            bad_ts = slash_command("help", secret=SIGNING_SECRET)
            bad_ts.headers.update(signed_headers(bad_ts.body, "application/x-www-form-urlencoded",
                                                 secret=SIGNING_SECRET, timestamp=1))
            statuses.append(server.send(bad_ts).status)
            slack_fake.wait_for("chat.postMessage", timeout=30)
            slack_fake.settle(quiet=1.0)
    finally:
        root.removeHandler(handler)
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)
    text = "\n".join(handler.lines)
    assert statuses == [200, 200, 200, 401, 401]
    assert any(" DEBUG slack_sdk" in line for line in handler.lines), "slack_sdk did not log at DEBUG"
    assert not leaks(text), [(name, next(line for line in handler.lines if FORMS[name] in line)[:300])
                             for name in leaks(text)]
    report("secrets_app_in_process", log_lines=len(handler.lines),
           debug_lines=sum(" DEBUG " in line for line in handler.lines), secret_forms_checked=len(FORMS))
