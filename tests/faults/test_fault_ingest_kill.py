"""SIGKILL during ingestion, 20 times, each resume in a fresh process: no event lost, none twice.

The log (conftest.big_log) is bench/postfix_synth.py's generator with repeated rejects and malformed lines mixed in.

Each run is `bouncebot ingest postfix --batch 2000 FILE` in a new process (bot.cli.main, as `python3 -m bot.cli`
runs it); the next process is started, and has imported the CLI, while the current one works, so the 20 restarts
do not each wait for an interpreter start. It touches the store only once told to go.

The kill points are random but spread over the file: the log is cut into 20 strata of equal size, one random
byte offset is drawn in each, and the process is killed at a random moment (0-150 ms) after its committed
cursor passed that offset, so kills land while parsing, while inserting and while committing.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from storage.db import make_engine
from tests.faults.procs import EVENT_COLUMNS, cursor_offset, event_rows, go, report, spawn_warm_cli

KILLS = 20
#: Lines per transaction in the killed runs: 100 commit points over 200,000 lines (the default is 20,000).
BATCH = "2000"


def _kill_points(size: int, rng: random.Random) -> list[int]:
    """One random byte offset in each of KILLS equal strata of the first 90% of the file."""
    width = int(size * 0.9) // KILLS
    return [n * width + rng.randrange(width) for n in range(KILLS)]


@pytest.mark.slow
def test_sigkill_at_20_points_then_resume_equals_uninterrupted_run(
        db_url: str, big_log: Path, reference_events: dict[str, Any], tmp_path: Path) -> None:
    rng = random.Random(20)
    stream = os.path.realpath(big_log)
    size = big_log.stat().st_size
    engine = make_engine(db_url)
    kills: list[dict[str, int]] = []
    started = time.monotonic()
    args = ("ingest", "postfix", "--batch", BATCH, str(big_log))
    waiting = spawn_warm_cli(db_url, *args, cwd=tmp_path)
    try:
        for target in _kill_points(size, rng):
            proc = waiting
            before = cursor_offset(engine, stream)
            go(proc)
            waiting = spawn_warm_cli(db_url, *args, cwd=tmp_path)  # imports while this one works
            while proc.poll() is None and cursor_offset(engine, stream) < target:
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.15))
            assert proc.poll() is None, f"the run ended before its kill point {target}: {proc.communicate()}"
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            assert proc.returncode == -signal.SIGKILL
            kills.append({"target": target, "cursor_before": before, "cursor_after": cursor_offset(engine, stream)})
        go(waiting)
        final_out, final_err = waiting.communicate(timeout=600)
    finally:
        engine.dispose()
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
    assert waiting.returncode == 0, final_err[-2000:]
    assert "resumed at byte" in final_out, final_out
    assert [k["cursor_after"] for k in kills] == sorted(k["cursor_after"] for k in kills)  # never went back
    assert kills[-1]["cursor_after"] > size // 2  # the kills really were spread over the file

    rows = event_rows(db_url)
    expected = reference_events["rows"]
    at = EVENT_COLUMNS.index
    keys = [(row[at("source_key")], row[at("time")]) for row in rows]
    assert len(set(keys)) == len(keys), "an event was stored twice"
    missing = set(expected) - set(rows)
    extra = set(rows) - set(expected)
    assert not missing and not extra, f"{len(missing)} events missing, {len(extra)} unexpected"
    assert rows == expected
    report("ingest_sigkill", backend=db_url.split(":")[0], kills=len(kills), events=len(rows),
           file_bytes=size, distinct_resume_offsets=len({k["cursor_after"] for k in kills}),
           killed_mid_batch=sum(k["cursor_after"] < size for k in kills), seconds=round(time.monotonic() - started, 1),
           reference_seconds=round(reference_events["seconds"], 1), final=final_out.strip())
