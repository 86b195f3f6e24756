"""The one composition root: settings + store + Web API client -> a Bolt app with every listener registered once.

This is the only bot/ module that may import slack_bolt/slack_sdk: it wires handlers/ (the Slack surface)
to bot/ (the domain). `serve_http` and `serve_socket_mode` run it; `background` holds start/stop pairs
(the digest scheduler hooks in there) that run for as long as the server does.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.config import ConfigError, Settings
from bot.diagnosis.contacts import soa_lookup_from_settings
from bot.diagnosis.live import checker_from_settings
from bot.diagnosis_pool import DEFAULT_NICE, DiagnosisPool
from bot.ports import Chat
from bot.store import Store
from handlers import actions, commands, events, home, views
from handlers.context import BACKGROUND_THREADS, Services, dedupe_events, inject, replay_guard
from handlers.outbound import SlackChat, ensure_retries, make_client
from handlers.serving import http_server

log = logging.getLogger(__name__)

#: Threads for the lazy listeners (modals, posts, updates, waiting for a diagnosis); acks never wait for them.
LAZY_WORKERS = BACKGROUND_THREADS
#: Worker processes for diagnoses in `bouncebot serve` (the CPU work leaves the acknowledging process).
DIAGNOSIS_PROCESSES = 2
#: Their niceness: lower CPU priority than the acknowledging process, which gets the CPU when it needs it.
DIAGNOSIS_NICE = DEFAULT_NICE
#: waitress threads: each only verifies, records the signature and acknowledges, so a few serve many clients.
HTTP_THREADS = 16

#: Seconds a thread may hold the GIL before another gets it (Python's default is 0.005).
GIL_SWITCH_INTERVAL = 0.001

SURFACES = (commands, events, actions, views, home)


@dataclass(frozen=True)
class Background:
    """Something that runs beside the server (e.g. the digest scheduler): started before, stopped after."""

    name: str
    start: Callable[[], None]
    stop: Callable[[], None]


def make_chat(settings: Settings) -> Chat:
    """The bot's outbound Slack port on its own (for `bouncebot digest --post`, outside the server)."""
    settings.require("slack_bot_token")
    return SlackChat(make_client(settings.slack_bot_token, settings.slack_api_url))


def default_checker_factory(settings: Settings) -> Callable[[], Any]:
    """Live block-list checks for diagnoses: one checker (with its answer cache) built from the settings."""
    checker = checker_from_settings(settings)
    return lambda: checker


def build_services(settings: Settings, *, client: WebClient | None = None, store: Store | None = None,
                   checker_factory: Callable[[], Any] | None = None, diagnosis_processes: int = 0,
                   diagnosis_nice: int = DIAGNOSIS_NICE) -> Services:
    """The services the listeners share. Without a checker_factory: live DNS checks and SOA contacts as
    configured (BOUNCEBOT_DNS_*, BOUNCEBOT_DNSBL_ZONES); with one (tests), exactly what it returns.

    With diagnosis_processes, the workers post /bounce answers with their own WebClient built from the
    settings (token and SLACK_API_URL), not with `client`."""
    client = ensure_retries(client) if client is not None else make_client(settings.slack_bot_token,
                                                                           settings.slack_api_url)
    live = checker_factory is None
    pool = (DiagnosisPool(settings, processes=diagnosis_processes, live=live, nice=diagnosis_nice)
            if diagnosis_processes else None)
    return Services(settings=settings, store=store or Store.open(settings), chat=SlackChat(client),
                    checker_factory=checker_factory or default_checker_factory(settings),
                    soa_lookup=soa_lookup_from_settings(settings) if live else None, pool=pool)


def build_app(settings: Settings, *, client: WebClient | None = None, store: Store | None = None,
              checker_factory: Callable[[], Any] | None = None, services: Services | None = None,
              socket_mode: bool = False, diagnosis_processes: int = 0, diagnosis_nice: int = DIAGNOSIS_NICE) -> App:
    """The Bolt app. Needs SLACK_BOT_TOKEN (unless a client is given) and, in HTTP mode, SLACK_SIGNING_SECRET.

    diagnosis_processes > 0 runs diagnoses in that many worker processes (what `bouncebot serve` does),
    at `diagnosis_nice` (added to their niceness; 0 keeps the web process's priority)."""
    if client is None and services is None:
        settings.require("slack_bot_token")
    if not socket_mode:
        settings.require("slack_signing_secret")
    services = services or build_services(settings, client=client, store=store, checker_factory=checker_factory,
                                          diagnosis_processes=diagnosis_processes, diagnosis_nice=diagnosis_nice)
    try:
        app = _bolt_app(settings, services, socket_mode)
    except BoltError as exc:  # auth.test refused the token: say so in one line (never the token itself)
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack's Web API at {settings.slack_api_url}") from exc
    except (SlackClientError, OSError) as exc:
        raise ConfigError(f"Slack's Web API at {settings.slack_api_url} cannot be reached "
                          f"({type(exc).__name__})") from exc
    app.use(inject(services))
    app.use(dedupe_events(services))
    for surface in SURFACES:
        surface.register(app)
    app.services = services  # type: ignore[attr-defined]  # for serve_* and tests
    return app


