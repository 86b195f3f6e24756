"""What every listener gets in bolt's `context`: the services (settings, store, chat, approver check).

Two global middlewares guard the door: `replay_guard` (runs right after bolt's signature check) rejects a
signed request seen before inside the 5-minute window, and `dedupe_events` answers a retried Events API
callback with 200 and no second reply. Both keep their memory in the store, so they hold across instances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot import approvals, seen
from bot.answers import Answer, diagnosis_answer
from bot.bounce import Bounce
from bot.bounce_auth import BounceAuth, check_bounces
from bot.config import Settings
from bot.diagnosis_pool import DiagnosisPool
from bot.store import Store
from bot.targets import Target
from bot.ttlcache import TTLCache
from handlers.outbound import SlackChat
from storage.db import StoreError

log = logging.getLogger(__name__)

#: What a store that is down (or unreachable) raises: the user is told so, the request is not failed with 500.
STORE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, StoreError)

#: How long a lookup of the approver group's members is trusted.
APPROVER_CACHE_SECONDS = 60.0
#: Threads for the work after an acknowledgement (bolt's lazy listeners and `hand_off`); acks never wait for them.
BACKGROUND_THREADS = 16


@dataclass
class Services:
    settings: Settings
    store: Store
    chat: SlackChat
    #: The blacklist checker for live checks (returning None: diagnoses without them).
    checker_factory: Callable[[], Any] = field(default=lambda: None)
    #: The SOA-contact lookup for "whom to contact" (None: postmaster@ and provider pages only).
    soa_lookup: Callable[[str], str | None] | None = None
    group_members: TTLCache[str, frozenset[str]] | None = None
    #: Worker processes for diagnoses (None: in this process). Set by bot.app for `bouncebot serve`.
    pool: DiagnosisPool | None = None
    #: The threads that do the work after the acknowledgement (bolt's listener_executor too).
    background: Executor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=BACKGROUND_THREADS, thread_name_prefix="bouncebot-lazy"))

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        """Bolt deep-copies the context for lazy listeners; the services are shared, thread-safe singletons."""
        return self

    def __post_init__(self) -> None:
        if self.group_members is None:
            self.group_members = TTLCache(lambda group: frozenset(self.chat.usergroup_members(group)),
                                          ttl=APPROVER_CACHE_SECONDS)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.store.session() as session:
            yield session

    def is_approver(self, user_id: str) -> bool:
        """Configured ids or approver-group members; raises ChatError when the group cannot be read."""
        return approvals.is_approver(user_id, settings=self.settings, group_members=self.group_members)

    def checker(self) -> Any:
        return self.checker_factory()

    def bounce_auth(self, bounces: Sequence[Bounce]) -> BounceAuth:
        """The authentication checks of an explained bounce, live as the diagnoses are (not when the services
        were built without live checks)."""
        return check_bounces(bounces, self.settings, live=self.checker() is not None)

    def hand_off(self, work: Callable[..., None], *args: Any) -> None:
        """Run work(*args) on the background threads, after the acknowledgement: what a bolt lazy listener
        does, without copying the whole request (~0.25 ms of the ack path, most of it deep-copying the
        request's Web API clients). `work` gets only what it is passed, and must tell the user of its own
        failures; anything that escapes it is logged."""
        self.background.submit(_logged, work, *args)

    def diagnosis(self, target: Target, *, since: datetime | None = None, live: bool = True) -> Answer:
        """The diagnosis answer (in the pool if there is one); live=False skips the DNS checks (to open a
        modal inside the trigger_id's 3 seconds)."""
        if self.pool is not None:
            return self.pool.diagnose(target, since=since, live=live)
        with self.session() as session:
            return diagnosis_answer(session, target, settings=self.settings, since=since,
                                    checker=self.checker() if live else None,
                                    soa_lookup=self.soa_lookup if live else None)


def _logged(work: Callable[..., None], *args: Any) -> None:
    try:
        work(*args)
    except Exception:
        log.exception("%s failed", getattr(work, "__qualname__", work))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def services_of(context: Any) -> Services:
    return context["services"]


def inject(services: Services) -> Callable[..., BoltResponse]:
    """A global middleware putting the services into every listener's context."""

    def inject_services(context: Any, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["services"] = services
        return next()

    return inject_services


def replay_guard(services: Services) -> Callable[..., BoltResponse]:
    """Refuse (401) a request whose signature was already used: same body, same timestamp, same HMAC.

    Slack's own retries carry a new timestamp and so a new signature; only a replay is refused.
    Runs after bolt's RequestVerification (as `before_authorize`), so the signature here is valid.
    """

    def guard_replays(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        if req.mode == "socket_mode":
            return next()
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        if not signature:
            return next()
        try:
            first = seen.first_sighting(services.store.engine, seen.signature_key(signature))
        except STORE_ERRORS as exc:
            # Fail open: the signature and its 5-minute window are verified; only the replay memory is
            # missing while the store is down, and the listener tells the user the store is unreachable.
            log.warning("replay check skipped, the store is unreachable: %s", _first_line(exc))
            return next()
        if not first:
            log.warning("refused a replayed Slack request (same signature seen before)")
            return BoltResponse(status=401, body='{"error": "replayed request"}',
                                headers={"content-type": "application/json"})
        return next()

    return guard_replays


def dedupe_events(services: Services) -> Callable[..., BoltResponse]:
    """A retried event callback (same event_id) is acknowledged and dropped: it was answered already."""

    def drop_retried_events(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        try:
            first = seen.first_sighting(services.store.engine, seen.event_key(f"ev:{event_id}"))
        except STORE_ERRORS as exc:
            log.warning("event %s not checked for retries, the store is unreachable: %s", event_id, _first_line(exc))
            return next()
        if not first:
            log.info("dropped a retry of event %s", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return drop_retried_events
