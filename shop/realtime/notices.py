"""Per-shopper notices on the live feed (SPEC §15): an alert that fired, a standing order filled.

A connection that authenticated (``{"action": "auth", ...}``, shop.realtime.consumers) joins
the group of its shopper; ``notice_listener`` (ShopperEvent.NOTICE, subscribed in
RealtimeConfig.ready) sends each notice's message to that group, and every connection in it
relays the message as it is.

The listener is called after commit from anywhere: a Celery worker, a request's thread, a
thread that runs inside an event loop (where ``async_to_sync`` refuses to run). So it only
hands the message to a thread of its own (``NoticePublisher``, one per process, as the stock
levels' StockPublisher), which keeps one event loop and so one Redis connection for its sends.
Its failures are logged; nothing reaches the caller, whose change is committed already.
"""

import asyncio
import logging
import os
import queue
import threading
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from redis.exceptions import RedisError

from shop.core.events import ShopperEvent, ShopperNotice
from shop.realtime.feed import dumps

logger = logging.getLogger(__name__)

NOTICE_QUEUE = 10_000  # notices waiting for the publisher thread, at most (then they are dropped)
SEND_TIMEOUT_SECONDS = 5.0  # a Redis that does not answer must not hold every later notice forever
SEND_AT_ONCE = 200  # notices of a burst sent side by side


def shopper_group(user_id: int) -> str:
    """The channel-layer group of every feed connection authenticated as this user."""
    return f"shopper.{user_id}"


def notice_message(notice: ShopperNotice) -> dict[str, Any]:
    """The group message of one notice: its JSON text, rendered once here (every connection sends
    this very string), and the user it is for (a connection checks it: see the consumer)."""
    return {"type": "shopper.notice", "user": notice.user_id, "text": dumps(notice.message)}


# The event loop of this process's feed connections, when they run on a loop of this process
# (set when one authenticates). The in-memory channel layer (embedded mode) is only safe to use
# from that loop; Redis is reached from the publisher's own loop.
_feed_loop: asyncio.AbstractEventLoop | None = None


def feed_loop_set(loop: asyncio.AbstractEventLoop) -> None:
    global _feed_loop  # one per process, set by the consumers
    _feed_loop = loop


class NoticePublisher:
    """Sends notices to their shoppers' groups from a thread of its own, in the order they came.

    Started on first use in each process (a forked child, as a Celery worker's, starts its own).
    The queue is bounded: when the channel layer stalls, the newest notices are dropped (and
    counted in the log) rather than the process's memory growing; they are best effort anyway,
    as the feed is (e-mail and webhooks carry them too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(NOTICE_QUEUE)
        self._dropped = 0

    def put(self, message: dict[str, Any]) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._queue = os.getpid(), queue.Queue(NOTICE_QUEUE)
                threading.Thread(
                    target=self._run, args=(self._queue,), name="feed-notices", daemon=True
                ).start()
            try:
                self._queue.put_nowait(message)
            except queue.Full:
                self._dropped += 1  # logged by the thread, not once per notice here

    def _run(self, waiting: "queue.Queue[dict[str, Any]]") -> None:
        loop = asyncio.new_event_loop()
        while True:
            # A burst (a tick that fired thousands of alerts) goes out SEND_AT_ONCE at a time,
            # side by side on the loop, not one round trip after the other.
            messages = [waiting.get()]
            while len(messages) < SEND_AT_ONCE and not waiting.empty():
                messages.append(waiting.get_nowait())
            with self._lock:
                dropped, self._dropped = self._dropped, 0
            if dropped:
                logger.warning("feed: %d shopper notices dropped, the publisher fell behind", dropped)
            self._send_all(loop, messages)

    def _send_all(self, loop: asyncio.AbstractEventLoop, messages: list[dict[str, Any]]) -> None:
        if len(messages) == 1 or isinstance(get_channel_layer(), InMemoryChannelLayer):
            for message in messages:
                try:
                    self._send(loop, message)
                except Exception:
                    logger.exception("feed: notice for user %s not sent", message["user"])
            return

        async def each(message: dict[str, Any]) -> None:
            try:
                await asyncio.wait_for(
                    get_channel_layer().group_send(shopper_group(message["user"]), message),
                    SEND_TIMEOUT_SECONDS,
                )
            except Exception:
                logger.exception("feed: notice for user %s not sent", message["user"])

        async def all_of() -> None:
            await asyncio.gather(*(each(message) for message in messages))

        loop.run_until_complete(all_of())

    @staticmethod
    def _send(loop: asyncio.AbstractEventLoop, message: dict[str, Any]) -> None:
        layer = get_channel_layer()
        group = shopper_group(message["user"])
        if isinstance(layer, InMemoryChannelLayer):  # embedded mode: on the feed's own loop
            if _feed_loop is None or _feed_loop.is_closed():
                return  # no connection of this process ever authenticated: nobody to tell
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _feed_loop)
            future.result(SEND_TIMEOUT_SECONDS)
            return
        for attempt in range(2):
            try:
                loop.run_until_complete(
                    asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT_SECONDS)
                )
                return
            except TimeoutError:
                raise  # it may have gone out: sending again could deliver it twice
            except (ConnectionError, OSError, RedisError):
                # After a Redis restart the first command finds the connection dead and drops it;
                # the second one connects again.
                if attempt == 1:
                    raise


_notice_publisher = NoticePublisher()


def notice_listener(kind: ShopperEvent, subject: ShopperNotice) -> None:
    """Send a shopper's notice to their feed connections (subscribed to ShopperEvent.NOTICE in
    RealtimeConfig.ready). Never raises, never waits for the channel layer."""
    try:
        _notice_publisher.put(notice_message(subject))
    except Exception:  # a message that is not JSON: the caller's mistake, but its change stands
        logger.exception("feed: notice for user %s not sent", getattr(subject, "user_id", None))
