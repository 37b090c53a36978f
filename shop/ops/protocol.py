"""The server's WebSocket protocol: uvicorn's, dropping peers that stop reading.

Without it a peer that never reads would keep its connection and buffers
forever: closing a socket waits for its buffer to drain. uvicorn imports this
module in each worker process before the application (and so before Django is
set up): it imports no app and no model.
"""

import asyncio
import logging

from django.conf import settings
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from shop.core.metrics import DROP_NOT_READING, FEED_DROPPED

logger = logging.getLogger(__name__)


class SlowReaderGuard(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, aborting a connection whose peer stopped reading.

    asyncio pauses writing when a socket's buffer passes its high-water mark
    and resumes when it drains; a connection paused for longer than
    FEED_SEND_TIMEOUT_SECONDS belongs to a peer that does not read, and is
    aborted (a close would wait for the buffer to drain, i.e. forever).
    """

    _stalled: asyncio.TimerHandle | None = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stalled is None:
            self._stalled = self.loop.call_later(settings.FEED_SEND_TIMEOUT_SECONDS, self._abort_stalled)

    def resume_writing(self) -> None:
        self._cancel_stall()
        super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_stall()
        super().connection_lost(exc)

    def _cancel_stall(self) -> None:
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def _abort_stalled(self) -> None:
        self._stalled = None
        FEED_DROPPED.labels(DROP_NOT_READING).inc()
        logger.warning(
            "feed: %s has not read for %.0f s; connection dropped",
            self.client[0] if self.client else "a client",
            settings.FEED_SEND_TIMEOUT_SECONDS,
        )
        self.transport.abort()
