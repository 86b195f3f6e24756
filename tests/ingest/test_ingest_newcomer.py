"""Ingest as a newcomer meets it: a binary file is refused, skipped lines can be seen again (--from-start), the
summary says how, and a long read shows live progress (rate, ETA) on a terminal and nothing when piped."""

from __future__ import annotations

import fcntl
import gzip
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from bot.cli import main
from tests.support import ROOT

SAMPLE = ROOT / "bot" / "data" / "sample-maillog.log"
GARBAGE = "this is not a postfix log line\n"


def run(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--database", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("content", "said"), [
    (bytes(range(256)) * 8, "binary data, not a log"),
    (b"%PDF-1.7\n" + b"x" * 100, "binary data, not a log"),
    (gzip.compress(SAMPLE.read_bytes()), "gzip-compressed: decompress it first"),
])
def test_a_binary_file_is_refused_before_anything_is_stored(db_url: str, tmp_path: Path, capsys, content: bytes,
                                                            said: str) -> None:
    binary = tmp_path / "mail.log.bin"
    binary.write_bytes(content)
    code, out, err = run(capsys, db_url, "ingest", "postfix", str(SAMPLE), str(binary))
    assert code == 2 and out == ""
    assert err.strip() == f"bouncebot ingest: {binary}: " + err.split(f"{binary}: ", 1)[1].strip()
    assert said in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, db_url, "stats")
    assert "events: 0" in out                              # nothing stored, not even the good file


def test_skipped_lines_can_be_shown_again_from_the_start(db_url: str, tmp_path: Path, capsys) -> None:
    log = tmp_path / "mixed.log"
    log.write_text(GARBAGE + SAMPLE.read_text())
    code, out, _ = run(capsys, db_url, "ingest", "postfix", str(log))
    assert code == 0 and ", 1 skipped in " in out
    assert f"bouncebot ingest postfix {log} --from-start --show-skipped" in out    # the hint says how
    assert GARBAGE.strip() not in out
    code, out, _ = run(capsys, db_url, "ingest", "postfix", str(log), "--show-skipped")
    assert ": 0 lines" in out and GARBAGE.strip() not in out                       # the cursor is past it
    code, out, _ = run(capsys, db_url, "ingest", "postfix", str(log), "--from-start", "--show-skipped")
    assert code == 0 and "resumed at byte" not in out
    assert "124 lines, 38 events (0 new), 1 skipped" in out  # read again, stored once (27 outcomes + 11 received)
    assert GARBAGE.strip() in out and "--from-start" not in out.splitlines()[-1]


def test_from_start_does_not_go_with_follow(db_url: str, capsys) -> None:
    code, _, err = run(capsys, db_url, "ingest", "postfix", str(SAMPLE), "--from-start", "--follow")
    assert code == 2 and "does not go with --follow" in err


def _big_log(path: Path, copies: int) -> Path:
    text = SAMPLE.read_text()
    with path.open("w") as out:
        for n in range(copies):   # each copy's queue ids differ, so every copy is new events
            out.write(re.sub(r"\b([0-9A-F]{11})\b", lambda m, n=n: f"{m.group(1)[:-4]}{n:04X}", text))
    return path


def _env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOUNCEBOT_", "SLACK_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["BOUNCEBOT_DATABASE_URL"] = db_url
    env["COLUMNS"] = "120"
    return env


def _read_all(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:          # the pty's other end closed: the process is gone
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks)


def test_progress_on_a_terminal_shows_rate_and_eta(sqlite_url: str, tmp_path: Path) -> None:
    log = _big_log(tmp_path / "big.log", 300)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))   # a terminal's size
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ingest", "postfix", str(log), "--batch", "500"],
                            stdin=secondary, stdout=secondary, stderr=secondary, env=_env(sqlite_url), cwd=tmp_path)
    os.close(secondary)
    try:
        screen = _read_all(primary, proc, 600).decode("utf-8", "replace")
    finally:
        os.close(primary)
    assert proc.wait(timeout=60) == 0, screen
    assert "Traceback" not in screen
    assert re.search(r"\d+(\.\d+)?[kMG]?B/s", screen), screen[-2000:]          # the live rate
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", screen), screen[-2000:]            # elapsed<ETA
    assert re.search(r"big\.log: +\d+%", screen), screen[-2000:]
    assert re.search(r"[\d,]+ lines, [\d,]+ events, [\d,]+ skipped", screen), screen[-2000:]
    assert re.search(r"36,900 lines, 11,400 events \([\d,]+ new\), 0 skipped", screen), screen[-2000:]


def test_no_progress_when_stdout_is_not_a_terminal(sqlite_url: str, tmp_path: Path) -> None:
    log = _big_log(tmp_path / "big.log", 60)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "postfix", str(log), "--batch", "500"],
                          capture_output=True, text=True, env=_env(sqlite_url), cwd=tmp_path, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.count("\n") == 1 and "\r" not in done.stdout
