"""Sending deliveries: signed POSTs, one endpoint at a time, retried with backoff.

Per endpoint one sender at a time (a lease in the cache, Redis in stack mode):
deliveries go oldest first, and a ``prices.batch`` delivery never overtakes an
older one that is still pending, so an endpoint sees batches in ``seq`` order
even while one of them waits for its retry. Other event types do not wait for
batches.

An attempt has a wall-clock deadline (WEBHOOK_ATTEMPT_SECONDS) besides the
per-operation socket timeout. An attempt the endpoint does not answer (the
deadline, a refused connection) ends the flush and pauses the endpoint until
that delivery's retry: a receiver that trickles its answer or never answers
costs the senders one attempt per retry, never a worker process, and the
other endpoints keep their turn. An endpoint that fails every attempt for
WEBHOOK_DISABLE_AFTER_SECONDS is switched off with a reason staff see.
"""

import contextlib
import http.client
import logging
import random
import socket
import ssl
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from shop.core.errors import ValidationError
from shop.core.events import EventType
from shop.core.metrics import WEBHOOK_ENDPOINTS_DISABLED
from shop.domain.backoff import retry_delay
from shop.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.webhooks.security import Target, url_target
from shop.webhooks.selectors import delivery_pending, endpoint_ids_due, endpoint_sendable
from shop.webhooks.services.dispatch import endpoint_kick
from shop.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

USER_AGENT = "tickshop-webhooks/1"
ENDPOINT_INACTIVE = "The endpoint is not active."
ATTEMPT_DEADLINE = "No complete answer within {seconds:g} s (WEBHOOK_ATTEMPT_SECONDS)."
ENDPOINT_DISABLED = (
    "Switched off by the shop at {at:%Y-%m-%d %H:%M:%S} UTC: every delivery attempt failed since "
    "{since:%Y-%m-%d %H:%M:%S} UTC (WEBHOOK_DISABLE_AFTER_SECONDS={after}). Last error: {error}"
)
FLUSH_BUDGET_SECONDS = 40  # one flush sends for at most this long, then hands over to a new kick
RESPONSE_READ_BYTES = 64 * 1024


def attempt_seconds() -> float:
    return float(settings.WEBHOOK_ATTEMPT_SECONDS)


def lease_seconds() -> float:
    """Longer than one attempt can take (its deadline); renewed before each."""
    return max(60.0, attempt_seconds() + 30)


class AttemptDeadlineExceeded(Exception):
    """The attempt's wall-clock deadline passed before a complete answer came."""


class _Watchdog:
    """Cuts the attempt's connection at its deadline.

    The socket timeout bounds each operation, not their sum: a receiver that
    sends one byte every few seconds would keep an attempt (and the sender's
    process) busy for as long as it likes. At the deadline this shuts the
    socket down from a timer thread, so whatever the sender is blocked in
    (connect's aftermath, the TLS handshake, sending, reading) returns at once.
    Shut down, not closed: the sender's thread still owns the descriptor.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        """The socket the attempt now talks on (the TCP one, then its TLS wrapper)."""
        with self._lock:
            self._sock = sock
            if self.expired:
                self._cut()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._cut()

    def _cut(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also for an SSLSocket: its own would drop the TLS
                # state under the thread that is reading it.
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to by now."""

    def __init__(self, target: Target, timeout: float, watchdog: _Watchdog) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address
        self.watchdog = watchdog

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.watchdog.watch(self.sock)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with the certificate verified for the URL's host name."""

    def __init__(self, target: Target, timeout: float, watchdog: _Watchdog) -> None:
        self.tls = ssl.create_default_context()  # verifies the certificate and the host name
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address
        self.watchdog = watchdog

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.watchdog.watch(sock)  # the handshake is within the deadline too
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        self.watchdog.watch(self.sock)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise AttemptDeadlineExceeded
    return left


def _post(target: Target, body: bytes, headers: dict[str, str], *, deadline: float) -> int:
    # Each socket operation may take the per-operation timeout, none past the deadline.
    left = _remaining(deadline)
    timeout = min(settings.WEBHOOK_TIMEOUT_SECONDS, left)
    with _Watchdog(left) as watchdog:
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(target, timeout, watchdog)
        else:
            connection = _PinnedHTTPConnection(target, timeout, watchdog)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(RESPONSE_READ_BYTES)
            if watchdog.expired:
                # Cut short: what was read may look whole (the end of the stream ends the headers).
                raise AttemptDeadlineExceeded
            return int(response.status)
        except (OSError, http.client.HTTPException) as exc:
            if watchdog.expired:
                raise AttemptDeadlineExceeded from exc
            raise
        finally:
            connection.close()


