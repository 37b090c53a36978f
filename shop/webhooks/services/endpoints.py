"""Registering webhook endpoints: the URL is checked (shop.webhooks.security), the secret made here."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from shop.core.errors import ValidationError
from shop.core.events import EventType
from shop.core.services import model_update
from shop.webhooks.errors import WebhookErrorCode
from shop.webhooks.models import WebhookDelivery, WebhookEndpoint
from shop.webhooks.security import url_target
from shop.webhooks.services.dispatch import endpoint_kick
from shop.webhooks.signing import secret_new

EVENTS_REQUIRED = "Name at least one event type."
EVENT_UNKNOWN = "Unknown event type(s): {types}."


def _events_clean(events: Sequence[str]) -> list[str]:
    if not events:
        raise ValidationError(EVENTS_REQUIRED, code=WebhookErrorCode.EVENTS_REQUIRED)
    unknown = sorted(set(events) - set(EventType))
    if unknown:
        raise ValidationError(
            EVENT_UNKNOWN.format(types=", ".join(unknown)), code=WebhookErrorCode.EVENT_UNKNOWN
        )
    return sorted(set(events))


@transaction.atomic
def endpoint_create(
    *, url: str, events: Sequence[str], is_active: bool = True, description: str = ""
) -> WebhookEndpoint:
    url_target(url)
    return WebhookEndpoint.objects.create(
        url=url,
        events=_events_clean(events),
        is_active=is_active,
        description=description,
        secret=secret_new(),
    )


ENDPOINT_FIELDS = ["url", "events", "is_active", "description"]  # never the secret


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, data: Mapping[str, Any]) -> WebhookEndpoint:
    """Change what staff may change. Switching an endpoint on starts its record afresh: the
    reason the shop switched it off, since when it was failing and its pause are cleared."""
    data = dict(data)
    if "url" in data:
        url_target(data["url"])
    if "events" in data:
        data["events"] = _events_clean(data["events"])
    was_active = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).exists()
    endpoint, _ = model_update(instance=endpoint, fields=ENDPOINT_FIELDS, data=data)
    if endpoint.is_active and not was_active:
        endpoint.failing_since = endpoint.disabled_at = endpoint.retry_at = None
        endpoint.disabled_reason = ""
        endpoint.save(update_fields=("failing_since", "disabled_at", "disabled_reason", "retry_at"))
    if endpoint.is_active:
        # What waited while it was off goes now.
        endpoint_kick(endpoint_id=endpoint.id)  # after commit
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivered or failed event again, as a new delivery with its own log."""
    again = WebhookDelivery.objects.create(
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        seq=delivery.seq,
        next_attempt_at=timezone.now(),
    )
    endpoint_kick(endpoint_id=again.endpoint_id)  # after commit
    return again
