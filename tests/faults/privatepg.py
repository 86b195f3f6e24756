"""A private PostgreSQL server for tests that stop the database: never the machine's shared one.

initdb into a temporary folder owned by the `postgres` OS user, then `pg_ctl start/stop` on a free
127.0.0.1 port (`runuser -u postgres --`, as PostgreSQL refuses to run as root). Stopping it with
`-m immediate` is what a crash, an OOM kill or a pulled network cable looks like to the bot.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support import free_port, unavailable


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """One throwaway cluster. start() / stop() / restart(); url is a psycopg URL with a database `faults`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="bouncebot-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.running = False
        account = pwd.getpwnam("postgres")
        os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    @classmethod
    def create(cls) -> PrivatePostgres:
        """Skip (fail in CI) without root, the postgres account or the server binaries."""
        if os.geteuid() != 0:
            unavailable("a private PostgreSQL needs root (runuser -u postgres)")
        bindir = find_bindir()
        if bindir is None or not shutil.which("runuser"):
            unavailable("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) or runuser are missing")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            unavailable("there is no postgres OS user")
        return cls(bindir)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/faults"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(["runuser", "-u", "postgres", "--", str(self.bindir / tool), *args],
                              capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()} {self.tail()}")
        return done.stdout

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")
        self.running = True

    def create_database(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "faults")

    def stop(self, mode: str = "immediate") -> None:
        """`immediate`: no checkpoint, every connection cut at once (a crash, from the client's side)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        self.running = False

    def destroy(self) -> None:
        if self.running:
            with contextlib.suppress(RuntimeError):  # already gone: the folder goes below either way
                self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
