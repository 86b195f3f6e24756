"""A small fake of the Slack Web API methods the digest uses, over real HTTP on 127.0.0.1.

chat.postMessage, chat.update, and the files upload v2 flow (files.getUploadURLExternal, the POST of the bytes
to the returned URL, files.completeUploadExternal, files.info). Every call is recorded in `calls`, so tests
(and subprocesses posting through it) can be counted. `hang_posts` makes chat.postMessage never answer: the
crashed-poster test kills a process stuck there.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.ports import Chat
from handlers.outbound import SlackChat, make_client

TEST_TOKEN = "xoxb-digest-test"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    body: bytes = b""


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    hang_posts: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                fake._serve(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/api/"

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{method} called {len(self.calls_to(method))} times, expected {count}")

    # --- serving -------------------------------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        path = urllib.parse.urlparse(request.path).path
        if path.startswith("/upload/"):
            self._record(Call("upload", {"file_id": path.removeprefix("/upload/")}, raw))
            self._send(request, b"OK - " + str(len(raw)).encode(), "text/plain")
            return
        method = path.removeprefix("/api/")
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            params = json.loads(raw or b"{}")
        else:
            params = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        if method == "chat.postMessage" and self.hang_posts:
            self._record(Call("chat.postMessage(hung)", params))
            time.sleep(3600)
            return
        self._record(Call(method, params))
        self._send(request, json.dumps(self._answer(method, params)).encode(), "application/json")

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        if method == "files.info":
            return {"ok": True, "file": {"id": params.get("file"), "name": "chart.png"}}
        return {"ok": False, "error": "unknown_method"}

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, body: bytes, ctype: str) -> None:
        request.send_response(200)
        request.send_header("Content-Type", ctype)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


def slack_chat(base_url: str, token: str | None = None) -> Chat:
    """The bot's real Slack port (handlers.outbound.SlackChat) pointed at a fake Web API."""
    return SlackChat(make_client(token or TEST_TOKEN, base_url, timeout=60))

