"""`bouncebot ingest`: summaries, --verbose, and one clear line for every mistake a user can make."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "bot" / "data" / "sample-maillog.log"


def run(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--database", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_postfix_prints_a_one_line_summary_and_is_idempotent(db_url: str, capsys) -> None:
    code, out, err = run(capsys, db_url, "ingest", "postfix", str(SAMPLE))
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    # 27 outcomes and 11 `received` events (one per message that entered the queue: the traffic report's)
    assert f"postfix {SAMPLE}: 123 lines, 38 events (38 new), 0 skipped in " in out
    code, out, _ = run(capsys, db_url, "ingest", "postfix", str(SAMPLE))
    assert code == 0 and ": 0 lines, 0 events (0 new), 0 skipped" in out and "resumed at byte" in out
    code, out, _ = run(capsys, db_url, "events", "info@cheap-pills.example", "--since", "100000d", "--json")
    found = [json.loads(line) for line in out.splitlines()]
    assert {(e["disposition"], e["dnsbl_zone"]) for e in found} == {("rejected", "zen.spamhaus.org")}


def test_verbose_shows_skipped_examples(db_url: str, tmp_path: Path, capsys) -> None:
    log = tmp_path / "mixed.log"
    log.write_text("not a log line at all\n" + SAMPLE.read_text())
    code, out, _ = run(capsys, db_url, "ingest", "postfix", str(log), "--verbose")
    assert code == 0
    assert "1 skipped" in out and "skipped (malformed), e.g.:" in out and "not a log line at all" in out


def test_ingest_jsonl(db_url: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "gw.jsonl"
    path.write_text(json.dumps({"time": 1796020000, "disposition": "rejected", "sender": "a@b.example"})
                    + "\n{oops\n")
    code, out, _ = run(capsys, db_url, "ingest", "jsonl", str(path), "--verbose")
    assert code == 0
    assert "2 lines, 1 events (1 new), 1 skipped" in out and "line 2: not JSON" in out


@pytest.mark.parametrize(("args", "message", "status"), [
    (["ingest", "postfix", "/nonexistent/maillog"], "cannot read /nonexistent/maillog: No such file or directory", 1),
    (["ingest", "jsonl", "/nonexistent/x.jsonl"], "cannot read /nonexistent/x.jsonl", 1),
    (["ingest", "postfix", "/tmp"], "cannot read /tmp: Is a directory", 1),
    (["ingest", "postfix", "--timezone", "Mars/Olympus", "SAMPLE"], "unknown time zone: 'Mars/Olympus'", 2),
    (["ingest", "postfix", "--follow", "SAMPLE", "SAMPLE"], "--follow takes one FILE", 2),
    (["ingest", "postfix", "--batch", "0", "SAMPLE"], "--batch must be at least 1", 2),
    (["ingest"], "name a log source", 2),
])
def test_mistakes_give_one_line_and_a_non_zero_exit(db_url: str, capsys, args, message, status) -> None:
    args = [str(SAMPLE) if a == "SAMPLE" else a for a in args]
    code, out, err = run(capsys, db_url, *args)
    assert code == status
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert out == ""


def test_an_unreadable_file_and_an_unreachable_database_in_a_real_process(tmp_path: Path) -> None:
    secret = tmp_path / "secret.log"
    secret.write_text("x\n")
    secret.chmod(0)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    cases = [
        (["--database", "postgresql://nobody@127.0.0.1:1/none", "ingest", "postfix", str(SAMPLE)], "unreachable"),
    ]
    if os.geteuid() != 0:  # root reads any file
        cases.append((["--database", f"sqlite:///{tmp_path / 'x.db'}", "ingest", "postfix", str(secret)],
                       "Permission denied"))
    for args, message in cases:
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode != 0
        assert message in done.stderr and "Traceback" not in done.stderr
        assert done.stderr.strip().count("\n") == 0


def test_the_progress_bar_shows_position_rate_events_and_skipped() -> None:
    import io

    from bot.cli.ingest import Progress
    from bot.ingest.base import ParseStats
    from bot.ingest.runner import IngestResult

    screen = io.StringIO()
    bar = Progress("/var/log/mail.log", stream=screen, every=0)
    result = IngestResult(path="/x", stats=ParseStats(lines=5000, events=1200, skipped=3), seconds=2.0)
    bar.update(result, 0, 4096)
    bar.update(result, 1024, 4096)
    bar.finish()
    drawn = screen.getvalue()
    assert "mail.log:  25%" in drawn and "1.00k/4.00k" in drawn and "B/s" in drawn
    assert "5,000 lines, 1,200 events, 3 skipped" in drawn
    assert drawn.endswith("\r")                           # the line is cleared for the summary


def test_follow_in_a_real_process_stops_cleanly_on_sigterm(db_url: str, tmp_path: Path) -> None:
    import signal
    import time

    from sqlalchemy import func, select

    from bot.store import Store
    from storage.models import Event

    log = tmp_path / "maillog"
    lines = SAMPLE.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:60]))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "--database", db_url, "ingest", "postfix", str(log),
                             "--follow"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = Store.open(db_url)
    try:
        def stored() -> int:
            with store.engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(Event)) or 0
        deadline = time.monotonic() + 60
        while stored() < 10:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        with log.open("a") as out:
            out.write("".join(lines[60:]))
        while stored() < 27:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        store.dispose()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"postfix {log}: 123 lines, 38 events (38 new)" in out
