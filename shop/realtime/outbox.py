"""The messages on their way to one feed client: a bounded queue written by one task."""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from shop.core.metrics import FEED_BATCH_LAG

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]


class Outbox:
    """The messages on their way to one client, written in order by one task.

    ``put`` never waits for the socket. At most ``limit`` data messages, and at
    most ``limit_bytes`` of them, wait; one more sets ``overflowed`` and is dropped. Control messages (accept,
    close) always queue. After a failed send or a close, everything else is
    dropped: the connection is gone. A batch put with its ``written_at`` (Unix
    time) is measured once written: ``tickshop_feed_batch_lag_seconds``.
    """

    def __init__(self, send: Send, limit: int, limit_bytes: int = 0) -> None:
        self._send = send
        self.limit = limit
        self.limit_bytes = limit_bytes
        self.queued_bytes = 0
        self._queue: deque[tuple[Message, float | None]] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.overflowed = asyncio.Event()
        self.closed = False
        self._writer = asyncio.ensure_future(self._write())

    async def put(self, message: Message, written_at: float | None = None) -> None:
        if self.closed:
            return
        size = len(message.get("text") or message.get("bytes") or "")
        if message["type"] == "websocket.send" and (
            len(self._queue) >= self.limit > 0 or self.queued_bytes + size > self.limit_bytes > 0
        ):
            self.overflowed.set()
            return
        self.queued_bytes += size
        self._queue.append((message, written_at))
        self._idle.clear()
        self._ready.set()

    def discard_pending(self) -> None:
        self._queue.clear()
        self.queued_bytes = 0

    async def _write(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            message, written_at = self._queue.popleft()
            self.queued_bytes -= len(message.get("text") or message.get("bytes") or "")
            try:
                await self._send(message)
            except (OSError, RuntimeError):  # the client is gone (uvicorn's ClientDisconnected is an OSError)
                self._finish()
                return
            if written_at is not None:
                FEED_BATCH_LAG.observe(max(0.0, time.time() - written_at))
            if message["type"] == "websocket.close":
                self._finish()
                return

    def _finish(self) -> None:
        self.closed = True
        self.discard_pending()
        self._idle.set()

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout``) until everything queued was written."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    def stop(self) -> None:
        self._writer.cancel()