def _resolve(url: str, *, deadline: float) -> Target:
    """``url_target`` within the deadline: the receiver's own name server could answer slowly.
    The look-up goes on in its thread if it overruns (the resolver's own timeouts end it)."""
    found: list[Target] = []
    failed: list[Exception] = []

    def look_up() -> None:
        try:
            found.append(url_target(url))
        except Exception as exc:  # handed over to the attempt's thread
            failed.append(exc)

    thread = threading.Thread(target=look_up, daemon=True, name="webhook-resolve")
    thread.start()
    thread.join(_remaining(deadline))
    if failed:
        raise failed[0]
    if not found:
        raise AttemptDeadlineExceeded
    return found[0]


def delivery_attempt(*, delivery: WebhookDelivery) -> bool:
    """POST the delivery's event once, log the attempt, and settle or reschedule it.

    The attempt ends at its deadline (WEBHOOK_ATTEMPT_SECONDS of wall-clock
    time) whatever the receiver does, and every way it can end is logged as
    its outcome: an exception this function does not expect (the Celery
    task's soft time limit among them) is logged as a failed attempt and then
    raised again.
    """
    endpoint, event = delivery.endpoint, delivery.event
    started, at = time.monotonic(), timezone.now()
    deadline = started + attempt_seconds()
    status_code: int | None = None
    error = ""
    if not endpoint.is_active:
        error = ENDPOINT_INACTIVE
    else:
        try:
            target = _resolve(endpoint.url, deadline=deadline)  # again: DNS answers change
            body = event.body.encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                SIGNATURE_HEADER: signature_header(
                    secret=endpoint.secret, body=body, timestamp=int(time.time())
                ),
                EVENT_ID_HEADER: str(event.id),
            }
            status_code = _post(target, body, headers, deadline=deadline)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except AttemptDeadlineExceeded:
            error = ATTEMPT_DEADLINE.format(seconds=attempt_seconds())
        except ValidationError as exc:
            error = exc.message
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            _settle(delivery=delivery, at=at, ok=False, status_code=None, error=error, started=started)
            raise
    ok = not error
    _settle(delivery=delivery, at=at, ok=ok, status_code=status_code, error=error, started=started)
    return ok


SETTLED_FIELDS = (
    "attempts",
    "last_attempt_at",
    "last_status_code",
    "last_error",
    "status",
    "delivered_at",
    "next_attempt_at",
)


@transaction.atomic
def _settle(
    *, delivery: WebhookDelivery, at: datetime, ok: bool, status_code: int | None, error: str, started: float
) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=at,
        status_code=status_code,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status_code
    delivery.last_error = error
    kick_after: float | None = None
    if ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    else:
        delay = retry_delay(
            delivery.attempts,
            base=settings.WEBHOOK_RETRY_BASE_SECONDS,
            factor=settings.WEBHOOK_RETRY_FACTOR,
            random=random.random,
        )
        next_at = now + timedelta(seconds=delay)
        if next_at > delivery.created_at + timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS):
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            logger.warning("webhooks: delivery %s failed for good: %s", delivery.id, error)
        else:
            delivery.next_attempt_at = next_at
            kick_after = delay
    rows = WebhookDelivery.objects.filter(pk=delivery.pk)
    if not ok:
        # A batch dropped by the cap while it was being sent stays dropped (a delivered one is
        # recorded as delivered: the receiver has it).
        rows = rows.filter(status=WebhookDelivery.Status.PENDING)
    settled = rows.update(**{name: getattr(delivery, name) for name in SETTLED_FIELDS})
    if settled and kick_after is not None:
        endpoint_kick(endpoint_id=delivery.endpoint_id, delay=kick_after)  # after commit
    if error != ENDPOINT_INACTIVE:
        unanswered = not ok and status_code is None
        retry_at = delivery.next_attempt_at if settled and unanswered else None
        _endpoint_health(endpoint_id=delivery.endpoint_id, ok=ok, at=now, error=error, retry_at=retry_at)


