"""A last line of defence for secrets in logs: a logging.Filter that masks known secret values.

bouncebot never logs its tokens or keys on purpose (tests/faults/test_fault_secrets.py checks every path at
DEBUG), but libraries and exception texts are not ours to audit line by line. `install(settings.secrets())`
puts a redacting filter on every handler of the root logger, so a record that somehow carries a secret (as
is, URL-quoted, base64, or as an HTTP Basic credential) is written with "[redacted]" in its place.
"""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import Iterable

MASK = "[redacted]"
#: Shorter values are not masked: they would match ordinary words and numbers.
MIN_SECRET = 8


def variants(secrets: Iterable[str], *, basic_user: str | None = None) -> tuple[str, ...]:
    """Each secret as it could appear in a log: plain, URL-quoted, base64; plus the Basic credential."""
    out: set[str] = set()
    values = [s for s in secrets if s and len(s) >= MIN_SECRET]
    for value in values:
        out.update({value, urllib.parse.quote(value, safe=""), base64.b64encode(value.encode()).decode()})
        if basic_user:
            out.add(base64.b64encode(f"{basic_user}:{value}".encode()).decode())
    return tuple(sorted(out, key=len, reverse=True))  # longest first: a secret inside another is masked whole


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (with its arguments merged) and traceback text when a secret is in them."""

    def __init__(self, secrets: Iterable[str], *, basic_user: str | None = None) -> None:
        super().__init__()
        self.secrets = variants(secrets, basic_user=basic_user)

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


def install(secrets: Iterable[str], *, basic_user: str | None = None,
            logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one RedactingFilter to every handler of `logger` (the root by default); call after handlers exist."""
    target = logger or logging.getLogger()
    redactor = RedactingFilter(secrets, basic_user=basic_user)
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
