"""`bouncebot why` wraps to the terminal's width (100 columns when stdout is not a terminal), never inside an
address, a domain or a URL."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from bot.ingest.runner import Ingestor
from bot.store import Store
from tests.ingest.test_ingest_newcomer import _env, _read_all

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "data" / "sample-maillog.log"
TARGET = "info@cheap-pills.example"


def _why(db_url: str, tmp_path: Path, columns: int | None) -> str:
    argv = [sys.executable, "-m", "bot.cli", "why", TARGET, "--no-live", "--since", "3650d"]
    if columns is None:
        done = subprocess.run(argv, capture_output=True, text=True, env=_env(db_url), cwd=tmp_path, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in _env(db_url).items() if k not in ("COLUMNS", "LINES")}  # the terminal's own size
    proc = subprocess.Popen(argv, stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=tmp_path)
    os.close(secondary)
    try:
        screen = _read_all(primary, proc, 300).decode("utf-8", "replace")
    finally:
        os.close(primary)
    assert proc.wait(timeout=60) == 0, screen
    return screen.replace("\r\n", "\n")


def _too_wide(text: str, columns: int) -> list[str]:
    """Lines over `columns` that could have been broken (a line of one long word may overhang)."""
    return [line for line in text.splitlines() if len(line) > columns and " " in line.strip()[: columns]]


def test_why_follows_the_terminal_width_and_100_columns_in_a_pipe(sqlite_url: str, tmp_path: Path) -> None:
    from storage.db import make_engine, upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    store = Store.open(sqlite_url)
    try:
        Ingestor(store, "postfix").ingest(SAMPLE)
    finally:
        store.dispose()
    narrow = _why(sqlite_url, tmp_path, 60)
    assert "Findings" in narrow and not _too_wide(narrow, 60), narrow
    assert max(len(line) for line in narrow.splitlines()) > 50  # it used the room it had
    piped = _why(sqlite_url, tmp_path, None)
    assert not _too_wide(piped, 100) and max(len(line) for line in piped.splitlines()) > 60, piped
    assert "zen.spamhaus.org" in narrow and "https://www.spamhaus.org/query/ip/192.0.2.66" in narrow  # never split
