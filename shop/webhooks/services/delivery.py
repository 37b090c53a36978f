"""Sending deliveries: signed POSTs, one endpoint at a time, retried with backoff.

Per endpoint one sender at a time (a lease in the cache, Redis in stack mode):
deliveries go oldest first, and a ``prices.batch`` delivery never overtakes an
older one that is still pending, so an endpoint sees batches in ``seq`` order
even while one of them waits for its retry. Other event types do not wait for
batches.
"""

import http.client
import logging
import random
import socket
import ssl
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from shop.core.errors import ValidationError
from shop.core.events import EventType
from shop.domain.backoff import retry_delay
from shop.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.webhooks.security import Target, url_target
from shop.webhooks.selectors import delivery_pending, endpoint_ids_due
from shop.webhooks.services.dispatch import endpoint_kick
from shop.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

USER_AGENT = "tickshop-webhooks/1"
ENDPOINT_INACTIVE = "The endpoint is not active."
LEASE_SECONDS = 60  # longer than one attempt can take; renewed before each
FLUSH_BUDGET_SECONDS = 40  # one flush sends for at most this long, then hands over to a new kick
RESPONSE_READ_BYTES = 64 * 1024


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to by now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with the certificate verified for the URL's host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.tls = ssl.create_default_context()  # verifies the certificate and the host name
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def _post(target: Target, body: bytes, headers: dict[str, str]) -> int:
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout)
    else:
        connection = _PinnedHTTPConnection(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_BYTES)
        return int(response.status)
    finally:
        connection.close()


def delivery_attempt(*, delivery: WebhookDelivery) -> bool:
    """POST the delivery's event once, log the attempt, and settle or reschedule it."""
    endpoint, event = delivery.endpoint, delivery.event
    started, at = time.monotonic(), timezone.now()
    status_code: int | None = None
    error = ""
    if not endpoint.is_active:
        error = ENDPOINT_INACTIVE
    else:
        try:
            target = url_target(endpoint.url)  # again: DNS answers change
            body = event.body.encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                SIGNATURE_HEADER: signature_header(
                    secret=endpoint.secret, body=body, timestamp=int(time.time())
                ),
                EVENT_ID_HEADER: str(event.id),
            }
            status_code = _post(target, body, headers)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except ValidationError as exc:
            error = exc.message
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    ok = not error
    _settle(delivery=delivery, at=at, ok=ok, status_code=status_code, error=error, started=started)
    return ok


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
            endpoint_id = delivery.endpoint_id
            transaction.on_commit(lambda: endpoint_kick(endpoint_id=endpoint_id, delay=delay))
    delivery.save(
        update_fields=(
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        )
    )


def _lease_key(endpoint_id: int) -> str:
    return f"tickshop:webhooks:sending:{endpoint_id}"


def endpoint_flush(*, endpoint_id: int) -> int:
    """Send the endpoint's due deliveries, oldest first; returns how many attempts were made.

    Returns at once when another process is sending to this endpoint: it will
    see the new deliveries too (it looks again after letting go of the lease).
    """
    made = 0
    if not WebhookEndpoint.objects.filter(id=endpoint_id, is_active=True).exists():
        return made  # deleted, or switched off: its deliveries wait until it is on again
    deadline = time.monotonic() + FLUSH_BUDGET_SECONDS
    while cache.add(_lease_key(endpoint_id), 1, timeout=LEASE_SECONDS):
        try:
            made += _flush_held(endpoint_id, deadline)
        finally:
            cache.delete(_lease_key(endpoint_id))
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


def _flush_held(endpoint_id: int, deadline: float) -> int:
    made = 0
    while time.monotonic() < deadline:
        ready = _sendable(delivery_pending(endpoint_id=endpoint_id))
        if not ready:
            return made
        for delivery in ready:
            cache.touch(_lease_key(endpoint_id), LEASE_SECONDS)
            ok = delivery_attempt(delivery=delivery)
            made += 1
            if not ok and delivery.event_type == EventType.PRICES_BATCH:
                break  # later batches wait for this one: look again
            if time.monotonic() > deadline:
                return made
    return made


def deliveries_sweep() -> list[int]:
    """Kick every active endpoint that has a due delivery (what lost kicks left behind)."""
    endpoint_ids = endpoint_ids_due()
    for endpoint_id in endpoint_ids:
        endpoint_kick(endpoint_id=endpoint_id)
    return endpoint_ids
