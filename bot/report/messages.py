"""What the traffic report tells people, in one place (CLI, Slack)."""

from __future__ import annotations

from datetime import date, datetime


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def empty_period(label: str) -> str:
    return f"No mail in the store for {label}: nothing was received, delivered, deferred, bounced or rejected."


def beyond_retention(first: date, oldest: datetime | None, days: int) -> str:
    kept = f"the oldest event kept is from {_when(oldest)}" if oldest else "the store holds no events at all"
    return (f"{first.isoformat()} is older than the {days}-day retention: events before that were deleted "
            f"({kept}), so the figures for those days are missing, not zero.")


def not_ingested_yet(newest: datetime | None) -> str:
    if newest is None:
        return "The store holds no events yet: has an ingest run?"
    return (f"The store has events only up to {_when(newest)}: later mail is not ingested yet, so the figures "
            f"after that are incomplete.")


def ingest_running(moved: datetime) -> str:
    return (f"An ingest is still running (its cursor moved at {_when(moved)}): the figures may grow until it "
            f"has caught up.")


def in_the_future(label: str) -> str:
    return f"{label} has not happened yet (or not finished): the figures are the store's so far."


def no_delay_data() -> str:
    return "Delays are measured from each message's `received` event; the store has none for this source."


def bad_period(detail: str) -> str:
    return f"bad period: {detail}"
