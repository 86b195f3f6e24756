"""Approved senders for the gateway: a Postfix access map, a CSV of hosted-gateway patterns, or a TMEMS list.

A configured path (Settings.approved_export_path, .approved_export_format) is rewritten after every change,
atomically (temporary file + rename) and under a lock file, so a gateway never reads half a map and two
bouncebot processes on one host never interleave an older list over a newer one.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.approvals import list_active
from bot.config import Settings
from bot.timeutil import utcnow
from storage.models import ApprovedSender

FORMATS: tuple[str, ...] = ("postfix", "csv", "tmems")

#: Where a Trend Micro Email Security administrator pastes the `tmems` list.
TMEMS_WHERE = "Inbound Protection > Connection Filtering > Sender Filter"

#: Settings.postmap_command value that means "find postmap on PATH or in /usr/sbin".
POSTMAP_AUTO = "auto"

_POSTMAP_TIMEOUT = 60.0


class ExportError(RuntimeError):
    """The export could not be written or postmap failed; the message says which and why, in one line."""


@dataclass(frozen=True)
class ExportResult:
    format: str
    count: int
    path: Path | None = None
    postmap: tuple[str, ...] | None = None  # the postmap command that was run, if any


def _one_line(text: str | None, limit: int = 200) -> str:
    """Free text as one line: a newline in a reason must never become a line (an entry) of the map."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def gateway_pattern(approval: ApprovedSender) -> str:
    """The pattern hosted gateways accept: `user@example.com`, or `*@example.com` for a domain."""
    return approval.pattern if approval.kind == "address" else f"*@{approval.pattern}"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%MZ") if value else ""


def _note(approval: ApprovedSender) -> str:
    until = f" until {_when(approval.expires_at)}" if approval.expires_at else " (no expiry)"
    reason = f"; reason: {_one_line(approval.reason)}" if approval.reason else ""
    return f"approved by {_one_line(approval.approved_by, 64)} on {_when(approval.created_at)}{until}{reason}"


def _ordered(approvals: Sequence[ApprovedSender]) -> list[ApprovedSender]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for approval in sorted(approvals, key=lambda a: (a.kind != "domain", a.pattern, a.id)):
        if (approval.kind, approval.pattern) not in seen:  # postmap warns about duplicate keys
            seen.add((approval.kind, approval.pattern))
            unique.append(approval)
    return unique


def render_postfix(approvals: Sequence[ApprovedSender], *, now: datetime) -> str:
    """A Postfix access map for check_sender_access: `address OK` / `domain OK` (domains cover subdomains
    with Postfix's default parent_domain_matches_subdomains), each with a comment saying who, why, until."""
    lines = [
        f"# Approved senders, written by bouncebot at {_when(now)}: {len(approvals)} entr"
        f"{'y' if len(approvals) == 1 else 'ies'}. Rewritten on every change; do not edit.",
        "# Use: smtpd_sender_restrictions = check_sender_access hash:<this file>, ... (then `postmap <this file>`)",
    ]
    for approval in _ordered(approvals):
        lines.append(f"# {_note(approval)}")
        lines.append(f"{approval.pattern} OK")
    return "\n".join(lines) + "\n"


