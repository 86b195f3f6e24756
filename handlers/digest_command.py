"""`/bounce digest [date]`: post the blocked-traffic digest of a day on demand (not the daily claimed one)."""

from __future__ import annotations

from datetime import date
from typing import Any


def available() -> bool:
    """Whether this installation has the digest (bot.digest's on-demand posting)."""
    return False


def post_digest(services: Any, day: date | None) -> str:
    raise NotImplementedError("the digest is not part of this installation yet")
