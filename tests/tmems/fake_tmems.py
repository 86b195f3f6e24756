"""A fake Trend Micro Email Security log API: real HTTP on 127.0.0.1, the documented behaviour.

- GET /api/v1/log/mailtrackinglog?type=accepted_traffic|blocked_traffic and /api/v1/log/policyeventlog, with
  start/end (ISO 8601 UTC to the second or millisecond), limit (default and maximum 500), token, direction,
  domain. Neither start nor end: the last five minutes; only start: five minutes from it; only end: five minutes
  up to it. A start older than 72 hours is refused (400), as is end before start.
- Pages of `limit` records (at most `page_size`) with a nextToken until the last page; an empty window answers
  204. Tokens are opaque standard base64 with '+', '/' and '=' (as the vendor's example); `quote_tokens` hands
  them out percent-encoded (as two integrations report the real service does), and `end_with_empty_200` ends
  paging as one integration's tests do: the last page still carries a nextToken, whose request (and an empty
  window) answers 200 with an empty body.
- Basic auth checked on every request (401 AuthenticationMissingOrInvalid); log retrieval switched off answers
  404 ResourceNotAvailable; other methods 400 InvalidMethod.
- Scripted faults (`fail(...)`): a status, how many times, for which path/type, with Retry-After, optionally
  after letting some matching requests through.

Run standalone (the benchmark does, in its own process): python3 -m tests.tmems.fake_tmems --synthetic 100000
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import gzip
import json
import re
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

PATHS = {"/api/v1/log/mailtrackinglog": "mailtrackinglog", "/api/v1/log/policyeventlog": "policyeventlog"}
TYPES = ("accepted_traffic", "blocked_traffic")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Fault:
    status: int
    times: int = 1
    path: str | None = None       # "mailtrackinglog" | "policyeventlog" | None for any
    type: str | None = None       # accepted_traffic | blocked_traffic | None for any
    retry_after: str | None = None
    skip: int = 0                 # let this many matching requests through first

    def matches(self, path: str, kind: str | None) -> bool:
        return (self.path is None or self.path == path) and (self.type is None or self.type == kind)


@dataclass
class Seen:
    """One request as the server saw it (never the Authorization header's value)."""

    path: str
    params: dict[str, str]
    status: int
    authorized: bool


@dataclass
class _Log:
    times: list[datetime] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)   # each record pre-serialized: pages are joined, not dumped
    records: list[dict[str, Any]] = field(default_factory=list)