class _NoTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and, seeing our client too, warns that the token "will be unused";
    the client carries that very token, so the warning only misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("As you gave `client` as well")


logging.getLogger("slack_bolt.App").addFilter(_NoTokenNotice())


def _bolt_app(settings: Settings, services: Services, socket_mode: bool) -> App:
    """Bolt checks the token with auth.test here (once, at start)."""
    return App(
        client=services.chat.client,
        signing_secret=settings.slack_signing_secret or "",
        # Ack in the request thread, the work on the background threads: an ack never queues behind a diagnosis.
        process_before_response=True,
        listener_executor=services.background,
        before_authorize=replay_guard(services),
        request_verification_enabled=not socket_mode,
        name="bouncebot",
    )


def _run_background(background: Sequence[Background]) -> list[Background]:
    started: list[Background] = []
    for job in background:
        log.info("starting %s", job.name)
        job.start()
        started.append(job)
    return started


def pool_job(services: Services) -> list[Background]:
    """The diagnosis pool as a background job: warmed up before serving, shut down after."""
    pool = services.pool
    if pool is None:
        return []
    return [Background("diagnosis processes", pool.warm_up, pool.close)]


def _stop_background(started: Sequence[Background]) -> None:
    for job in reversed(started):
        try:
            job.stop()
        except Exception:
            log.exception("stopping %s failed", job.name)


def _freeze_startup_objects() -> None:
    """Move everything built so far (modules, the app, SQLAlchemy's mappers, the pool) out of the collector's
    sight. A full collection then scans only what requests create: measured under 50 concurrent clients, a
    gen-2 collection over the start-up objects held the GIL for ~75 ms, stalling every acknowledgement in
    flight (CPython's own advice for long-running servers, see gc.freeze). Undone when serving ends."""
    gc.collect()
    gc.freeze()


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def serve_http(app: App, *, host: str, port: int, background: Sequence[Background] = (),
               threads: int = HTTP_THREADS, ready: Callable[[Any], None] | None = None) -> None:
    """Serve /slack/events and /healthz on waitress until SIGTERM/SIGINT."""
    services: Services = app.services  # type: ignore[attr-defined]
    # Acks are short I/O-bound bursts; diagnoses are CPU-bound. A shorter GIL switch interval lets an ack
    # thread in within ~1 ms instead of waiting out a diagnosis's 5-ms slice at every I/O step.
    previous_interval = sys.getswitchinterval()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    server = http_server(app, services.store, host=host, port=port, threads=threads)
    started = _run_background([*pool_job(services), *background])
    _freeze_startup_objects()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        if ready is not None:
            ready(server)
        server.run()
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        server.close()
        _stop_background(started)
        gc.unfreeze()
        sys.setswitchinterval(previous_interval)


def serve_socket_mode(app: App, settings: Settings, *, background: Sequence[Background] = (),
                      stop: threading.Event | None = None) -> None:
    """Socket Mode: an outbound WebSocket with the app-level token (SLACK_APP_TOKEN), no public URL needed.

    Runs until SIGTERM/SIGINT, or until `stop` is set (tests)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings.require("slack_app_token")
    services: Services = app.services  # type: ignore[attr-defined]
    handler = SocketModeHandler(app, app_token=settings.slack_app_token, web_client=services.chat.client)
    stop = stop or threading.Event()
    previous_interval = sys.getswitchinterval()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # acks go back over the socket as promptly as over HTTP
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = _run_background([*pool_job(services), *background])
    _freeze_startup_objects()
    try:
        handler.connect()
        log.info("connected to Slack in Socket Mode")
        stop.wait()
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        handler.close()
        _stop_background(started)
        gc.unfreeze()
        sys.setswitchinterval(previous_interval)
