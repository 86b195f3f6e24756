"""PostgreSQL stopped while bouncebot serves, then started again: a clear answer during, recovery without restart.

The database is a PRIVATE PostgreSQL cluster (tests.faults.privatepg), never the machine's shared server:
`pg_ctl stop -m immediate` cuts every connection at once, as a crash or an OOM kill would. The bot is the
real thing: the CLI in a fresh process, and the Slack app served over HTTP against the fake Web API.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ingest.runner import Ingestor
from bot.store import Store
from storage.db import make_engine, upgrade
from tests.faults.loggen import write_log
from tests.faults.privatepg import PrivatePostgres
from tests.faults.procs import EVENT_COLUMNS, cursor_offset, event_rows, report, run_cli, spawn_cli
from tests.slack.fakes import (
    BOT_USER_ID,
    FakeSlackAPI,
    event_callback,
    fake_slack,
    get,
    serve_app,
    slash_command,
    test_settings,
)
from tests.slack.seed import BLOCKED, seed

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

UNREACHABLE = "tracking store is unreachable"
OUTAGE_REQUESTS = 6  # each of: /bounce diagnosis, /bounce cases, @mention


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres.create()
    try:
        pg.start()
        pg.create_database()
        engine = make_engine(pg.url)
        upgrade(engine)
        engine.dispose()
        store = Store.open(pg.url)
        seed(store)
        store.dispose()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def running_pg(private_pg: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The private server, up at the start of the test and again at its end whatever happened."""
    if not private_pg.running:
        private_pg.start()
    yield private_pg
    if not private_pg.running:
        private_pg.start()


