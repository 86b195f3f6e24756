"""Exactly one instance posts each day's digest: a unique (digest, day) row decides who.

Every instance schedules the digest in memory (APScheduler job stores must not be shared between processes);
when it fires, each tries `INSERT ... ON CONFLICT DO NOTHING RETURNING id` into digest_runs, and only the one
that gets an id back posts. A claim carries a lease: if its owner dies before recording the posted message,
another instance takes the claim over once the lease has passed, with a conditional UPDATE that only one can
win. The message ts is recorded right after chat.postMessage returns, which keeps the window in which a crash
could cause a second post as small as it can be without an idempotency key on Slack's side.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store import Store
from storage.models import DigestRun

DEFAULT_LEASE = timedelta(minutes=15)


def owner_id() -> str:
    """Who claims: host, process and a random part (a restarted process is a new owner)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claim:
    id: int
    digest: str
    day: str
    owner: str
    taken_over: bool = False


def claim(store: Store, digest: str, day: date, owner: str, now: datetime,
          lease: timedelta = DEFAULT_LEASE) -> Claim | None:
    """The claim on (digest, day) if this owner won it (new, or taken over from a dead owner); else None."""
    key = day.isoformat()
    values = {"digest": digest, "day": key, "claimed_by": owner, "claimed_at": now, "lease_until": now + lease}
    with store.session() as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = (insert(DigestRun).values(**values)
                .on_conflict_do_nothing(index_elements=["digest", "day"]).returning(DigestRun.id))
        new_id = session.execute(stmt).scalar()
        session.commit()
        if new_id is not None:
            return Claim(int(new_id), digest, key, owner)
        # someone holds it: take it over only if it was never posted and its lease has run out
        taken = session.execute(
            update(DigestRun)
            .where(DigestRun.digest == digest, DigestRun.day == key, DigestRun.posted_at.is_(None),
                   DigestRun.message_ts.is_(None), DigestRun.lease_until < now)
            .values(claimed_by=owner, claimed_at=now, lease_until=now + lease)
            .returning(DigestRun.id)
        ).scalar()
        session.commit()
        return Claim(int(taken), digest, key, owner, taken_over=True) if taken is not None else None


def renew(store: Store, claim_: Claim, now: datetime, lease: timedelta = DEFAULT_LEASE) -> bool:
    """Extend our lease just before posting; False if the claim was taken over (we must not post then)."""
    with store.session() as session:
        result = session.execute(
            update(DigestRun)
            .where(DigestRun.id == claim_.id, DigestRun.claimed_by == claim_.owner, DigestRun.posted_at.is_(None))
            .values(lease_until=now + lease)
        )
        session.commit()
        return bool(result.rowcount)


def mark_posted(store: Store, claim_: Claim, channel: str, ts: str, now: datetime) -> bool:
    """Record the posted message; False if the claim was taken over meanwhile (our lease ran out)."""
    with store.session() as session:
        result = session.execute(
            update(DigestRun)
            .where(DigestRun.id == claim_.id, DigestRun.claimed_by == claim_.owner)
            .values(posted_at=now, channel=channel, message_ts=ts)
        )
        session.commit()
        return bool(result.rowcount)


def release(store: Store, claim_: Claim) -> None:
    """Give up a claim that failed before posting, so the next catch-up round retries at once."""
    with store.session() as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.id == claim_.id, DigestRun.claimed_by == claim_.owner, DigestRun.posted_at.is_(None))
            .values(lease_until=DigestRun.claimed_at)
        )
        session.commit()


def run_for(store: Store, digest: str, day: date) -> DigestRun | None:
    with store.session() as session:
        return session.scalar(select(DigestRun).where(DigestRun.digest == digest, DigestRun.day == day.isoformat()))
