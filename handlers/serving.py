"""HTTP mode: bolt's WSGI adapter at /slack/events plus GET /healthz, served by waitress (a production server).

No logic here: the adapter translates requests, the health check asks the store for one row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from waitress import create_server

from bot.store import Store
from handlers.request_guard import guard

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


def health(store: Store) -> tuple[int, dict[str, Any]]:
    """200 when the store answers a query, 503 (with the one-line reason) when it does not."""
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy"; the reason is reported, not hidden
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return 503, {"ok": False, "store": "unreachable", "error": reason[0] if reason else type(exc).__name__}
    return 200, {"ok": True, "store": "ok"}


def wsgi_app(app: App, store: Store) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    # The guard refuses (4xx) bodies and headers no Slack request has, which bolt's adapter would turn into 500s.
    slack = guard(SlackRequestHandler(app, path=EVENTS_PATH))

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            status, body = health(store)
            payload = json.dumps(body).encode()
            start_response(f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        return slack(environ, start_response)

    return application


def http_server(app: App, store: Store, *, host: str, port: int, threads: int, **adjustments: Any) -> Any:
    """A waitress server (not yet running): call .run() to serve, .close() to stop. `adjustments` are
    waitress's own settings (tests shorten asyncore_loop_timeout so a stop takes milliseconds, not a second)."""
    return create_server(wsgi_app(app, store), host=host, port=port, threads=threads, ident="bouncebot",
                         clear_untrusted_proxy_headers=True, **adjustments)
