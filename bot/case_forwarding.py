"""Forward a stored support case to an external ticketing system: a JSON webhook and/or an e-mail.

Forwarding runs after the case is committed and never raises for a delivery failure: each target's result
(ok, or a one-line error) is returned and audited as "case.forward", so a broken ticketing system costs a
warning, never the case.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy.orm import Session

from bot import audit
from bot.cases import case_dict
from bot.config import Settings
from storage.models import SupportCase

log = logging.getLogger(__name__)

WEBHOOK = "webhook"
EMAIL = "email"
DEFAULT_TIMEOUT = 10.0
USER_AGENT = "bouncebot-case-forwarding/1"


class ForwardError(RuntimeError):
    """A forward failed; the message says where and why in one line (never a secret)."""


@dataclass(frozen=True)
class ForwardResult:
    target: str      # "webhook" | "email"
    ok: bool
    detail: str      # the HTTP status / the recipients, or the error


def case_payload(case: SupportCase) -> dict[str, Any]:
    """What the webhook receives: {"type": "bouncebot.case", "case": {...}} with the diagnosis snapshot."""
    return {"type": "bouncebot.case", "case": case_dict(case)}


def post_webhook(case: SupportCase, *, url: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """POST the case as JSON; returns "HTTP <status>". Raises ForwardError on a non-2xx answer or no answer."""
    if not url.lower().startswith(("http://", "https://")):
        raise ForwardError(f"case webhook URL must be http(s): {url[:80]!r}")
    body = json.dumps(case_payload(case)).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        raise ForwardError(f"case webhook answered HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise ForwardError(f"case webhook unreachable: {exc.reason}") from exc
    except TimeoutError as exc:
        raise ForwardError(f"case webhook did not answer within {timeout:g} s") from exc
    except OSError as exc:
        raise ForwardError(f"case webhook failed: {exc}") from exc


def case_email(case: SupportCase, *, to: list[str], sender: str) -> EmailMessage:
    """A plain-text mail of the case with the diagnosis snapshot attached as JSON."""
    msg = EmailMessage()
    msg["Subject"] = f"[bouncebot case #{case.id}] {case.title}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    lines = [
        f"Case #{case.id}: {case.title}",
        f"Target: {case.target}",
        f"Opened by: {case.opened_by} at {case.created_at:%Y-%m-%d %H:%M} UTC",
        f"Status: {case.status}",
        "",
        case.description or "(no description)",
    ]
    msg.set_content("\n".join(lines) + "\n")
    snapshot = json.dumps(case.snapshot or {}, indent=2, sort_keys=True)
    msg.add_attachment(snapshot.encode("utf-8"), maintype="application", subtype="json",
                       filename=f"case-{case.id}-diagnosis.json")
    return msg


def send_email(case: SupportCase, *, to: list[str], host: str, port: int, sender: str,
               timeout: float = DEFAULT_TIMEOUT) -> str:
    """Send the case mail through the SMTP server; returns the accepted recipients. Raises ForwardError."""
    if not to:
        raise ForwardError("no case e-mail recipients configured")
    msg = case_email(case, to=to, sender=sender)
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ForwardError(f"SMTP server {host}:{port} refused every recipient: {', '.join(exc.recipients)}") from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise ForwardError(f"SMTP server {host}:{port} answered {exc.smtp_code} {text}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ForwardError(f"SMTP server {host}:{port} unreachable: {exc}") from exc
    accepted = [r for r in to if r not in refused]
    return "sent to " + ", ".join(accepted)


def _recipients(value: str | None) -> list[str]:
    return [r.strip() for r in (value or "").split(",") if r.strip()]


def forward_case(
    session: Session,
    *,
    case: SupportCase,
    settings: Settings,
    actor: str,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[ForwardResult]:
    """Forward to every configured target (Settings.case_webhook_url, Settings.case_email_to); [] when none.
    Each result is audited ("case.forward" done / failed) and committed; failures are returned, not raised."""
    results: list[ForwardResult] = []
    if settings.case_webhook_url:
        results.append(_attempt(WEBHOOK, lambda: post_webhook(case, url=settings.case_webhook_url or "",
                                                              timeout=timeout)))
    recipients = _recipients(settings.case_email_to)
    if recipients:
        results.append(_attempt(EMAIL, lambda: send_email(case, to=recipients, host=settings.smtp_host,
                                                          port=settings.smtp_port, sender=settings.smtp_from,
                                                          timeout=timeout)))
    for result in results:
        audit.record(session, actor=actor, action=audit.CASE_FORWARD, target=case.target,
                     outcome=audit.DONE if result.ok else audit.FAILED,
                     detail={"case_id": case.id, "to": result.target, "detail": result.detail},
                     channel=case.channel, message_ts=case.thread_ts)
    if results:
        session.commit()
    return results


def _attempt(target: str, send: Callable[[], str]) -> ForwardResult:
    try:
        return ForwardResult(target, True, send())
    except ForwardError as exc:
        log.warning("forwarding a case by %s failed: %s", target, exc)
        return ForwardResult(target, False, str(exc))
