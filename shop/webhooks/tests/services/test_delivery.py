"""shop.webhooks.services.delivery: attempts against a real local receiver, logged and settled."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from shop.currency.services import rate_create
from shop.tests.factories import CurrencyFactory
from shop.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.webhooks.services.delivery import (
    ENDPOINT_INACTIVE,
    deliveries_sweep,
    delivery_attempt,
    endpoint_flush,
)
from shop.webhooks.services.endpoints import endpoint_create
from shop.webhooks.signing import signature_verify
from shop.webhooks.tests.receiver import Receiver, receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_nothing")]


@pytest.fixture
def hook(local_ok: None, usd: Any) -> Any:
    """A receiver, an endpoint for it that wants rate changes, and one such change recorded."""
    CurrencyFactory(code="EUR")
    with receiver() as received:
        endpoint = endpoint_create(url=received.url, events=["rate.changed"])
        rate_create(currency_code="EUR", rate=Decimal("0.92"), source="manual")
        yield received, endpoint, WebhookDelivery.objects.get(endpoint=endpoint)


def test_a_delivered_attempt_is_signed_logged_and_settled(
    hook: tuple[Receiver, WebhookEndpoint, Any],
) -> None:
    received, endpoint, delivery = hook
    assert delivery_attempt(delivery=delivery) is True
    [request] = received.received
    assert request.json["type"] == "rate.changed"
    assert request.json["id"] == str(delivery.event_id)
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert signature_verify(secret=endpoint.secret, body=request.body, header=headers["tickshop-signature"])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        WebhookDelivery.Status.SUCCEEDED,
        1,
        200,
    )
    assert WebhookAttempt.objects.get(delivery=delivery).status_code == 200


def test_a_failed_attempt_is_tried_again_later(hook: tuple[Receiver, WebhookEndpoint, Any]) -> None:
    received, _, delivery = hook
    received.script = [503]
    assert delivery_attempt(delivery=delivery) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (WebhookDelivery.Status.PENDING, "HTTP 503")
    assert delivery.next_attempt_at > timezone.now()


def test_an_attempt_past_the_retry_window_fails_for_good(
    hook: tuple[Receiver, WebhookEndpoint, Any], settings: Any
) -> None:
    received, _, delivery = hook
    settings.WEBHOOK_RETRY_FOR_SECONDS = 0
    received.script = [500]
    assert delivery_attempt(delivery=delivery) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (WebhookDelivery.Status.FAILED, None)


def test_an_inactive_endpoint_is_not_sent_to(hook: tuple[Receiver, WebhookEndpoint, Any]) -> None:
    received, endpoint, delivery = hook
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    delivery.refresh_from_db()
    assert delivery_attempt(delivery=delivery) is False
    assert received.received == []
    assert WebhookAttempt.objects.get(delivery=delivery).error == ENDPOINT_INACTIVE
    assert endpoint_flush(endpoint_id=endpoint.id) == 0


def test_endpoint_flush_sends_what_is_due(hook: tuple[Receiver, WebhookEndpoint, Any]) -> None:
    received, endpoint, _ = hook
    rate_create(currency_code="EUR", rate=Decimal("0.93"), source="manual")
    assert endpoint_flush(endpoint_id=endpoint.id) == 2
    assert [event["data"]["rate"] for event in received.events()] == ["0.92", "0.93"]
    assert endpoint_flush(endpoint_id=endpoint.id) == 0


def test_deliveries_sweep_names_the_endpoints_with_due_deliveries(
    hook: tuple[Receiver, WebhookEndpoint, Any],
) -> None:
    _, endpoint, delivery = hook
    assert deliveries_sweep() == [endpoint.id]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert deliveries_sweep() == []
