"""A tiny real milter for the Postfix end-to-end tests: the Sendmail milter protocol (version 6) over TCP.

No milter library is installed here, and the protocol is small: every packet is a 4-byte length, a command
byte and its data. Postfix negotiates ('O'), then sends one packet per SMTP step and waits for a reply to each
(except macros 'D', abort 'A' and quit). This milter answers "continue" to everything except what the test
marks: a recipient whose address has the extension `+milter-reject` is refused at RCPT, and a message whose
body contains one of the MARKS gets that mark's answer at the end of the message.
"""

from __future__ import annotations

import socket
import struct
import threading

#: Body marker -> the milter's end-of-message answer (command byte, data), as a real filter would give them.
MARKS: dict[bytes, tuple[tuple[bytes, bytes], ...]] = {
    b"MILTER-REJECT-TEXT": ((b"y", b"550 5.7.1 Message refused by the content filter: tagged as spam\x00"),),
    b"MILTER-REJECT-PLAIN": ((b"r", b""),),       # Postfix answers its default "5.7.1 Command rejected"
    b"MILTER-TEMPFAIL": ((b"t", b""),),           # "4.7.1 Service unavailable - try again later"
    b"MILTER-DISCARD": ((b"d", b""),),            # accepted, then silently dropped
    # a modification (quarantine: Postfix puts the message on hold), then the final answer
    b"MILTER-QUARANTINE": ((b"q", b"held by the test filter\x00"), (b"c", b"")),
}
RCPT_REJECT_MARK = b"+milter-reject@"
RCPT_REJECT_REPLY = b"550 5.1.1 Recipient refused by the content filter\x00"

_NO_REPLY = frozenset(b"DA")  # macros and abort are not answered
_CONTINUE = ((b"c", b""),)
#: SMFIF_QUARANTINE: the only modification this milter makes.
_ACTIONS = 0x20


def _packet(command: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data) + 1) + command + data


def _read_exact(conn: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        chunk = conn.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return chunks


class TestMilter:
    """A threaded milter on 127.0.0.1:<port>; `with TestMilter() as m: ... m.port`."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.errors: list[str] = []

    def __enter__(self) -> TestMilter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        body = b""
        with conn:
            conn.settimeout(60)
            try:
                while True:
                    head = _read_exact(conn, 4)
                    if head is None:
                        return
                    packet = _read_exact(conn, struct.unpack(">I", head)[0])
                    if packet is None:
                        return
                    command, data = packet[:1], packet[1:]
                    if command == b"Q":
                        return
                    if command == b"K":  # quit, a new connection follows on this socket
                        body = b""
                        continue
                    if command == b"A":
                        body = b""
                    if command[0] in _NO_REPLY:
                        continue
                    replies = self._answer(command, data, body)
                    if command == b"B":
                        body += data
                    conn.sendall(b"".join(_packet(*reply) for reply in replies))
                    if command == b"E":
                        body = b""
            except (OSError, struct.error) as exc:
                self.errors.append(repr(exc))

    @staticmethod
    def _answer(command: bytes, data: bytes, body: bytes) -> tuple[tuple[bytes, bytes], ...]:
        if command == b"O":  # negotiate: version 6, quarantine only, every step sent and answered
            return ((b"O", struct.pack(">III", 6, _ACTIONS, 0)),)
        if command == b"R" and RCPT_REJECT_MARK in data.lower():
            return ((b"y", RCPT_REJECT_REPLY),)
        if command == b"E":
            seen = body + data
            for mark, reply in MARKS.items():
                if mark in seen:
                    return reply
        return _CONTINUE
