"""Running bouncebot as a separate process, the way an operator or a cron job does, and reading the store back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.db import make_engine
from storage.models import Event, IngestCursor
from tests.support import ROOT

#: `python3 -m bot.cli` once the package has a __main__; the same entry point through -c until then.
_ENTRY = (["-m", "bot.cli"] if (ROOT / "bot" / "cli" / "__main__.py").exists()
          else ["-c", "import sys; from bot.cli import main; sys.exit(main())"])

#: The columns compared between runs: everything but the surrogate id.
EVENT_COLUMNS = tuple(c.name for c in Event.__table__.columns if c.name != "id")


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, *_ENTRY, *args]


def cli_env(db_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a bouncebot process: this checkout on the path, the store URL, nothing from a .env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOUNCEBOT_", "SLACK_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["BOUNCEBOT_DATABASE_URL"] = db_url
    env.update(extra or {})
    return env


def run_cli(db_url: str, *args: str, cwd: Path, extra: Mapping[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_argv(*args), env=cli_env(db_url, extra), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def spawn_cli(db_url: str, *args: str, cwd: Path, extra: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_argv(*args), env=cli_env(db_url, extra), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def event_rows(db_url: str) -> list[tuple[Any, ...]]:
    """Every stored event as a tuple of all its columns but id, sorted: two stores hold the same events iff equal."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(*(Event.__table__.c[name] for name in EVENT_COLUMNS))).all()
    finally:
        engine.dispose()
    return sorted((tuple(row) for row in rows), key=lambda r: (r[EVENT_COLUMNS.index("source_key")], repr(r)))


def cursor_offset(engine: Any, stream: str) -> int:
    """How far the committed cursor of `stream` has got (0 before the first commit)."""
    with engine.connect() as conn:
        value = conn.scalar(select(IngestCursor.offset).where(IngestCursor.stream == stream))
    return int(value or 0)


def report(test: str, **figures: Any) -> None:
    """Record a test's figures for docs/reliability.md: appended as JSON to $BOUNCEBOT_FAULT_REPORT if set."""
    import json

    line = json.dumps({"test": test, **figures}, default=str)
    print(line)
    target = os.environ.get("BOUNCEBOT_FAULT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")


#: A fresh bouncebot process whose imports are done before it is told to run `main(argv)`: the kill test starts
#: the next process while the current one works, so 20 restarts do not cost 20 interpreter start-ups in a row.
_WARM = ("import sys; from bot.cli import main; print('ready', flush=True); sys.stdin.readline(); "
         "sys.exit(main(sys.argv[1:]))")


def spawn_warm_cli(db_url: str, *args: str, cwd: Path) -> subprocess.Popen[str]:
    """Start a process that imports bouncebot's CLI, says 'ready' and waits; `go()` lets it run `bouncebot ARGS`.

    Nothing touches the store before go(): it is a fresh process in every way that matters to a resume.
    """
    proc = subprocess.Popen([sys.executable, "-c", _WARM, *args], env=cli_env(db_url), cwd=cwd,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc


def go(proc: subprocess.Popen[str]) -> None:
    """Wait until the warm process is ready, then let it run."""
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"bouncebot did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    proc.stdin.write("\n")
    proc.stdin.flush()
