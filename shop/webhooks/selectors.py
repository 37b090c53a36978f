from collections.abc import Sequence

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from shop.core.events import EventType
from shop.webhooks.models import WebhookDelivery, WebhookEndpoint
from shop.webhooks.store import endpoint_store


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


def endpoint_ids_for(*, kind: str) -> list[int]:
    """Active endpoints that want events of ``kind``, in id order (asked by every order:
    shop.webhooks.store answers it in one statement on PostgreSQL)."""
    return endpoint_store().endpoint_ids_for(kind=kind)


def delivery_list(*, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    # Not the events: a prices.batch body is up to 5,000 goods' prices; the log shows event ids.
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
        .prefetch_related("attempt_log")
        .order_by("-id")
    )


def delivery_pending(*, endpoint_id: int, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's pending deliveries, oldest first, with what sending them needs. The event
    bodies are left out (up to WEBHOOK_MAX_PENDING_BATCHES batches of a whole tick each): an
    attempt loads the one it sends."""
    return list(
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING)
        .select_related("event", "endpoint")
        .defer("event__body")
        .order_by("id")[:limit]
    )


def delivery_batch_ids_over_cap(*, endpoint_ids: Sequence[int], keep: int) -> list[int]:
    """The pending prices.batch deliveries of these endpoints beyond the newest ``keep`` of each
    (by ``seq``): one statement, over at most ``keep`` + a few rows per endpoint."""
    ranked = WebhookDelivery.objects.filter(
        endpoint_id__in=endpoint_ids,
        status=WebhookDelivery.Status.PENDING,
        event_type=EventType.PRICES_BATCH,
    ).annotate(
        rank=Window(RowNumber(), partition_by=F("endpoint_id"), order_by=[F("seq").desc(), F("id").desc()])
    )
    return list(ranked.filter(rank__gt=keep).values_list("id", flat=True))


def endpoint_ids_due() -> list[int]:
    """Active endpoints, not paused, with a delivery whose time has come."""
    now = timezone.now()
    return sorted(
        set(
            WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .exclude(endpoint__retry_at__gt=now)
            .values_list("endpoint_id", flat=True)
        )
    )


def endpoint_sendable(*, endpoint_id: int) -> bool:
    """The endpoint exists, is active, and is not paused after an attempt it did not answer."""
    return (
        WebhookEndpoint.objects.filter(id=endpoint_id, is_active=True)
        .exclude(retry_at__gt=timezone.now())
        .exists()
    )
