"""Fixtures of the fault suite: a generated 200,000-line Postfix log (tests.faults.loggen.kill_log, built on
bench/postfix_synth.py) and the events of one uninterrupted run."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.loggen import kill_log
from tests.faults.procs import event_rows, run_cli

#: The size the issue names; BOUNCEBOT_FAULT_LINES makes a quicker local run possible.
KILL_LOG_LINES = int(os.environ.get("BOUNCEBOT_FAULT_LINES", "200000"))


@pytest.fixture(scope="session")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faultlog")
    path = kill_log(folder / "mail.log", KILL_LOG_LINES)
    # The parser infers classic stamps' year from the file's mtime: pin it so every run infers the same.
    stamp = time.time()
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture(scope="session")
def reference_events(big_log: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One uninterrupted `bouncebot ingest postfix` of big_log into a fresh SQLite file: the expected events."""
    folder = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{folder / 'reference.db'}"
    started = time.monotonic()
    done = run_cli(url, "ingest", "postfix", str(big_log), cwd=folder)
    assert done.returncode == 0, done.stderr
    rows = event_rows(url)
    assert len(rows) > KILL_LOG_LINES // 10, done.stdout  # the generator makes ~1 event per 5 lines
    return {"rows": rows, "seconds": time.monotonic() - started, "summary": done.stdout.strip()}