def _parse_time(text: str) -> datetime:
    if not _TIME.match(text):
        raise ApiError(400, "InvalidFormat", f"bad time {text!r}: use yyyy-mm-ddThh:mm:ss[.mmm]Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeTmems:
    """The server and its script. Use as a context manager; `url` is its base URL."""

    def __init__(self, user: str = "admin@ourcorp.example", api_key: str = "tmems-test-key-0123456789",
                 *, gzip_pages: bool = False, clock: Any = None) -> None:
        self.user, self.api_key = user, api_key
        self.gzip_pages = gzip_pages
        self.clock = clock or (lambda: datetime.now(UTC))
        self.log_retrieval = True
        self.page_size = 500           # the most records a page holds, whatever `limit` asks
        self.quote_tokens = False      # nextToken percent-encoded in the JSON
        self.end_with_empty_200 = False
        self.refuse_with: int | None = None  # answer every request with this status (401/403), credentials or not
        self.drop_connections = False  # close every connection after its response, without saying so
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._logs: dict[str, _Log] = {kind: _Log() for kind in (*TYPES, "policy")}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- script ------------------------------------------------------------------------------------------------
    def add(self, kind: str, records: list[dict[str, Any]]) -> None:
        """Publish records of a kind (accepted_traffic, blocked_traffic, policy_events/policy)."""
        log = self._logs["policy" if kind in ("policy", "policy_events") else kind]
        with self._lock:
            for record in records:
                when = datetime.fromisoformat(record["genTime"].replace("Z", "+00:00"))
                at = bisect.bisect_right(log.times, when)
                log.times.insert(at, when)
                log.bodies.insert(at, json.dumps(record, separators=(",", ":")))
                log.records.insert(at, record)

    def fail(self, status: int, *, times: int = 1, path: str | None = None, type: str | None = None,
             retry_after: str | None = None, skip: int = 0) -> None:
        with self._lock:
            self.faults.append(Fault(status, times, path, type, retry_after, skip))

    def data_requests(self) -> list[Seen]:
        """The requests that were answered with data or 204."""
        return [s for s in self.seen if s.status in (200, 204)]

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeTmems:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-tmems",
                                        daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTmems:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the API -----------------------------------------------------------------------------------------------
    def answer(self, path: str, params: dict[str, str], auth: str | None) -> tuple[int, dict[str, str], bytes]:
        name = PATHS.get(path)
        authorized = auth == "Basic " + base64.b64encode(f"{self.user}:{self.api_key}".encode()).decode()
        status, headers, body = self._answer(name, params, authorized)
        with self._lock:
            self.seen.append(Seen(path, dict(params), status, authorized))
        return status, headers, body

    def _answer(self, name: str | None, params: dict[str, str], authorized: bool
                ) -> tuple[int, dict[str, str], bytes]:
        try:
            if self.refuse_with is not None:
                raise ApiError(self.refuse_with, "Forbidden" if self.refuse_with == 403 else "Refused",
                               "access to this resource is forbidden")
            if name is None:
                raise ApiError(404, "ResourceNotFound", "no such resource")
            if not authorized:
                raise ApiError(401, "AuthenticationMissingOrInvalid", "authentication missing or invalid")
            if not self.log_retrieval:
                raise ApiError(404, "ResourceNotAvailable", "log retrieval is disabled for this account")
            kind = params.get("type") if name == "mailtrackinglog" else None
            fault = self._take_fault(name, kind)
            if fault is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return fault.status, headers, _error_body(f"Fault{fault.status}", "scripted fault")
            return self._logs_page(name, kind, params)
        except ApiError as exc:
            return exc.status, {}, _error_body(exc.code, exc.message)

    def _take_fault(self, name: str, kind: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(name, kind):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def _logs_page(self, name: str, kind: str | None, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if name == "mailtrackinglog" and kind not in TYPES:
            raise ApiError(400, "InvalidFormat", "type must be accepted_traffic or blocked_traffic")
        now = self.clock()
        start = _parse_time(params["start"]) if params.get("start") else None
        end = _parse_time(params["end"]) if params.get("end") else None
        if start is None and end is None:
            start, end = now - timedelta(minutes=5), now
        elif end is None:
            end = start + timedelta(minutes=5)  # type: ignore[operator]
        elif start is None:
            start = end - timedelta(minutes=5)
        assert start is not None and end is not None
        if end < start:
            raise ApiError(400, "InvalidFormat", "end is earlier than start")
        if start < now - timedelta(hours=72):
            raise ApiError(400, "InvalidFormat", "logs are available for the last 72 hours only")
        try:
            limit = int(params.get("limit", "500"))
        except ValueError:
            raise ApiError(400, "InvalidFormat", "limit must be a number") from None
        if not 1 <= limit <= 500:
            raise ApiError(400, "InvalidFormat", "limit must be 1 to 500")
        limit = min(limit, self.page_size)
        query = f"{name}|{kind}|{start.isoformat()}|{end.isoformat()}|{params.get('direction')}|{params.get('domain')}"
        offset = _read_token(params["token"], query) if params.get("token") else 0
        log = self._logs[kind or "policy"]
        with self._lock:
            lo, hi = bisect.bisect_left(log.times, start), bisect.bisect_right(log.times, end)
            indexes = range(lo, hi)
            if params.get("direction") or params.get("domain"):
                indexes = [i for i in indexes if _wanted(log.records[i], params)]  # type: ignore[assignment]
            chosen = [log.bodies[i] for i in indexes[offset:offset + limit]]
            total = len(indexes)
        if not chosen and (self.end_with_empty_200 or offset):
            return 200, {"Content-Type": "application/json"}, b""
        if total == 0:
            return 204, {}, b""
        more = offset + limit < total or self.end_with_empty_200
        token = _make_token(offset + limit, query)
        if self.quote_tokens:
            token = quote(token, safe="")
        token = f'"nextToken":{json.dumps(token)},' if more else ""
        return 200, {"Content-Type": "application/json"}, f'{{{token}"logs":[{",".join(chosen)}]}}'.encode()


def _wanted(record: dict[str, Any], params: dict[str, str]) -> bool:
    direction, domain = params.get("direction"), params.get("domain")
    if direction and record.get("direction") != direction:
        return False
    if domain:
        addresses = [record.get("sender") or "", record.get("recipient") or "", *(record.get("recipients") or [])]
        return any(a.lower().endswith("@" + domain.lower()) for a in addresses)
    return True


#: Bytes that encode as '++++////': every token holds '+' and '/', and is padded to end in '=='.
_TOKEN_HEAD = b"\xfb\xef\xbe\xff\xff\xff"


def _make_token(offset: int, query: str) -> str:
    body = json.dumps({"o": offset, "q": query}).encode()
    body += b" " * ((1 - len(_TOKEN_HEAD) - len(body)) % 3)
    return base64.b64encode(_TOKEN_HEAD + body).decode()


def _read_token(token: str, query: str) -> int:
    try:
        raw = base64.b64decode(token.encode(), validate=True)
        if not raw.startswith(_TOKEN_HEAD):
            raise ValueError("not one of our tokens")
        data = json.loads(raw[len(_TOKEN_HEAD):])
        if data["q"] != query:
            raise ValueError("token of another query")
        return int(data["o"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ApiError(400, "InvalidFormat", "invalid token") from None


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real service
    server_fake: FakeTmems

    def setup(self) -> None:
        super().setup()
        # As any production HTTP front end: no Nagle. Without this, the body written after the headers waits
        # for the client's delayed ACK (~40 ms a response), and the fake, not bouncebot, sets the pace.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        status, headers, body = self.server_fake.answer(parts.path, params, self.headers.get("Authorization"))
        self._send(status, headers, body)

    def _refuse(self) -> None:
        self._send(400, {}, _error_body("InvalidMethod", f"{self.command} is not supported here"))

    do_POST = do_PUT = do_DELETE = _refuse

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204:
            if self.server_fake.gzip_pages and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                body = gzip.compress(body, compresslevel=1)
                self.send_header("Content-Encoding", "gzip")
            if status >= 400:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n")  # headers and body leave in one write
        if status != 204:
            self._headers_buffer.append(body)
        self.flush_headers()
        if self.server_fake.drop_connections:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests read `seen` instead


def main(argv: list[str] | None = None) -> int:
    """Serve synthetic records until killed; prints the base URL on the first line."""
    from tests.tmems.records import synthetic

    parser = argparse.ArgumentParser(description="a fake TMEMS log API on 127.0.0.1")
    parser.add_argument("--synthetic", type=int, default=0, help="this many synthetic records")
    parser.add_argument("--hours", type=float, default=2.0, help="spread them over the last H hours")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="admin@ourcorp.example")
    parser.add_argument("--key", default="tmems-test-key-0123456789")
    args = parser.parse_args(argv)
    fake = FakeTmems(args.user, args.key)
    now = datetime.now(UTC)
    for kind, records in synthetic(args.synthetic, now - timedelta(hours=args.hours), now).items():
        fake.add(kind, records)
    fake.start(args.port)
    print(fake.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C or SIGINT is how it is meant to end
        threading.Event().wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