def test_cli_says_unreachable_in_one_line_and_works_again_after_restart(running_pg: PrivatePostgres,
                                                                        tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("Nov 30 06:26:26 mx1 postfix/smtpd[1]: connect from a[192.0.2.1]\n", encoding="utf-8")
    assert run_cli(running_pg.url, "why", BLOCKED, "--no-live", cwd=tmp_path).returncode == 0
    running_pg.stop()
    commands = (("why", BLOCKED, "--no-live"), ("events", BLOCKED), ("ingest", "postfix", str(log)),
                ("approved", "list"))
    for args in commands:
        done = run_cli(running_pg.url, *args, cwd=tmp_path, timeout=60)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, (args, done.returncode, done.stderr[-800:])
        assert len(lines) == 1 and UNREACHABLE in lines[0], (args, done.stderr[-800:])
        assert "Traceback" not in done.stderr and not done.stdout.strip(), args
    running_pg.start()
    back = run_cli(running_pg.url, "why", BLOCKED, "--no-live", cwd=tmp_path)
    assert back.returncode == 0 and BLOCKED in back.stdout, back.stderr[-800:]
    report("pg_down_cli", commands_while_down=len(commands), exit_code=1, sample=lines[0])


def test_ingest_cut_off_by_the_outage_resumes_without_loss_or_duplicates(running_pg: PrivatePostgres,
                                                                          tmp_path: Path) -> None:
    """The server dies under a running `bouncebot ingest`: one clear line, exit 1; after the restart a new run
    finishes the file and the events equal an uninterrupted run's."""
    log = write_log(tmp_path / "mail.log", 40_000, seed=44)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    alone = Store.open(reference_url)
    try:
        Ingestor(alone, "postfix").ingest(log)
    finally:
        alone.dispose()
    engine = make_engine(running_pg.url)
    stream = os.path.realpath(log)
    try:
        proc = spawn_cli(running_pg.url, "ingest", "postfix", "--batch", "1000", str(log), cwd=tmp_path)
        while proc.poll() is None and cursor_offset(engine, stream) < log.stat().st_size // 3:
            time.sleep(0.02)
        assert proc.poll() is None, "the ingest ended before the outage"
        engine.dispose()
        running_pg.stop()
        _out, err = proc.communicate(timeout=120)
        lines = err.strip().splitlines()
        assert proc.returncode == 1, (proc.returncode, err[-1500:])
        assert len(lines) == 1 and UNREACHABLE in lines[0] and "Traceback" not in err, err[-1500:]
        running_pg.start()
        cut_at = cursor_offset(engine, stream)
        done = run_cli(running_pg.url, "ingest", "postfix", str(log), cwd=tmp_path)
        assert done.returncode == 0 and "resumed at byte" in done.stdout, done.stderr[-1500:]
    finally:
        engine.dispose()
    rows = [r for r in event_rows(running_pg.url) if r[EVENT_COLUMNS.index("source_key")].startswith("postfix:")]
    expected = event_rows(reference_url)
    assert rows == expected, f"{len(rows)} stored, {len(expected)} expected"
    report("pg_down_during_ingest", lines=40_000, events=len(rows), cut_at_byte=cut_at,
           file_bytes=log.stat().st_size, message=lines[0])


def _mention(text: str) -> object:
    return event_callback({"type": "app_mention", "user": "UALICE", "text": f"<@{BOT_USER_ID}> {text}",
                           "channel": "CSUPPORT", "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}"})


def _outage_requests(fake: FakeSlackAPI) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for n in range(OUTAGE_REQUESTS // 3):
        out.append(("slash-diagnose", slash_command(BLOCKED, response_url=fake.response_url(f"d{n}"))))
        out.append(("slash-cases", slash_command("cases", response_url=fake.response_url(f"c{n}"))))
        out.append(("mention", _mention(f"why {BLOCKED}?")))
    return out


def _told(fake: FakeSlackAPI, reply_body: bytes) -> str:
    """Everything the user could read: the acknowledgement body and what the app sent Slack."""
    texts = [reply_body.decode(errors="replace")]
    texts += [str(c.params.get("text", "")) for c in fake.calls
              if c.method in ("chat.postMessage", "chat.postEphemeral", "response_url")]
    return "\n".join(texts)


def test_slack_app_recovers_on_its_own_when_postgres_returns(running_pg: PrivatePostgres) -> None:
    """Nothing crashes during the outage and, once the server is back, the same app instance answers again."""
    with fake_slack() as fake:
        settings = test_settings(running_pg.url, fake)
        with serve_app(settings) as server:
            fake.wait_for("auth.test")
            assert server.send(slash_command(BLOCKED, response_url=fake.response_url())).status == 200
            fake.wait_for("chat.postMessage")
            running_pg.stop()
            down_started = time.monotonic()
            statuses = [server.send(request).status for _kind, request in _outage_requests(fake)]
            health_down = get(server.health_url)
            assert health_down.status == 503 and health_down.json()["store"] == "unreachable"
            assert server.thread.is_alive()
            running_pg.start()
            outage = time.monotonic() - down_started
            fake.clear()
            recovered_after = None
            started = time.monotonic()
            for attempt in range(1, 4):
                reply = server.send(slash_command(BLOCKED, response_url=fake.response_url(f"r{attempt}")))
                if reply.status == 200:
                    fake.wait_for("chat.postMessage", timeout=20)
                    recovered_after = attempt
                    break
                time.sleep(0.5)
            assert recovered_after == 1, f"not answered on the first request after the restart: {reply.status}"
            assert BLOCKED in fake.calls_to("chat.postMessage")[0].params["text"]
            assert get(server.health_url).status == 200
            mention = server.send(_mention(f"why {BLOCKED}?"))
            assert mention.status == 200
            fake.wait_for("chat.postMessage", count=2, timeout=20)
    report("pg_down_recovery", requests_while_down=len(statuses), statuses_while_down=sorted(set(statuses)),
           outage_s=round(outage, 1), first_answer_after_restart_s=round(time.monotonic() - started, 2))


def test_slack_answers_tracking_store_unreachable_during_the_outage(running_pg: PrivatePostgres) -> None:
    """Each request during the outage: acknowledged (no 5xx) and the user told the store is unreachable.

    Found by this test: the replay guard's insert used to raise first, so Slack got HTTP 500 and an empty body.
    """
    with fake_slack() as fake:
        settings = test_settings(running_pg.url, fake)
        with serve_app(settings) as server:
            fake.wait_for("auth.test")
            running_pg.stop()
            failures: list[str] = []
            statuses: list[int] = []
            for kind, request in _outage_requests(fake):
                fake.clear()
                reply = server.send(request)
                fake.settle(quiet=0.5)
                told = _told(fake, reply.body)
                statuses.append(reply.status)
                if reply.status >= 500 or UNREACHABLE not in told:
                    failures.append(f"{kind}: HTTP {reply.status}, told {told[:200]!r}")
            assert not failures, failures
    report("pg_down_slack_answers", requests=len(statuses), statuses=sorted(set(statuses)))
