"""A small client of the Trend Micro Email Security log API: one window, every page, retries done right.

Why not urllib: one persistent HTTP/1.1 connection serves all the pages of a poll (hundreds of requests for a
busy gateway), and the status codes the API uses (204 for an empty window, 429 with Retry-After) need handling
that urllib's error-raising style only gets in the way of.

Secrets: the Authorization header is built once and lives only in this object; it is never part of a repr, a log
line or an exception message. The console login ID is treated as a secret too.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from ipaddress import ip_address
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from bot.config import ConfigError, Settings

log = logging.getLogger(__name__)

MAIL_TRACKING_PATH = "/api/v1/log/mailtrackinglog"
POLICY_EVENT_PATH = "/api/v1/log/policyeventlog"
PAGE_LIMIT = 500  # the API's default and maximum page size

_CONSOLE_KEYS = "Administration > Service Integration > API Access"
_RETRYABLE = frozenset({429, 500, 502, 503, 504})


class TmemsError(RuntimeError):
    """A request to TMEMS failed; the message is one line and safe to log (no credentials)."""

    status: int | None = None

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TmemsSetupError(TmemsError):
    """401/403/404: retrying cannot help; someone has to change the console or the settings."""


class TmemsRequestError(TmemsError):
    """400: the API refused the request itself (bad window, bad token)."""


class TmemsUnavailable(TmemsError):
    """429, 5xx or the network, after every retry: try the same window again on the next run."""


class TmemsUnreachable(TmemsUnavailable):
    """The service was never reached in this run (refused, no such host, no answer): nothing else will work
    either, so the poll stops at once with what to check."""


#: What to check when TMEMS cannot be used at all, in one line.
CHECKLIST = ("check BOUNCEBOT_TMEMS_URL is your region's API host (e.g. https://api.tmes.trendmicro.com; "
             "docs/tmems.md lists the regions) and that this machine can reach it, BOUNCEBOT_TMEMS_USER and "
             "BOUNCEBOT_TMEMS_API_KEY, and that Log Retrieval is switched on in " + _CONSOLE_KEYS)


def setup_message(status: int, code: str, message: str) -> str:
    """What to do about a status that retries cannot fix, in the console's own words; one line."""
    said = f" ({code}: {message})" if code or message else ""
    if status == 401:
        return (f"TMEMS refused the credentials (HTTP 401{said}): set BOUNCEBOT_TMEMS_USER to the console login ID "
                f"and BOUNCEBOT_TMEMS_API_KEY to an enabled API key from {_CONSOLE_KEYS} (a key belongs to one "
                f"region: check BOUNCEBOT_TMEMS_URL too)")
    if status == 403:
        return (f"TMEMS forbids log access for this API key (HTTP 403{said}): check the key is enabled and Log "
                f"Retrieval is switched on in {_CONSOLE_KEYS}, and that BOUNCEBOT_TMEMS_URL is your region's API host")
    return (f"TMEMS log retrieval is not available (HTTP 404{said}): switch Log Retrieval on in {_CONSOLE_KEYS} "
            f"(and check BOUNCEBOT_TMEMS_URL is your region's API host, e.g. https://api.tmes.trendmicro.com)")


