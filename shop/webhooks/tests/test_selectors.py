"""shop.webhooks.selectors: who wants an event, and what is due to be sent."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shop.webhooks import selectors
from shop.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks"


def endpoint(events: list[str], is_active: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=PUBLIC_URL, events=events, is_active=is_active, secret="whsec_x"
    )


def delivery(to: WebhookEndpoint, **fields: Any) -> WebhookDelivery:
    event = WebhookEvent.objects.create(type="order.created", created_at=timezone.now(), body="{}")
    fields.setdefault("next_attempt_at", timezone.now())
    return WebhookDelivery.objects.create(endpoint=to, event=event, event_type=event.type, **fields)


def test_endpoint_list_in_id_order() -> None:
    a, b = endpoint(["order.created"]), endpoint(["rate.changed"])
    assert list(selectors.endpoint_list()) == [a, b]


def test_endpoint_ids_for_names_the_active_endpoints_that_want_a_kind() -> None:
    a = endpoint(["order.created", "rate.changed"])
    endpoint(["rate.changed"], is_active=False)
    b = endpoint(["order.created"])
    endpoint(["sale.started"])
    assert selectors.endpoint_ids_for(kind="order.created") == [a.id, b.id]
    assert selectors.endpoint_ids_for(kind="rate.changed") == [a.id]
    assert selectors.endpoint_ids_for(kind="prices.batch") == []


def test_delivery_list_newest_first_with_its_log() -> None:
    to = endpoint(["order.created"])
    first, second = delivery(to), delivery(to)
    WebhookAttempt.objects.create(delivery=first, at=timezone.now(), status_code=500, error="HTTP 500")
    listed = list(selectors.delivery_list(endpoint_id=to.id))
    assert listed == [second, first]
    assert [a.status_code for a in listed[1].attempt_log.all()] == [500]


def test_delivery_pending_oldest_first() -> None:
    to = endpoint(["order.created"])
    first = delivery(to)
    delivery(to, status=WebhookDelivery.Status.SUCCEEDED)
    third = delivery(to)
    assert selectors.delivery_pending(endpoint_id=to.id) == [first, third]
    assert selectors.delivery_pending(endpoint_id=to.id, limit=1) == [first]


def test_endpoint_ids_due() -> None:
    due, later, off = (
        endpoint(["order.created"]),
        endpoint(["order.created"]),
        endpoint(["order.created"], is_active=False),
    )
    delivery(due)
    delivery(due)
    delivery(later, next_attempt_at=timezone.now() + timedelta(minutes=5))
    delivery(off)
    assert selectors.endpoint_ids_due() == [due.id]
