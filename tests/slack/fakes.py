"""A local fake Slack Web API over real HTTP, Slack's request signing, and the app served by waitress.

The one fake Slack of the test suite (the digest, fault and Slack tests all use it): start `FakeSlackAPI`,
point a `WebClient(base_url=fake.base_url)` or BOUNCEBOT_SLACK_API_URL at it, then read `fake.calls`.
This is how bolt-python tests itself: real HTTP both ways, only Slack's servers replaced.

It acts as a workspace: `add_channel` declares a channel with or without the bot (public or private) and
its members, `add_dm` a direct message between people. Where the bot is not a member Slack refuses
chat.postMessage (`not_in_channel` in a public channel, `channel_not_found` in a private one or a DM),
chat.postEphemeral (the same, or `user_not_in_channel` for a user who is not a member) and chat.update; the
fake refuses them the same way. A channel never declared is one the bot was invited to. `response_url`
endpoints record what they receive and, as Slack's, take at most 5 answers each (then 404 `used_url`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT_TOKEN = "xoxb-test-token-000"
APP_TOKEN = "xapp-test-token-000"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
TEAM_ID = "T0TEST"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"


@dataclass
class Call:
    """One request the fake received: the Web API method (or 'upload', 'response_url', 'download')."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    path: str
    at: float = field(default_factory=time.monotonic)
    #: Slack's error when it refused the call (not_in_channel, used_url, ...); None when carried out.
    error: str | None = None

    def json(self, name: str) -> Any:
        """A parameter that may have been sent form-encoded as a JSON string (blocks, view) or as JSON."""
        value = self.params.get(name)
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


@dataclass
class StoredFile:
    id: str
    name: str
    content: bytes
    mimetype: str = "text/plain"


Handler = Callable[[dict[str, Any]], dict[str, Any]]

PUBLIC, PRIVATE, IM, MPIM = "public", "private", "im", "mpim"
#: Answers a response_url takes before Slack refuses it (its documentation: 5 times within 30 minutes).
RESPONSE_URL_USES = 5


@dataclass
class Conversation:
    """A channel or DM of the fake workspace."""

    id: str
    kind: str = PUBLIC            # public | private | im (two people) | mpim
    members: set[str] = field(default_factory=set)
    bot: bool = True              # the bot is a member (invited, or the DM is with the bot)

    def refusal(self, user: str | None = None) -> str | None:
        """Slack's error for a bot post here, or None when Slack lets it through."""
        if not self.bot:
            return "not_in_channel" if self.kind == PUBLIC else "channel_not_found"
        if user is not None and self.members and user not in self.members:
            return "user_not_in_channel"
        return None