def iso(moment: datetime) -> str:
    """The API's time format: ISO 8601 UTC to the millisecond, with Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int | None
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """'https://api.tmes.trendmicro.com' (a bare host means https). Plain http only to a loopback address:
        Basic auth over the open network would hand the API key to anyone on the path."""
        text = url.strip()
        if "://" not in text:
            text = "https://" + text
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("BOUNCEBOT_TMEMS_URL must be the region's API URL, e.g. https://api.tmes.trendmicro.com")
        if parts.username or parts.password:
            raise ConfigError("BOUNCEBOT_TMEMS_URL must not contain credentials: use BOUNCEBOT_TMEMS_USER and "
                              "BOUNCEBOT_TMEMS_API_KEY")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ConfigError("BOUNCEBOT_TMEMS_URL must use https (plain http only to a loopback test server)")
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"BOUNCEBOT_TMEMS_URL has a bad port: {exc}") from None
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    def __str__(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.host}{port}{self.prefix}"


@dataclass(frozen=True)
class Page:
    logs: list[dict[str, Any]]
    next_token: str | None


class TmemsClient:
    """GETs against one TMEMS region with Basic auth, paging and retries."""

    def __init__(
        self,
        url: str,
        user: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        first_contact_attempts: int = 2,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_retry_after: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not user or not api_key:
            raise ConfigError("BOUNCEBOT_TMEMS_USER and BOUNCEBOT_TMEMS_API_KEY must both be set")
        self.endpoint = Endpoint.parse(url)
        self._auth = "Basic " + base64.b64encode(f"{user}:{api_key}".encode()).decode("ascii")
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        #: Network failures before the service ever answered are retried only this often: a wrong URL, a closed
        #: port or a firewall does not heal in seconds, and the run must say so quickly (serve retries later).
        self.first_contact_attempts = max(1, min(first_contact_attempts, max_attempts))
        self.max_attempts = max(1, max_attempts)
        self.reached = False  # the service answered at least once
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.requests = 0
        self._conn: http.client.HTTPConnection | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> TmemsClient:
        settings.require("tmems_url", "tmems_user", "tmems_api_key")
        return cls(settings.tmems_url or "", settings.tmems_user or "", settings.tmems_api_key or "", **kwargs)

    def __repr__(self) -> str:
        return f"TmemsClient(url={str(self.endpoint)!r}, credentials=<hidden>)"

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> TmemsClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- paging --------------------------------------------------------------------------------------------------
    def pages(self, path: str, params: Mapping[str, str]) -> Iterator[list[dict[str, Any]]]:
        """Every page of one query, following nextToken; an empty window (204) yields nothing."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if token:
                query["token"] = token
            page = self.get(path, query)
            if page is None:  # 204, or a 200 with an empty body: the end
                return
            yield page.logs
            token = page.next_token
            if not token:
                return
            if token in seen:  # a server handing the same token again would loop forever
                raise TmemsRequestError(f"TMEMS returned the same nextToken twice for {path}")
            seen.add(token)

    # -- one request, with retries -----------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, str]) -> Page | None:
        target = f"{self.endpoint.prefix}{path}?{urlencode(params)}"
        delay = self.backoff
        for attempt in range(1, self.max_attempts + 1):
            try:
                status, headers, body = self._request(target)
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                said = f"{type(exc).__name__}: {exc}".replace("\n", " ")
                if not self.reached and attempt >= self.first_contact_attempts:
                    raise TmemsUnreachable(f"TMEMS is unreachable at {self.endpoint} ({said}): {CHECKLIST}") from None
                problem: TmemsError = TmemsUnavailable(f"TMEMS is unreachable at {self.endpoint}: {said}")
                wait = delay
            else:
                self.reached = True
                if status == 204:
                    return None
                if status == 200:
                    if not body.strip():  # one integration's tests end paging so
                        return None
                    return self._page(path, body)
                code, message = _error_fields(body)
                if status in (401, 403, 404):
                    raise TmemsSetupError(setup_message(status, code, message), status)
                if status not in _RETRYABLE:
                    raise TmemsRequestError(f"TMEMS refused {path} (HTTP {status} {code}: {message})".rstrip(": "),
                                            status)
                problem = TmemsUnavailable(f"TMEMS answered HTTP {status} {code} {message}".strip(), status)
                wait = self._retry_after(headers.get("retry-after"), delay)
            if attempt == self.max_attempts:
                raise TmemsUnavailable(f"{problem} (gave up after {attempt} attempts)", problem.status)
            limit = self.max_attempts if self.reached else self.first_contact_attempts
            log.warning("TMEMS %s: %s; attempt %d of %d, retrying in %.1fs", path, problem, attempt, limit, wait)
            self.sleep(wait)
            delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_after(self, value: str | None, default: float) -> float:
        """Retry-After in seconds or as an HTTP date; bounded, so a bad header cannot stall us for a day."""
        if not value:
            return default
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                return default
        return min(max(seconds, 0.0), self.max_retry_after)

    def _request(self, target: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One GET; a kept-alive connection the server closed meanwhile is reopened at once (not a failure)."""
        reused = self._conn is not None
        try:
            return self._send(target)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            self.close()
            log.debug("TMEMS closed the kept-alive connection; reconnecting")
            return self._send(target)

    def _send(self, target: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        if self._conn is None:
            factory = http.client.HTTPSConnection if self.endpoint.scheme == "https" else http.client.HTTPConnection
            conn = factory(self.endpoint.host, self.endpoint.port, timeout=self.connect_timeout)
            conn.connect()  # a short limit to connect; the full one to read a page the server takes long to make
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout)
            self._conn = conn
        self.requests += 1
        headers = {"Authorization": self._auth, "Accept": "application/json", "Accept-Encoding": "gzip",
                   "User-Agent": "bouncebot"}
        self._conn.request("GET", target, headers=headers)
        response = self._conn.getresponse()
        body = response.read()
        if response.getheader("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        if response.will_close:
            self.close()
        return response.status, response.headers, body

    @staticmethod
    def _page(path: str, body: bytes) -> Page:
        try:
            data = json.loads(body)
        except ValueError:
            raise TmemsRequestError(f"TMEMS answered {path} with something that is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("logs", []), list):
            raise TmemsRequestError(f"TMEMS answered {path} without a 'logs' list")
        if _UNSTORABLE.search(body):
            data = _storable(data)
        return Page(logs=data.get("logs") or [], next_token=next_token(data.get("nextToken")))


def next_token(value: Any) -> str | None:
    """nextToken as it must be sent back: opaque (base64 with '+', '/', '='; never parsed), and un-quoted once,
    since the API may hand it out percent-encoded (two integrations un-quote it before reuse). A raw base64
    token holds no '%', so un-quoting leaves it as it is; `unquote`, not `unquote_plus`: a '+' stays a '+'.
    The request then encodes it exactly once (urlencode)."""
    if not value:
        return None
    token = str(value)
    return unquote(token) if "%" in token else token


#: JSON escapes that decode to text no database takes: NUL (PostgreSQL refuses it) and lone surrogates
#: (neither driver can encode them). A record holding one would fail its whole window on every run.
_UNSTORABLE = re.compile(rb"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _storable(value: Any) -> Any:
    """The decoded page with NULs dropped and lone surrogates replaced (valid pairs are already joined)."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


def _error_fields(body: bytes) -> tuple[str, str]:
    """{"code": ..., "message": ...} from an error body; the API's text, never ours (no headers in it)."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return "", body[:200].decode("utf-8", "replace").strip()
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("code") or ""), str(data.get("message") or "")[:300]
