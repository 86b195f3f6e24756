"""Every `bouncebot` command, with what users get wrong, ends with one line on stderr and never a traceback.

The commands are read from the parser itself (so a command added later is covered without touching this file),
each run as a real process (tests/cli/forkrun.py) against: output into a closed pipe (`| head`), an unsupported
database URL, a read-only store file, a read-only store folder, a store whose schema is behind, and a migration
that fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command as alembic_command

from bot.cli import _subcommand_parsers, build_parser
from bot.cli.demo import sample_path
from bot.ingest.runner import Ingestor
from bot.store import Store
from storage.db import alembic_config, make_engine
from tests.support import ROOT, free_port, require_binary

#: Commands that would wait for something outside the test (a server, a remote API) are given a way out.
EXTRA = {("serve",): ["--port", "1"], ("ingest", "tmems"): ["--once"]}
#: Commands that never open the store: the bad-store scenarios only check they do not crash.
STORELESS = {("explain",), ("blacklist",), ("dns",), ("serve",), ("ingest", "tmems"), ("ingest",), ("approved",),
             ("cases",), ("db",)}


@dataclass
class Result:
    code: int
    out: str
    err: str


class Runner:
    """A forkrun.py process: send a command line, get its exit code, stdout and stderr."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("forkrun.py"))], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self.count = 0

    def run(self, argv: list[str], *, env: dict[str, str], cwd: Path, closed_stdout: bool = False) -> Result:
        self.count += 1
        out, err = self.folder / f"{self.count}.out", self.folder / f"{self.count}.err"
        job = {"argv": argv, "env": env, "cwd": str(cwd), "stdout": None if closed_stdout else str(out),
               "stderr": str(err), "timeout": 60}
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        code = json.loads(self.proc.stdout.readline())["code"]
        return Result(code, "" if closed_stdout else out.read_text(), err.read_text())

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def command_lines(sample: Path) -> list[tuple[tuple[str, ...], list[str]]]:
    """(command words, a command line that gets past argparse) for every command and sub-command."""
    parser = build_parser()
    words_of: dict[int, tuple[str, ...]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words_of.setdefault(id(sub), (name,))
    lines = []
    for sub in _subcommand_parsers(parser):
        words = words_of[id(sub)]
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    words_of.setdefault(id(child), (*words, name))
        if any(isinstance(a, argparse._SubParsersAction) and a.required for a in sub._actions):
            continue  # only its sub-commands run
        argv = list(words)
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.option_strings and action.nargs not in ("?", "*"):
                argv.append(_value_for(action.dest, sample))
            elif action.option_strings and action.required:
                argv += [action.option_strings[-1], "from the no-traceback test"]
        lines.append((words, argv + EXTRA.get(words, [])))
    return lines


def _value_for(dest: str, sample: Path) -> str:
    if dest in ("files", "file"):
        return str(sample)
    if dest == "id":
        return "1"
    return "info@cheap-pills.example"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("no-traceback")
    sample = base / "maillog"
    shutil.copyfile(sample_path(), sample)
    good = base / "good" / "bouncebot.db"
    good.parent.mkdir()
    store = Store.open(f"sqlite:///{good}")
    Ingestor(store, "postfix").ingest(sample)
    store.dispose()
    runner = Runner(base)
    env = {"BOUNCEBOT_DNS_NAMESERVERS": "127.0.0.1", "BOUNCEBOT_DNS_PORT": str(free_port()),
           "BOUNCEBOT_DNS_TIMEOUT": "0.2", "BOUNCEBOT_DIGEST_TIMEZONE": "UTC"}
    yield {"base": base, "good": good, "sample": sample, "runner": runner, "env": env,
           "lines": command_lines(sample)}
    runner.close()


def _store_copy(world: dict, name: str) -> Path:
    folder = world["base"] / name
    folder.mkdir()
    path = folder / "bouncebot.db"
    shutil.copyfile(world["good"], path)
    return path


def _assert_clean(result: Result, argv: list[str]) -> None:
    for sign in ("Traceback", "Exception ignored", "BrokenPipeError"):
        assert sign not in result.err, f"bouncebot {' '.join(argv)}:\n{result.err}"
    assert result.code != -999, f"bouncebot {' '.join(argv)} did not finish"
    assert len([line for line in result.err.splitlines() if line.startswith("bouncebot")]) <= 1, result.err


Ran = list[tuple[tuple[str, ...], list[str], Result]]


def _run_all(world: dict, url: str, *, cwd: Path | None = None, closed_stdout: bool = False) -> Ran:
    out = []
    for words, argv in world["lines"]:
        full = ["--database", url, *argv]
        result = world["runner"].run(full, env=world["env"], cwd=cwd or world["base"], closed_stdout=closed_stdout)
        _assert_clean(result, full)
        out.append((words, full, result))
    return out


def test_every_command_is_covered(world: dict) -> None:
    covered = {words for words, _ in world["lines"]}
    assert {("why",), ("events",), ("stats",), ("db", "upgrade"), ("ingest", "postfix"), ("approved", "add"),
            ("cases", "open"), ("digest",)} <= covered


def test_output_into_a_closed_pipe(world: dict) -> None:
    """`bouncebot ... | head`: the reader is gone before anything is written."""
    codes = {}
    for words, argv, result in _run_all(world, f"sqlite:///{world['good']}", closed_stdout=True):
        codes[words] = result.code
        if words not in STORELESS:
            assert result.code in (0, 1, 2, 141), (argv, result)
    # the commands that print found the pipe closed, and ended as `cat` does
    assert codes[("why",)] == codes[("events",)] == codes[("stats",)] == codes[("digest",)] == 141, codes
    for words, _ in world["lines"]:
        help_run = world["runner"].run([*words, "--help"], env=world["env"], cwd=world["base"], closed_stdout=True)
        _assert_clean(help_run, [*words, "--help"])


def test_an_unsupported_database_url(world: dict) -> None:
    for words, argv, result in _run_all(world, "mysql://user:secret@db.example/mail"):
        if words not in STORELESS:
            assert result.code == 1, (argv, result)
            assert "unsupported database URL kind 'mysql'" in result.err, (argv, result.err)
            assert "SQLite" in result.err and "PostgreSQL via psycopg 3" in result.err
            assert "secret" not in result.err


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` read-only even for root: the immutable flag for root (who ignores permissions), else chmod."""
    if os.geteuid() == 0:
        chattr = require_binary("chattr")
        subprocess.run([chattr, "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        path.chmod(mode)


def test_a_read_only_store_file(world: dict) -> None:
    path = _store_copy(world, "ro-file")
    with read_only(path):
        for words, argv, result in _run_all(world, f"sqlite:///{path}"):
            if words not in STORELESS:
                assert result.code == 1, (argv, result)
                assert f"cannot write to {path}: the database file is read-only" in result.err, (argv, result.err)
                assert "unreachable" not in result.err


def test_a_read_only_store_folder(world: dict) -> None:
    path = _store_copy(world, "ro-folder")
    with read_only(path.parent):
        for words, argv, result in _run_all(world, f"sqlite:///{path}"):
            if words not in STORELESS:
                assert result.code == 1, (argv, result)
                assert f"cannot write to {path.parent}: the folder" in result.err, (argv, result.err)


def test_a_store_whose_schema_is_behind_and_a_failed_migration(world: dict) -> None:
    """Stamped at 0004 with the newest tables: every command refuses it; the upgrade fails and says how."""
    path = _store_copy(world, "behind")
    engine = make_engine(f"sqlite:///{path}")
    alembic_command.stamp(alembic_config(engine), "0004", purge=True)
    engine.dispose()
    for words, argv, result in _run_all(world, f"sqlite:///{path}"):
        if words == ("db", "upgrade"):
            assert result.code == 1
            assert "the schema migration 0005" in result.err and "failed:" in result.err, result.err
            assert "The store is left at 0004" in result.err and "run `bouncebot db upgrade` again" in result.err
        elif words not in STORELESS:
            assert result.code == 1, (argv, result)
            assert "schema is behind (at 0004" in result.err and "run `bouncebot db upgrade`" in result.err