def _endpoint_health(
    *, endpoint_id: int, ok: bool, at: datetime, error: str, retry_at: datetime | None
) -> None:
    """Track how long the endpoint has failed (past WEBHOOK_DISABLE_AFTER_SECONDS it is switched
    off) and, after an attempt it did not answer, pause it until ``retry_at``."""
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if ok:
        endpoints.exclude(failing_since=None, retry_at=None).update(failing_since=None, retry_at=None)
        return
    endpoints.filter(failing_since__isnull=True).update(failing_since=at)
    if retry_at is not None:
        endpoints.update(retry_at=retry_at)
    after = int(settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if after <= 0:
        return
    since = endpoints.filter(is_active=True).values_list("failing_since", flat=True).first()
    if since is None or at - since < timedelta(seconds=after):
        return
    reason = ENDPOINT_DISABLED.format(at=at, since=since, after=after, error=error)[:500]
    if endpoints.filter(is_active=True).update(is_active=False, disabled_at=at, disabled_reason=reason):
        WEBHOOK_ENDPOINTS_DISABLED.inc()
        logger.warning("webhooks: endpoint %s switched off: %s", endpoint_id, reason)


def _lease_key(endpoint_id: int) -> str:
    return f"tickshop:webhooks:sending:{endpoint_id}"


def endpoint_flush(*, endpoint_id: int) -> int:
    """Send the endpoint's due deliveries, oldest first; returns how many attempts were made.

    Returns at once when another process is sending to this endpoint: it will
    see the new deliveries too (it looks again after letting go of the lease).
    """
    made = 0
    if not endpoint_sendable(endpoint_id=endpoint_id):
        return made  # deleted, switched off or paused: its deliveries wait
    deadline = time.monotonic() + FLUSH_BUDGET_SECONDS
    while cache.add(_lease_key(endpoint_id), 1, timeout=lease_seconds()):
        try:
            attempts, paused = _flush_held(endpoint_id, deadline)
            made += attempts
        finally:
            cache.delete(_lease_key(endpoint_id))
        if paused:
            break  # the retry's kick comes back
        if time.monotonic() > deadline:
            endpoint_kick(endpoint_id=endpoint_id)  # more to do: a fresh task carries on
            break
        # A kick that came while the lease was held found it taken: look once more.
        if not _due(endpoint_id):
            break
    return made


def _due(endpoint_id: int) -> bool:
    return any(_sendable(delivery_pending(endpoint_id=endpoint_id)))


def _sendable(pending: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """The pending deliveries that may go now, oldest first; of the batches only the one
    with the lowest ``seq``, and only when it is due (batches never overtake a batch)."""
    now = timezone.now()
    batches = [d for d in pending if d.event_type == EventType.PRICES_BATCH]
    head = min(batches, key=lambda d: (d.seq or 0, d.id)) if batches else None
    return [
        d
        for d in pending
        if (d.event_type != EventType.PRICES_BATCH or d is head)
        and d.next_attempt_at is not None
        and d.next_attempt_at <= now
    ]


def _flush_held(endpoint_id: int, deadline: float) -> tuple[int, bool]:
    """Attempts made, and whether the endpoint left one unanswered (which ends the flush)."""
    made = 0
    while time.monotonic() < deadline:
        ready = _sendable(delivery_pending(endpoint_id=endpoint_id))
        if not ready:
            return made, False
        for delivery in ready:
            cache.touch(_lease_key(endpoint_id), lease_seconds())
            ok = delivery_attempt(delivery=delivery)
            made += 1
            if not ok and delivery.last_status_code is None:
                # No answer (its deadline, a refused connection): the endpoint is paused until
                # this delivery's retry, whose kick comes back; the other endpoints' deliveries
                # get the sender in between.
                return made, True
            if not ok and delivery.event_type == EventType.PRICES_BATCH:
                break  # later batches wait for this one: look again
            if time.monotonic() > deadline:
                return made, False
    return made, False


def deliveries_sweep() -> list[int]:
    """Kick every active endpoint that has a due delivery (what lost kicks left behind)."""
    endpoint_ids = endpoint_ids_due()
    for endpoint_id in endpoint_ids:
        endpoint_kick(endpoint_id=endpoint_id)
    return endpoint_ids
