"""The digest's daily rollup: events counted per local day of the digest's zone and dimension.

The bookkeeping (built once per day, topped up by event id, dirty days, the watermark) is bot/rollups.py's;
this module says what the digest counts: one INSERT ... SELECT ... GROUP BY per dimension, upserted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete

from bot import rollups
from bot.rollups import EPOCH, RefreshStats, Spec, Window
from storage.models import DigestRollup, DigestRollupDay

BLOCKED = ("rejected", "quarantined", "deleted")   # our gateway refused or held it
BOUNCED = ("bounced", "expired")                    # a server downstream refused it for good
ACCEPTED = ("delivered", "accepted")                # got through: the baseline for false positives


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # constants of this module only, never user input


#: kind -> (key expression, which events count). Keys are lowercase already (TrackingEvent.as_row).
DIMENSIONS: dict[str, tuple[str, str]] = {
    "total": ("''", "1 = 1"),
    "hour": ("CAST(({epoch} - :start_epoch) / 3600 AS VARCHAR(8))", "1 = 1"),
    "sender": ("COALESCE(sender, '<>')",
               f"(disposition IN ({_quoted(BLOCKED)}) OR (direction = 'inbound'"
               f" AND disposition IN ({_quoted(ACCEPTED)})))"),
    "domain": ("sender_domain",
               f"sender_domain IS NOT NULL AND (disposition IN ({_quoted(BLOCKED)}) OR (direction = 'inbound'"
               f" AND disposition IN ({_quoted(ACCEPTED)})))"),
    "ip": ("client_ip", f"client_ip IS NOT NULL AND disposition IN ({_quoted(BLOCKED)})"),
    "recipient": ("recipient",
                  f"recipient IS NOT NULL AND direction = 'inbound' AND cause = 'invalid_recipient'"
                  f" AND disposition IN ({_quoted(BLOCKED + BOUNCED)})"),
    "remote_domain": ("recipient_domain",
                      f"recipient_domain IS NOT NULL AND direction = 'outbound'"
                      f" AND disposition IN ({_quoted(BOUNCED)})"),
}
#: Compact twins of the big dimensions: one row per key, direction and disposition (no cause, no reason), so
#: the top lists and the false-positive probes read a few times fewer rows; the detailed kind still gives
#: the main reason of the few keys shown.
COMPACT = {"sender": "sender_n", "domain": "domain_n", "ip": "ip_n"}
DIMENSIONS.update({compact: DIMENSIONS[kind] for kind, compact in COMPACT.items()})
_NO_REASON = {"hour"}  # per-hour rows keep the cause only: the chart needs no more
_NO_CAUSE = set(COMPACT.values())
_CELL = ("zone", "day", "kind", "key", "direction", "disposition", "cause", "reason")


def _day_sql(dialect: str, kind: str, window: Window) -> str:
    key, where = DIMENSIONS[kind]
    key = key.format(epoch=EPOCH[dialect].format(t="time"))
    reason = "''" if kind in _NO_REASON | _NO_CAUSE else "COALESCE(reason, '')"
    cause = "''" if kind in _NO_CAUSE else "COALESCE(cause, '')"
    # by output position (4 key ... 8 reason): PostgreSQL takes neither constants nor a repeated parameter there
    groups = [str(i) for i, expr in ((4, key), (5, "d"), (6, "d"), (7, cause), (8, reason)) if expr != "''"]
    # S608: assembled from this module's constants only; every value is a bound parameter
    return (
        f"INSERT INTO digest_rollup ({', '.join(_CELL)}, count) "  # noqa: S608
        f"SELECT :zone, :day, '{kind}', {key}, direction, disposition, {cause}, {reason}, COUNT(*) "
        f"FROM events WHERE {rollups.window_sql(window, dialect)} AND {where} "
        f"GROUP BY {', '.join(groups)} "
        f"ON CONFLICT ({', '.join(_CELL)}) DO UPDATE SET count = digest_rollup.count + excluded.count"
    )


def _count(conn: Connection, window: Window) -> None:
    for kind in DIMENSIONS:
        conn.execute(rollups.bound(_day_sql(conn.dialect.name, kind, window)), rollups.params(window))


def _clear(conn: Connection, zone: str, day: str) -> int:
    """Remove one day's rows, through the rollup's (zone, kind, day) index."""
    return conn.execute(delete(DigestRollup).where(
        DigestRollup.zone == zone, DigestRollup.kind.in_(list(DIMENSIONS)), DigestRollup.day == day)).rowcount or 0


SPEC = Spec(name="digest", state=DigestRollupDay, clear=_clear, count=_count, vacuum="digest_rollup")


def refresh(engine: Engine, zone: ZoneInfo, days: Iterable[date], *, now: datetime | None = None) -> RefreshStats:
    """Make the digest rollup of `days` (local days of `zone`) count every event committed so far."""
    return rollups.refresh(engine, SPEC, zone, days, now=now)


def purge_before(engine: Engine, before: date) -> int:
    """Drop the digest rollup of days before `before` (all zones); the scheduler's rollup job calls this."""
    return rollups.purge_before(engine, SPEC, before)
