"""A WSGI guard in front of bolt's adapter: bodies and headers no Slack request has are refused with 4xx.

bolt's WSGI adapter decodes the body as UTF-8 and parses it (JSON, or a form with `payload=`) BEFORE it checks
the signature, and its verification calls int() on X-Slack-Request-Timestamp: garbage bytes, a broken JSON body
or a timestamp like "yesterday" each end as an exception and an HTTP 500 (found by tests/faults). Slack never
sends such requests, so they are refused here: 400 for a body that cannot be read, 401 for a timestamp that
cannot be one (the signature cannot be valid), 413 for a body far larger than any Slack payload.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.request.internals import parse_body

log = logging.getLogger(__name__)

#: Slack's payloads are a few KiB (a view submission at most a few hundred); far past that is not Slack.
MAX_BODY = 2 * 1024 * 1024
#: Digits of a Unix time in seconds, with room to spare (year 33658 at 12 digits).
_MAX_TS_DIGITS = 12

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _refuse(start_response: StartResponse, status: str, why: str) -> Iterable[bytes]:
    body = json.dumps({"error": why}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def problem(raw: bytes, content_type: str | None, timestamp: str | None) -> tuple[str, str] | None:
    """(HTTP status, reason) when the request cannot be a Slack request, else None."""
    if len(raw) > MAX_BODY:
        return "413 Payload Too Large", "body too large"
    if timestamp is not None and not (timestamp.isascii() and timestamp.isdigit()
                                      and len(timestamp) <= _MAX_TS_DIGITS):
        return "401 Unauthorized", "invalid request timestamp"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "400 Bad Request", "body is not UTF-8"
    try:
        parsed = parse_body(text, content_type.split(";")[0].strip() if content_type else None)
    except ValueError:  # json.JSONDecodeError is a ValueError
        return "400 Bad Request", "body is not valid JSON or form data"
    if not isinstance(parsed, dict):
        return "400 Bad Request", "body is not a JSON object"
    return None


def guard(inner: Wsgi) -> Wsgi:
    """Wrap bolt's WSGI handler: POSTs are checked (and their body re-buffered) before it sees them."""

    def guarded(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return inner(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(start_response, "400 Bad Request", "bad Content-Length")
        if length > MAX_BODY:
            return _refuse(start_response, "413 Payload Too Large", "body too large")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        found = problem(raw, environ.get("CONTENT_TYPE"), environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"))
        if found is not None:
            log.warning("refused a malformed request to %s: %s", environ.get("PATH_INFO"), found[1])
            return _refuse(start_response, *found)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        return inner(environ, start_response)

    return guarded