def render_csv(approvals: Sequence[ApprovedSender], *, now: datetime) -> str:
    """One row per approval, first column the pattern in the hosted-gateway form (`*@example.com`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sender", "kind", "approved_by", "created_at", "expires_at", "reason"])
    for approval in _ordered(approvals):
        writer.writerow([gateway_pattern(approval), approval.kind, _one_line(approval.approved_by, 64),
                         _when(approval.created_at), _when(approval.expires_at), _one_line(approval.reason)])
    return out.getvalue()


def render_tmems(approvals: Sequence[ApprovedSender], *, now: datetime) -> str:
    """The pattern list for Trend Micro Email Security, with a note where to paste it."""
    ordered = _ordered(approvals)
    lines = [
        f"# Approved senders for Trend Micro Email Security, written by bouncebot at {_when(now)}.",
        f"# Paste the {len(ordered)} pattern line(s) below (not these # notes) into:",
        f"#   {TMEMS_WHERE} > Approved Senders",
        "# Entries with an end date must be removed there by hand when they expire (see the notes).",
    ]
    lines += [f"# {gateway_pattern(a)}: {_note(a)}" for a in ordered if a.expires_at]
    lines += [gateway_pattern(a) for a in ordered]
    return "\n".join(lines) + "\n"


_RENDERERS = {"postfix": render_postfix, "csv": render_csv, "tmems": render_tmems}


def check_format(fmt: str) -> str:
    fmt = (fmt or "").strip().lower()
    if fmt not in _RENDERERS:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    return fmt


def render(approvals: Sequence[ApprovedSender], fmt: str, *, now: datetime | None = None) -> str:
    """The export text of these approvals in a format of FORMATS."""
    return _RENDERERS[check_format(fmt)](approvals, now=now or utcnow())


def find_postmap(command: str | None = None) -> tuple[str, ...]:
    """The postmap command line: the configured one (split like a shell would), else postmap found on PATH or
    in /usr/sbin. Raises ExportError when there is none."""
    if command and command.strip().lower() != POSTMAP_AUTO:
        parts = tuple(shlex.split(command))
        if not parts:
            raise ExportError("the postmap command is empty")
        return parts
    found = shutil.which("postmap") or next(
        (str(p) for p in (Path("/usr/sbin/postmap"), Path("/usr/local/sbin/postmap")) if p.exists()), None
    )
    if not found:
        raise ExportError("postmap was not found (install postfix, or set BOUNCEBOT_POSTMAP)")
    return (found,)


def run_postmap(command: Sequence[str], path: Path) -> tuple[str, ...]:
    """Run postmap on the map; `{path}` in the command is replaced, else the path is appended."""
    argv = [part.replace("{path}", str(path)) for part in command]
    if not any("{path}" in part for part in command):
        argv.append(str(path))
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_POSTMAP_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExportError(f"postmap could not run: {exc}") from exc
    if done.returncode != 0:
        why = (done.stderr or done.stdout or "").strip().splitlines()
        raise ExportError(f"postmap failed (exit {done.returncode}): {why[0] if why else 'no message'}")
    return tuple(argv)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_atomically(path: Path, text: str) -> None:
    """Write a file so that a reader sees either the old or the new content, never a part."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def export_active(
    session: Session,
    *,
    path: str | Path | None,
    fmt: str = "postfix",
    postmap: Sequence[str] | None = None,
    now: datetime | None = None,
) -> tuple[ExportResult, str]:
    """Export the approvals active now to `path` (atomically; postmap run after when given) or, with no path,
    just render them. Returns the result and the text written."""
    fmt = check_format(fmt)
    now = now or utcnow()
    if path is None:
        if postmap:
            raise ExportError("postmap needs an output file")
        approvals = list_active(session, now)
        return ExportResult(format=fmt, count=len(approvals)), render(approvals, fmt, now=now)
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise ExportError(f"the folder for the export does not exist: {target.parent}")
    if postmap and fmt != "postfix":
        raise ExportError(f"postmap only applies to the postfix format, not {fmt}")
    try:
        with _locked(target), Session(session.get_bind()) as fresh:
            # Read what is committed now, under the lock, in a session of our own (the caller's objects and
            # transaction stay untouched): a newer list is never overwritten by an older one.
            approvals = list_active(fresh, now)
            text = render(approvals, fmt, now=now)
            write_atomically(target, text)
            ran = run_postmap(postmap, target) if postmap else None
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return ExportResult(format=fmt, count=len(approvals), path=target, postmap=ran), text


def export_configured(session: Session, settings: Settings, *, now: datetime | None = None) -> ExportResult | None:
    """Rewrite the configured export (if any); postmap runs for the postfix format when a postmap command is
    configured (BOUNCEBOT_POSTMAP=auto finds it). None when no export path is configured."""
    if not settings.approved_export_path:
        return None
    fmt = check_format(settings.approved_export_format)
    postmap = find_postmap(settings.postmap_command) if fmt == "postfix" and settings.postmap_command else None
    result, _text = export_active(session, path=settings.approved_export_path, fmt=fmt, postmap=postmap, now=now)
    return result