class FakeSlackAPI:
    """Answers the Web API methods bouncebot uses, records every call, and can answer 429 on request."""

    def __init__(self, token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.token = token
        self.app_token = app_token
        #: The ws:// URL apps.connections.open hands out (a tests.slack.fake_socket.FakeSocketMode).
        self.socket_url: str | None = None
        self.calls: list[Call] = []
        self.usergroups: dict[str, list[str]] = {}
        self.conversations: dict[str, Conversation] = {}
        #: response_url name -> the answers it took (refused ones are recorded as "response_url#404").
        self.response_uses: dict[str, int] = {}
        self.expired_response_urls: set[str] = set()
        self.files: dict[str, StoredFile] = {}
        self.uploads: dict[str, bytes] = {}
        self.handlers: dict[str, Handler] = {}
        #: Called with every recorded call (from the server's thread): cheap waiting for benchmarks.
        self.listeners: list[Callable[[Call], None]] = []
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._hung: set[str] = set()
        self._released = threading.Event()
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> FakeSlackAPI:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # requests held by `hang` end with the server
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.root}/response/{name}"

    # --- test controls ---------------------------------------------------------------------------------
    def hang(self, method: str) -> None:
        """Calls of `method` are recorded as "method(hung)" and never answered (until `release` or `stop`): a
        poster that dies waiting, as the digest's crashed-claim test needs."""
        with self._cond:
            self._hung.add(method)
            self._released.clear()

    def release(self) -> None:
        """Answer normally again (the requests already held get an error answer)."""
        with self._cond:
            self._hung.clear()
        self._released.set()

    def fail_next(self, method: str, *, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` get `status` (429 with a Retry-After header)."""
        with self._cond:
            self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def add_channel(self, channel: str, *, bot: bool = True, private: bool = False,
                    members: tuple[str, ...] | list[str] = ()) -> Conversation:
        """A channel of the workspace; bot=False: the bot was never invited (Slack refuses its posts there)."""
        conv = Conversation(channel, PRIVATE if private else PUBLIC, set(members), bot)
        self.conversations[channel] = conv
        return conv

    def add_dm(self, channel: str, *people: str) -> Conversation:
        """A direct message between people (two: im, more: mpim); the bot is never part of it."""
        conv = Conversation(channel, IM if len(people) == 2 else MPIM, set(people), bot=False)
        self.conversations[channel] = conv
        return conv

    def expire_response_url(self, name: str) -> None:
        """The response_url `name` is past its 30 minutes: Slack answers 404 `expired_url`."""
        self.expired_response_urls.add(name)

    def responses(self, name: str) -> list[Call]:
        """What the response_url `name` accepted, in order."""
        return [c for c in self.calls_to("response_url") if c.path == f"/response/{name}" and c.error is None]

    def accepted(self, method: str) -> list[Call]:
        """Calls of `method` that Slack carried out (not refused, not rate limited)."""
        return [c for c in self.calls_to(method) if c.error is None]

    def refused(self, method: str) -> list[Call]:
        """Calls of `method` that Slack refused with an error (e.g. not_in_channel)."""
        return [c for c in self.calls_to(method) if c.error is not None]

    def reached(self, user: str, *, response_url: str | None = None) -> list[str]:
        """Every text that reached `user`: ephemeral notes to them, DMs from the app, answers through the
        response_url `response_url` (as text plus the blocks' JSON, to search in)."""
        texts = []
        for call in list(self.calls):
            to_them = ((call.method == "chat.postEphemeral" and call.params.get("user") == user)
                       or (call.method == "chat.postMessage" and call.params.get("channel") == user)
                       or (call.method == "response_url" and call.path == f"/response/{response_url}"))
            if to_them and call.error is None:
                texts.append(_shown(call))
        return texts

    def add_file(self, name: str, content: bytes, mimetype: str = "text/plain") -> dict[str, Any]:
        """A file as Slack would hold it after a user attached it; returns its event-payload shape."""
        file_id = f"F{next(self._ids):07d}"
        self.files[file_id] = StoredFile(file_id, name, content, mimetype)
        return self._file_json(self.files[file_id])

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        with self._cond:
            return [c.method for c in self.calls]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 20.0,
                 where: Callable[[Call], bool] | None = None) -> list[Call]:
        """Block until `count` calls of `method` (matching `where`) arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} call(s) of {method}, got {len(found)}; "
                                         f"all calls: {[c.method for c in self.calls]}")
                self._cond.wait(left)

    def settle(self, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Wait until no call arrived for `quiet` seconds, counted from now at the earliest (so a test that
        expects *no* call gives the app's background work that long to make one)."""
        began = time.monotonic()
        deadline = began + timeout
        with self._cond:
            while time.monotonic() < deadline:
                last = max(began, self.calls[-1].at if self.calls else began)
                if time.monotonic() - last >= quiet:
                    return
                self._cond.wait(quiet)

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()

    # --- serving ---------------------------------------------------------------------------------------
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in request.headers.items()}
        path = parsed.path
        if path.startswith("/api/"):
            method = path.removeprefix("/api/")
            params = self._params(raw, headers.get("content-type", ""), parsed.query)
            self._api(request, method, params, headers, path)
        elif path.startswith("/upload/"):
            file_id = path.removeprefix("/upload/")
            self.uploads[file_id] = raw
            self._record(Call("upload", {"file_id": file_id, "size": len(raw)}, headers, path))
            self._send(request, 200, b"OK - " + str(len(raw)).encode(), "text/plain")
        elif path.startswith("/response/"):
            self._response_url(request, path.removeprefix("/response/"), json.loads(raw or b"{}"), headers, path)
        elif path.startswith("/files/") and request.command == "GET":
            self._download(request, path.removeprefix("/files/"), headers, path)
        else:
            self._send(request, 404, b"not found", "text/plain")

    @staticmethod
    def _params(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
        params: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
        if "application/json" in content_type:
            params.update(json.loads(raw or b"{}"))
        elif raw:
            params.update(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return params

    def _api(self, request: BaseHTTPRequestHandler, method: str, params: dict[str, Any],
             headers: dict[str, str], path: str) -> None:
        call = Call(method, params, headers, path)
        with self._cond:
            pending = self._failures.get(method)
            failure = pending.pop(0) if pending else None
        if failure is not None:
            status, retry_after = failure
            self._record(Call(f"{method}#{status}", params, headers, path))
            body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            self._send(request, status, body, "application/json", {"Retry-After": str(retry_after)})
            return
        if method in self._hung:  # recorded as "method(hung)", so counts of answered calls stay exact
            self._record(Call(f"{method}(hung)", params, headers, path))
            self._released.wait(3600)
            self._send_json(request, {"ok": False, "error": "fake_released"})
            return
        self._record(call)
        token = self.app_token if method == "apps.connections.open" else self.token
        if headers.get("authorization") != f"Bearer {token}":
            self._send_json(request, {"ok": False, "error": "invalid_auth"})
            return
        handler = self.handlers.get(method) or getattr(self, "_m_" + method.replace(".", "_"), None)
        result = handler(params) if handler else {"ok": True}
        if not result.get("ok"):
            with self._cond:
                call.error = str(result.get("error"))
        self._send_json(request, result)

    def _response_url(self, request: BaseHTTPRequestHandler, name: str, params: dict[str, Any],
                      headers: dict[str, str], path: str) -> None:
        """As Slack's: JSON in, "ok" out; 404 once used 5 times or expired (the call is then marked refused)."""
        with self._cond:
            uses = self.response_uses.get(name, 0)
            error = ("expired_url" if name in self.expired_response_urls
                     else "used_url" if uses >= RESPONSE_URL_USES else None)
            if error is None:
                self.response_uses[name] = uses + 1
        self._record(Call("response_url", params, headers, path, error=error))
        if error:
            self._send(request, 404, error.encode(), "text/plain")
        else:
            self._send(request, 200, b"ok", "text/plain")

    def _download(self, request: BaseHTTPRequestHandler, file_id: str, headers: dict[str, str], path: str) -> None:
        self._record(Call("download", {"file_id": file_id}, headers, path))
        stored = self.files.get(file_id)
        if headers.get("authorization") != f"Bearer {self.token}" or stored is None:
            self._send(request, 404 if stored is None else 403, b"no", "text/plain")
            return
        self._send(request, 200, stored.content, stored.mimetype)

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        for listener in self.listeners:
            listener(call)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              extra: dict[str, str] | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    def _send_json(self, request: BaseHTTPRequestHandler, data: dict[str, Any]) -> None:
        self._send(request, 200, json.dumps(data).encode(), "application/json; charset=utf-8")

    # --- methods ---------------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "bouncebot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "no_socket_server"}
        return {"ok": True, "url": self.socket_url}

    def _refusal(self, channel: str, user: str | None = None) -> dict[str, Any] | None:
        conv = self.conversations.get(channel)
        error = conv.refusal(user) if conv is not None else None
        return {"ok": False, "error": error} if error else None

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        refused = self._refusal(channel)
        if refused:
            return refused
        ts = self._next_ts()
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"text": params.get("text"), "ts": ts, "bot_id": BOT_ID}}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._refusal(str(params.get("channel") or ""))
        if refused:
            return refused
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        refused = self._refusal(str(params.get("channel") or ""), str(params.get("user") or ""))
        if refused:
            return refused
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": f"V{next(self._ids):07d}", **(_as_json(params.get("view")) or {})}}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": f"V{next(self._ids):07d}", **(_as_json(params.get("view")) or {})}}

    def _m_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):07d}"
        return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = _as_json(params.get("files")) or []
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}

    def _m_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(params.get("file", ""))
        if stored is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file_json(stored)}

    def _file_json(self, stored: StoredFile) -> dict[str, Any]:
        return {"id": stored.id, "name": stored.name, "title": stored.name, "mimetype": stored.mimetype,
                "size": len(stored.content), "url_private": f"{self.root}/files/{stored.id}",
                "url_private_download": f"{self.root}/files/{stored.id}"}


def slack_chat(base_url: str, token: str = BOT_TOKEN) -> Any:
    """The bot's real Slack port (handlers.outbound.SlackChat) pointed at a fake Web API."""
    from handlers.outbound import SlackChat, make_client

    return SlackChat(make_client(token, base_url, timeout=60))


def _shown(call: Call) -> str:
    blocks = call.json("blocks")
    return str(call.params.get("text") or "") + ("\n" + json.dumps(blocks) if blocks else "")


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


@contextmanager
def fake_slack(token: str = BOT_TOKEN) -> Iterator[FakeSlackAPI]:
    fake = FakeSlackAPI(token).start()
    try:
        yield fake
    finally:
        fake.stop()


# --- signing: exactly as Slack signs its requests --------------------------------------------------------
def signature(secret: str, timestamp: str, body: str | bytes) -> str:
    """X-Slack-Signature: 'v0=' + HMAC-SHA256(secret, 'v0:{timestamp}:{body}')."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(body: str, content_type: str, *, secret: str = SIGNING_SECRET,
                   timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature(secret, ts, body)}


_triggers = itertools.count(1)


def new_trigger_id() -> str:
    """Slack gives every interaction a fresh trigger_id, so no two genuine requests have the same body."""
    return f"{next(_triggers)}.{int(time.time())}.{os.urandom(8).hex()}"


@dataclass
class SignedRequest:
    body: str
    headers: dict[str, str]


def slash_command(text: str, *, user: str = "UALICE", channel: str = "CSUPPORT", command: str = "/bounce",
                  response_url: str = "", trigger_id: str | None = None, **sign: Any) -> SignedRequest:
    """A slash command, form-encoded as Slack posts it (each with its own trigger_id, as Slack's are)."""
    body = urllib.parse.urlencode({
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "test",
        "channel_id": channel, "channel_name": "support", "user_id": user, "user_name": user.lower(),
        "command": command, "text": text, "api_app_id": "A0TEST", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id or new_trigger_id(),
    })
    return SignedRequest(body, signed_headers(body, "application/x-www-form-urlencoded", **sign))


def interactive(payload: dict[str, Any], **sign: Any) -> SignedRequest:
    """block_actions / view_submission: form-encoded with the JSON in `payload=`."""
    payload.setdefault("team", {"id": TEAM_ID, "domain": "test"})
    payload.setdefault("api_app_id", "A0TEST")
    payload.setdefault("token", "legacy-verification-token")
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return SignedRequest(body, signed_headers(body, "application/x-www-form-urlencoded", **sign))


def block_action(action_id: str, value: str, *, user: str = "UALICE", channel: str = "CSUPPORT",
                 message_ts: str = "1700000000.000001", thread_ts: str | None = None,
                 message: dict[str, Any] | None = None, response_url: str = "",
                 trigger_id: str | None = None, container: dict[str, Any] | None = None,
                 view: dict[str, Any] | None = None, **sign: Any) -> SignedRequest:
    msg = message if message is not None else {"type": "message", "ts": message_ts, "text": "diagnosis",
                                                "blocks": []}
    if thread_ts:
        msg = {**msg, "thread_ts": thread_ts}
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "trigger_id": trigger_id or new_trigger_id(), "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "action_ts": f"{time.time():.6f}"}],
    }
    if view is not None:
        payload["container"] = container or {"type": "view", "view_id": view.get("id", "VHOME")}
        payload["view"] = view
    else:
        payload["container"] = container or {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                              "is_ephemeral": False}
        payload["channel"] = {"id": channel, "name": "support"}
        payload["message"] = msg
    return interactive(payload, **sign)


def view_submission(callback_id: str, values: dict[str, dict[str, Any]], *, user: str = "UALICE",
                    private_metadata: str = "", view_id: str = "V0001", **sign: Any) -> SignedRequest:
    payload = {
        "type": "view_submission", "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "trigger_id": new_trigger_id(),
        "view": {"id": view_id, "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
                 "state": {"values": values}, "hash": "h1"},
    }
    return interactive(payload, **sign)


_event_ids = itertools.count(1)


def event_callback(event: dict[str, Any], *, event_id: str | None = None, **sign: Any) -> SignedRequest:
    """An Events API callback, JSON as Slack posts it."""
    body = json.dumps({
        "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0TEST", "event": event,
        "type": "event_callback", "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()), "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                                            "is_bot": True}],
    })
    return SignedRequest(body, signed_headers(body, "application/json", **sign))


#: The direct-message channel and thread of `direct`'s messages.
DM = "DALICE01"
THREAD = "1700000100.000100"


def direct(text: str, **extra: Any) -> SignedRequest:
    """A message from UALICE in her direct messages with the app, as the Events API posts it."""
    return event_callback({"type": "message", "channel_type": "im", "user": "UALICE", "text": text,
                           "ts": THREAD, "channel": DM, "event_ts": THREAD, **extra})


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def send(url: str, request: SignedRequest, *, extra_headers: dict[str, str] | None = None,
         timeout: float = 10.0) -> Reply:
    """POST a signed request to the app over real HTTP; any status comes back as a Reply."""
    headers = {**request.headers, **(extra_headers or {})}
    req = urllib.request.Request(url, data=request.body.encode(), headers=headers, method="POST")  # noqa: S310
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - loopback test URL
            body = response.read()
            return Reply(response.status, body, dict(response.headers), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read(), dict(exc.headers), time.perf_counter() - started)


def get(url: str, timeout: float = 10.0) -> Reply:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback test URL
            return Reply(response.status, response.read(), dict(response.headers), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read(), dict(exc.headers), time.perf_counter() - started)


# --- the app itself, served over real HTTP by waitress in a thread --------------------------------------
class AppServer:
    """bouncebot's WSGI app (bolt adapter + /healthz) on waitress, on a free 127.0.0.1 port."""

    def __init__(self, app: Any, *, threads: int = 8) -> None:
        from handlers.serving import http_server

        self.app = app
        self.services = app.services
        self.server = http_server(app, self.services.store, host="127.0.0.1", port=0, threads=threads,
                                  asyncore_loop_timeout=0.05)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self._run, name="bouncebot-http", daemon=True)
        self._stopping = False

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            # close() from another thread pulls the sockets from under waitress's select(): expected then only.
            if not self._stopping:
                raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    def start(self) -> AppServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self.server.close()
        self.thread.join(timeout=5)

    def send(self, request: SignedRequest, **kwargs: Any) -> Reply:
        return send(self.url, request, **kwargs)


def test_settings(database_url: str, fake: FakeSlackAPI, **overrides: Any) -> Any:
    """Settings for an app talking to `fake`, signed with SIGNING_SECRET."""
    import dataclasses

    from bot.config import Settings

    base = Settings(database_url=database_url, slack_bot_token=fake.token, slack_signing_secret=SIGNING_SECRET,
                    slack_api_url=fake.base_url)
    return dataclasses.replace(base, **overrides)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@contextmanager
def serve_app(settings: Any, *, store: Any = None, live: bool = False, threads: int = 8) -> Iterator[AppServer]:
    """build_app exactly as `bouncebot serve` does, served on a free port; stopped (and the store closed) after.

    live=False leaves out the DNS checks (a diagnosis from the store alone); live=True builds them from the
    settings, as production does (point BOUNCEBOT_DNS_* at a local rbldnsd)."""
    from bot.app import build_app
    from bot.store import Store

    own_store = store is None
    store = store or Store.open(settings)
    app = build_app(settings, store=store, checker_factory=None if live else (lambda: None))
    server = AppServer(app, threads=threads).start()
    try:
        yield server
    finally:
        server.stop()
        if own_store:
            store.dispose()


def eventually(check: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until check() returns something truthy (the app's lazy work finished); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check.__name__}")
        time.sleep(interval)
