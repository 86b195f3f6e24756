"""Run many `bouncebot` command lines as real processes, cheaply: import bouncebot once, fork one child per line.

Each child leaves the job loop and ends as the installed `bouncebot` script (`sys.exit(main())`) would: an
uncaught exception prints its traceback, exit handlers run, stdout and stderr are flushed and a failed flush
prints what Python prints then ("Exception ignored in: ...", exit code 120). Only the interpreter's teardown is
skipped (os._exit): in a forked copy of a large process it would touch, and so copy, every page.

Its stdout and stderr are files, or stdout is a pipe whose reader is already gone
(`bouncebot ... | head` after head exited). Jobs are JSON lines on stdin; one JSON line per job comes back.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import time
import traceback
from typing import Any

KILLED = -999


def _wait(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return KILLED


def _serve() -> dict[str, Any]:
    """The parent's loop; returns only in a child, with the job it is to run."""
    for line in sys.stdin:
        job = json.loads(line)
        closed_pipe = None
        if job.get("stdout") is None:
            read_end, closed_pipe = os.pipe()
            os.close(read_end)
        pid = os.fork()
        if pid == 0:
            job["_stdout_fd"] = closed_pipe
            return job
        if closed_pipe is not None:
            os.close(closed_pipe)
        code = _wait(pid, job.get("timeout", 60))
        sys.stdout.write(json.dumps({"code": code}) + "\n")
        sys.stdout.flush()
    sys.exit(0)


def _become(job: dict[str, Any]) -> None:
    out = job["_stdout_fd"]
    if out is None:
        out = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    for key in [k for k in os.environ if k.startswith(("BOUNCEBOT_", "SLACK_"))]:
        del os.environ[key]
    os.environ.update(job.get("env", {}))
    os.chdir(job["cwd"])


def _run(argv: list[str]) -> int:
    from bot.cli import main

    sys.argv = ["bouncebot", *argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # as the interpreter handles it
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception as exc:  # what Python prints when its exit-time flush fails
            os.write(2, f"Exception ignored in: {stream!r}\n{type(exc).__name__}: {exc}\n".encode())
            code = 120
    return code


if __name__ == "__main__":
    from bot.cli import build_parser

    build_parser()  # imports every command module once, before the forks

    the_job = _serve()
    _become(the_job)
    os._exit(_run(the_job["argv"]))
