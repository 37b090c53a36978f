"""Per-shopper notices on the live feed (SPEC §15): an alert that fired, a standing order filled.

A connection that authenticated (``{"action": "auth", ...}``, shop.realtime.consumers) joins
NOTICES_GROUP and remembers its shopper. ``notice_listener`` (ShopperEvent.NOTICE, subscribed
in RealtimeConfig.ready) gets a notice, or the notices of one batch of prices together
(``Each``), and they go out as few group messages: each holds the JSON texts of many notices by
shopper (``{"notices": {"<user id>": [text, ...]}}``), and every connection relays those of its
own shopper, as they are, and no other's. A batch that fires thousands of alerts is so a few
Redis PUBLISHes (SEND_AT_ONCE notices each), not one round trip per notice: the matcher's
process spent more on those than on the matching itself (docs/benchmarks.md).

The listener is called after commit from anywhere: a Celery worker, a request's thread, a
thread that runs inside an event loop (where ``async_to_sync`` refuses to run). So it only
hands the texts to a thread of its own (``NoticePublisher``, one per process, as the stock
levels' StockPublisher), which keeps one event loop and so one Redis connection for its sends.
Its failures are logged; nothing reaches the caller, whose change is committed already.
"""

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Sequence
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from redis.exceptions import RedisError

from shop.core.events import Each, ShopperEvent, ShopperNotice
from shop.realtime.feed import dumps

logger = logging.getLogger(__name__)

NOTICES_GROUP = "shopper_notices"  # every feed connection authenticated as a shopper
NOTICE_QUEUE = 1000  # bursts waiting for the publisher thread, at most (then they are dropped)
SEND_TIMEOUT_SECONDS = 5.0  # a Redis that does not answer must not hold every later notice forever
SEND_AT_ONCE = 1000  # notices in one group message, at most (a few hundred kB)

Rendered = tuple[int, str]  # (user id, the notice's JSON text)


def notices_message(notices: Sequence[Rendered]) -> dict[str, Any]:
    """The group message of these notices: each one's JSON text, rendered once here (every
    connection of its shopper sends this very string), by shopper (keys are strings: the channel
    layer's msgpack takes no other), in the order they came."""
    by_user: dict[str, list[str]] = {}
    for user_id, text in notices:
        by_user.setdefault(str(user_id), []).append(text)
    return {"type": "shopper.notice", "notices": by_user}


# The event loop of this process's feed connections, when they run on a loop of this process
# (set when one authenticates). The in-memory channel layer (embedded mode) is only safe to use
# from that loop; Redis is reached from the publisher's own loop.
_feed_loop: asyncio.AbstractEventLoop | None = None


def feed_loop_set(loop: asyncio.AbstractEventLoop) -> None:
    global _feed_loop  # one per process, set by the consumers
    _feed_loop = loop


class NoticePublisher:
    """Sends notices to the feed's connections from a thread of its own, in the order they came.

    Started on first use in each process (a forked child, as a Celery worker's, starts its own).
    The queue is bounded: when the channel layer stalls, the newest notices are dropped (and
    counted in the log) rather than the process's memory growing; they are best effort anyway,
    as the feed is (e-mail and webhooks carry them too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.Queue[Sequence[Rendered]] = queue.Queue(NOTICE_QUEUE)
        self._dropped = 0

    def put(self, notices: Sequence[Rendered]) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._queue = os.getpid(), queue.Queue(NOTICE_QUEUE)
                threading.Thread(
                    target=self._run, args=(self._queue,), name="feed-notices", daemon=True
                ).start()
            try:
                self._queue.put_nowait(notices)
            except queue.Full:
                self._dropped += len(notices)  # logged by the thread, not once per burst here

    def _run(self, waiting: "queue.Queue[Sequence[Rendered]]") -> None:
        loop = asyncio.new_event_loop()
        while True:
            # What waits goes out together, SEND_AT_ONCE notices at most in one message.
            notices = list(waiting.get())
            while len(notices) < SEND_AT_ONCE and not waiting.empty():
                notices += waiting.get_nowait()
            with self._lock:
                dropped, self._dropped = self._dropped, 0
            if dropped:
                logger.warning("feed: %d shopper notices dropped, the publisher fell behind", dropped)
            for start in range(0, len(notices), SEND_AT_ONCE):
                part = notices[start : start + SEND_AT_ONCE]
                try:
                    self._send(loop, notices_message(part))
                except Exception:
                    users = sorted({user_id for user_id, _ in part})
                    logger.exception("feed: notices for users %s not sent", users)

    @staticmethod
    def _send(loop: asyncio.AbstractEventLoop, message: dict[str, Any]) -> None:
        layer = get_channel_layer()
        if isinstance(layer, InMemoryChannelLayer):  # embedded mode: on the feed's own loop
            if _feed_loop is None or _feed_loop.is_closed():
                return  # no connection of this process ever authenticated: nobody to tell
            future = asyncio.run_coroutine_threadsafe(layer.group_send(NOTICES_GROUP, message), _feed_loop)
            future.result(SEND_TIMEOUT_SECONDS)
            return
        for attempt in range(2):
            try:
                loop.run_until_complete(
                    asyncio.wait_for(layer.group_send(NOTICES_GROUP, message), SEND_TIMEOUT_SECONDS)
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


def notice_listener(kind: ShopperEvent, subject: ShopperNotice | Each) -> None:
    """Send shoppers' notices (one, or ``Each`` of many) to their feed connections (subscribed to
    ShopperEvent.NOTICE in RealtimeConfig.ready). Never raises, never waits for the channel layer."""
    notices = subject.subjects if isinstance(subject, Each) else (subject,)
    rendered = []
    for notice in notices:
        try:
            rendered.append((notice.user_id, dumps(notice.message)))
        except Exception:  # a message that is not JSON: the caller's mistake, but its change stands
            logger.exception("feed: notice for user %s not sent", getattr(notice, "user_id", None))
    if rendered:
        _notice_publisher.put(rendered)
