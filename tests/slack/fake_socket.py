"""A local Socket Mode endpoint: a minimal RFC 6455 WebSocket server on 127.0.0.1 speaking Slack's envelopes.

Slack's side of Socket Mode: apps.connections.open (the fake Web API answers it with this server's ws:// URL),
then envelopes {"envelope_id", "type", "payload"} pushed over the socket, each acknowledged by the app with
{"envelope_id", "payload"?}. Only what slack_sdk's built-in client uses is implemented: text, ping/pong, close.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/link/?ticket=test"
        self.received: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._conn: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True, name="fake-socket-mode").start()

    # --- test side -------------------------------------------------------------------------------------
    def wait_connected(self, timeout: float = 20.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._conn is not None, timeout):
                raise AssertionError("the app did not connect over Socket Mode")

    def push(self, envelope_type: str, payload: dict[str, Any], *, envelope_id: str,
             accepts_response_payload: bool = False) -> None:
        self._send_text(json.dumps({"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                                    "accepts_response_payload": accepts_response_payload, "retry_attempt": 0}))

    def wait_ack(self, envelope_id: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.received:
                    if message.get("envelope_id") == envelope_id:
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no ack for envelope {envelope_id}; got {self.received}")
                self._cond.wait(left)

    def stop(self) -> None:
        self._stopped = True
        self.listener.close()
        if self._conn is not None:
            self._conn.close()

    # --- server side -----------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in request.decode().split("\r\n")[1:] if ":" in line)}
        accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + _GUID).digest()).decode()  # noqa: S324
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        with self._cond:
            self._conn = conn
            self._cond.notify_all()
        self._send_text(json.dumps({"type": "hello", "num_connections": 1,
                                    "debug_info": {"host": "fake", "approximate_connection_time": 3600}}))
        try:
            self._read_frames(conn)
        except OSError:
            return

    def _read_frames(self, conn: socket.socket) -> None:
        while not self._stopped:
            head = self._exact(conn, 2)
            opcode, masked, length = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._exact(conn, 2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._exact(conn, 8))[0]
            mask = self._exact(conn, 4) if masked else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._exact(conn, length)))
            if opcode == 0x1:
                with self._cond:
                    self.received.append(json.loads(data))
                    self._cond.notify_all()
            elif opcode == 0x9:
                self._send_frame(0xA, data)
            elif opcode == 0x8:
                return

    @staticmethod
    def _exact(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def _send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def _send_frame(self, opcode: int, data: bytes) -> None:
        if len(data) < 126:
            head = struct.pack("!BB", 0x80 | opcode, len(data))
        elif len(data) < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, len(data))
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, len(data))
        assert self._conn is not None
        with self._send_lock:
            self._conn.sendall(head + data)
