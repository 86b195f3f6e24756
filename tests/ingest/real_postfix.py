"""Run a real Postfix on loopback for a test (../shared/recipes/postfix.md) and keep the log it wrote.

One Postfix per host: the lock file shared with tests/ingest/test_postfix_e2e.py keeps runs apart. main.cf and
master.cf are backed up and restored, the map files written for the run are removed, and the log is copied
to /tmp (the caller removes the copy) so that /var/log is left as it was.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support import free_port, require_binary, require_root, unavailable

ETC = Path("/etc/postfix")
LOCK = Path("/tmp/bouncebot-postfix-e2e.lock")

#: The settings every run shares (the recipe's), before the run's own.
BASE_MAIN = (
    "inet_protocols = ipv4", "myhostname = mx.test.local", "mydestination = test.local, localhost",
    "local_recipient_maps = proxy:unix:passwd.byname $alias_maps", "smtpd_client_restrictions =",
    "smtpd_sender_restrictions =", "relayhost =", "default_transport = error:no outside mail here",
)


@dataclass
class PostfixRun:
    """What a run configures: main.cf settings, map files (name -> content, regexp or hash), smtpd services
    (each a list of `-o name=value` overrides; one loopback port each)."""

    main: Sequence[str] = ()
    maps: dict[str, str] = field(default_factory=dict)
    hashed: Sequence[str] = ()  # map names to postmap
    services: Sequence[Sequence[str]] = ((),)
    #: A network namespace (already set up by the caller) to run Postfix in: its own resolver and /etc/hosts
    #: (/etc/netns/NAME), all of 127/8 on its lo. The scenario must then talk to Postfix from inside it too.
    netns: str | None = None
    #: Delete whatever is still queued (deferred mail) once Postfix is stopped, so no later run retries it.
    purge_queue: bool = False
    #: One more port, after the smtpd ones: postscreen in front of an smtpd (its main.cf settings are the run's).
    postscreen: bool = False
    #: Ports chosen by the caller, by service index (a content filter must know where to re-inject beforehand).
    fixed_ports: dict[int, int] = field(default_factory=dict)


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")


def map_path(name: str) -> Path:
    return ETC / f"bouncebot_e2e_{name}"


def in_netns(netns: str | None, *args: str) -> list[str]:
    """The command line, run inside the network namespace when there is one."""
    return [require_binary("ip"), "netns", "exec", netns, *args] if netns else list(args)


def wait_for_port(port: int, netns: str | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if netns:
            probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2).close()"
            if subprocess.run(in_netns(netns, sys.executable, "-c", probe), capture_output=True,
                              timeout=30).returncode == 0:
                return
        else:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"Postfix did not listen on 127.0.0.1:{port}")


def wait_for_log(log: Path, needle: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(needle) >= count:
            return
        time.sleep(0.3)
    tail = log.read_text(errors="replace").splitlines()[-12:] if log.exists() else ["(no log file)"]
    queue = subprocess.run(["postqueue", "-p"], capture_output=True, text=True, timeout=30).stdout.strip()
    raise RuntimeError(f"the Postfix log never showed {count} x {needle!r}; its last lines:\n" + "\n".join(tail)
                       + f"\nthe queue:\n{queue}")


def master_running() -> bool:
    """Whether Postfix's master runs, from its pid file (quietly: `postfix status` writes to the log)."""
    try:
        pid = int(Path("/var/spool/postfix/pid/master.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def run_postfix(run: PostfixRun, scenario: Callable[[list[int], Path], None]) -> Path:
    """Configure and start Postfix, call scenario(ports, live log), stop it, restore; the kept log's path."""
    require_root("running Postfix")
    postfix, postconf, postmap = (require_binary(name) for name in ("postfix", "postconf", "postmap"))
    newaliases = require_binary("newaliases")
    LOCK.touch()
    with open(LOCK) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if subprocess.run([postfix, "status"], capture_output=True, timeout=30).returncode == 0:
            unavailable("a Postfix is already running on this host (one instance per host)")
        backup = {name: (ETC / name).read_bytes() for name in ("main.cf", "master.cf")}
        cache = Path("/var/lib/postfix/postscreen_cache.db")
        cache_existed = cache.exists()
        log = Path(f"/var/log/bouncebot-e2e-{uuid.uuid4().hex[:8]}.log")
        written: list[Path] = []
        try:
            if run.purge_queue:  # mail a killed run left queued would be retried into this run's log
                _run(require_binary("postsuper"), "-d", "ALL")
            for name, content in run.maps.items():
                path = map_path(name)
                path.write_text(content)
                written.append(path)
                if name in run.hashed:
                    _run(postmap, str(path))
                    written.append(path.with_name(path.name + ".db"))
            _run(newaliases)  # a fresh install may have no aliases.db yet
            _run(postconf, "-MX", "smtp/inet")
            ports = []
            for index, overrides in enumerate(run.services):
                port = run.fixed_ports.get(index) or free_port()
                ports.append(port)
                command = " ".join(["smtpd", *(f"-o {o}" for o in overrides)])
                _run(postconf, "-M", f"127.0.0.1:{port}/inet=127.0.0.1:{port} inet n - n - - {command}")
            if run.postscreen:
                port = free_port()
                ports.append(port)
                for entry in (f"127.0.0.1:{port}/inet=127.0.0.1:{port} inet n - n - 1 postscreen",
                              "smtpd/pass=smtpd pass - - n - - smtpd", "dnsblog/unix=dnsblog unix - - n - 0 dnsblog",
                              "tlsproxy/unix=tlsproxy unix - - n - 0 tlsproxy"):
                    _run(postconf, "-M", entry)
            _run(postconf, "-F", "*/*/chroot = n")
            _run(postconf, "-e", f"maillog_file = {log}", *BASE_MAIN, *run.main)
            _run(postfix, "check")
            _run(*in_netns(run.netns, postfix, "start"))
            for port in ports:
                wait_for_port(port, run.netns)
            scenario(ports, log)
        finally:
            if master_running():  # a scenario may have stopped it already (`postfix status` would log a line)
                subprocess.run(in_netns(run.netns, postfix, "stop"), capture_output=True, timeout=60)
            for name, content in backup.items():
                (ETC / name).write_bytes(content)
            if run.purge_queue:  # with main.cf restored: postsuper logs where the host's Postfix does
                subprocess.run([require_binary("postsuper"), "-d", "ALL"], capture_output=True, timeout=60)
            if run.postscreen and not cache_existed:
                cache.unlink(missing_ok=True)
            for path in written:
                path.unlink(missing_ok=True)
            kept = Path(f"/tmp/{log.name}")  # the test reads a copy; /var/log is left as it was
            if log.exists():
                shutil.copy2(log, kept)
                log.unlink()
    return kept


def smtp_client(port: int, last_octet: int, helo: str) -> smtplib.SMTP:
    """An SMTP session to a scenario's smtpd from client 127.0.0.<last_octet>, after EHLO `helo`."""
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(f"127.0.0.{last_octet}", 0))
    smtp.ehlo(helo)
    return smtp


def plain_message(sender: str, to: str, subject: str, body: str, domain: str,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """A text message with a fresh Message-ID at `domain` (and any extra header fields)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@{domain}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def recorded(record: Callable[[], Path]) -> Iterator[Path]:
    """The body of a module fixture: one real-Postfix recording, a failure with its reason (never a silent skip:
    the recording needs what CI has), the kept copy removed afterwards. Use as `yield from recorded(record)`."""
    try:
        log = record()
    except (OSError, RuntimeError, AssertionError, subprocess.SubprocessError) as exc:
        pytest.fail(f"the Postfix run failed: {exc}")
    yield log
    log.unlink(missing_ok=True)
