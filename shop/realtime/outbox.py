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

    ``put`` never waits for the socket. At most ``limit`` data messages wait;
    one more sets ``overflowed`` and is dropped. Control messages (accept,
    close) always queue. After a failed send or a close, everything else is
    dropped: the connection is gone. A batch put with its ``written_at`` (Unix
    time) is measured once written: ``tickshop_feed_batch_lag_seconds``.
    """

    def __init__(self, send: Send, limit: int) -> None:
        self._send = send
        self.limit = limit
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
        if message["type"] == "websocket.send" and len(self._queue) >= self.limit > 0:
            self.overflowed.set()
            return
        self._queue.append((message, written_at))
        self._idle.clear()
        self._ready.set()

    def discard_pending(self) -> None:
        self._queue.clear()

    async def _write(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            message, written_at = self._queue.popleft()
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
        self._queue.clear()
        self._idle.set()

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout``) until everything queued was written."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    def stop(self) -> None:
        self._writer.cancel()
