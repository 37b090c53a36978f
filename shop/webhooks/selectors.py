from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from shop.webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


def endpoint_ids_for(*, kind: str) -> list[int]:
    """Active endpoints that want events of ``kind``, in id order.

    Asked by every order (order.created), so on PostgreSQL one fixed statement that
    filters by JSON containment (``?``) and returns ids only; SQLite has no such
    operator, so there the list is filtered here.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {WebhookEndpoint._meta.db_table} WHERE is_active AND events ? %s ORDER BY id",  # noqa: S608 - the model's table
                [kind],
            )
            return [row[0] for row in cursor.fetchall()]
    rows = WebhookEndpoint.objects.filter(is_active=True).values_list("id", "events")
    return [endpoint_id for endpoint_id, events in rows if kind in events]


def delivery_list(*, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-id")
    )


def delivery_pending(*, endpoint_id: int, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's pending deliveries, oldest first, with what sending them needs."""
    return list(
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING)
        .select_related("event", "endpoint")
        .order_by("id")[:limit]
    )


def endpoint_ids_due() -> list[int]:
    """Active endpoints with a delivery whose time has come."""
    return sorted(
        set(
            WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=timezone.now(),
                endpoint__is_active=True,
            ).values_list("endpoint_id", flat=True)
        )
    )
