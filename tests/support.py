"""Helpers shared by the tests: where ../shared is, and skips that CI turns into failures."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BOUNCEBOT_SHARED_DIR", ROOT.parent / "shared"))
SAMPLES = Path(__file__).resolve().parent / "samples"

#: Set in CI: a test that would skip for a missing service, binary or corpus fails instead.
REQUIRE_ALL = os.environ.get("BOUNCEBOT_REQUIRE_ALL", "") not in ("", "0", "false", "no")

PG_URL = os.environ.get("BOUNCEBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def unavailable(reason: str) -> None:
    """Skip with a clear reason on a laptop; fail in CI, where everything must be present."""
    if REQUIRE_ALL:
        pytest.fail(f"BOUNCEBOT_REQUIRE_ALL is set but: {reason}")
    pytest.skip(reason)


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        unavailable(f"{path} is absent (../shared is not part of a user's clone)")
    return path


def require_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None
    )
    if not found:
        unavailable(f"{name} is not installed (apt-get install {name})")
    return found  # type: ignore[return-value]


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        unavailable(f"{what} needs root")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def store_refusing_sender(sqlite_url: str, sender: str = "boom@x.example") -> Any:
    """A migrated SQLite store whose database refuses every event from `sender` (a trigger: a real write
    failure, not a mock), opened as bot.store.Store. DROP TRIGGER boom lets it write again."""
    from sqlalchemy import text

    from bot.store import Store
    from storage.db import make_engine, upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.sender = '{sender}' "
                          "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"))
    engine.dispose()
    return Store.open(sqlite_url)


def stop_server(process: subprocess.Popen[bytes], folder: Path) -> None:
    """Stop a test's server process (terminate, then kill after 5 s) and remove its working folder."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    shutil.rmtree(folder, ignore_errors=True)
