"""A small delaying UDP proxy (asyncio, in its own thread): makes one zone of a real server slow.

rbldnsd answers at once; a real list may take hundreds of milliseconds. Every query is forwarded to the
upstream server; answers for names under a zone in `delays` are held back that many seconds.
"""

from __future__ import annotations

import asyncio
import threading

import dns.exception
import dns.message


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, answer: asyncio.Future[bytes]) -> None:
        self.answer = answer

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.answer.done():
            self.answer.set_result(data)


class _Front(asyncio.DatagramProtocol):
    def __init__(self, proxy: DelayingProxy) -> None:
        self.proxy = proxy
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.get_running_loop().create_task(self.proxy.forward(data, addr, self))
        self.proxy.tasks.add(task)
        task.add_done_callback(self.proxy.tasks.discard)


class DelayingProxy:
    """`DelayingProxy(upstream_port, {"psbl.surriel.com": 0.3}).start()` -> the proxy's port on 127.0.0.1."""

    def __init__(self, upstream_port: int, delays: dict[str, float]) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.delays = delays
        self.port = 0
        self.forwarded = 0
        self.delayed = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dns-delay-proxy", daemon=True)
        self._transport: asyncio.DatagramTransport | None = None

    def start(self) -> int:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        self.port = future.result(timeout=5)
        return self.port

    async def _open(self) -> int:
        transport, _ = await self._loop.create_datagram_endpoint(lambda: _Front(self), local_addr=("127.0.0.1", 0))
        self._transport = transport
        return transport.get_extra_info("sockname")[1]

    def delay_for(self, data: bytes) -> float:
        try:
            name = dns.message.from_wire(data).question[0].name.to_text().lower().rstrip(".")
        except (dns.exception.DNSException, IndexError):
            return 0.0
        return max((d for zone, d in self.delays.items() if name == zone or name.endswith("." + zone)), default=0.0)

    async def forward(self, data: bytes, client: tuple[str, int], front: _Front) -> None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Upstream(answer), remote_addr=self.upstream)
        try:
            transport.sendto(data)
            reply = await asyncio.wait_for(answer, timeout=10)
        except TimeoutError:
            return  # upstream ignored it (a dead zone): so does the proxy
        finally:
            transport.close()
        delay = self.delay_for(data)
        if delay > 0:
            self.delayed += 1
            await asyncio.sleep(delay)
        self.forwarded += 1
        if front.transport is not None:
            front.transport.sendto(reply, client)

    def stop(self) -> None:
        async def close() -> None:
            pending = list(self.tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if self._transport is not None:
                self._transport.close()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
