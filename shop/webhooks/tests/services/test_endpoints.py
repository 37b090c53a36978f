"""shop.webhooks.services.endpoints: registering endpoints, their URL and events checked."""

import pytest

from shop.core.errors import ValidationError
from shop.webhooks.errors import WebhookErrorCode
from shop.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from shop.webhooks.services.endpoints import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_update,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_nothing")]

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public literal address: resolving it asks no DNS


def test_endpoint_create_makes_a_secret_and_cleans_the_events() -> None:
    endpoint = endpoint_create(url=PUBLIC_URL, events=["rate.changed", "order.created", "rate.changed"])
    endpoint.refresh_from_db()
    assert endpoint.events == ["order.created", "rate.changed"]
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.is_active


@pytest.mark.parametrize(
    ("url", "events", "code"),
    [
        (PUBLIC_URL, [], WebhookErrorCode.EVENTS_REQUIRED),
        (PUBLIC_URL, ["order.shipped"], WebhookErrorCode.EVENT_UNKNOWN),
        ("not a url", ["order.created"], WebhookErrorCode.URL_INVALID),
        ("https://user:pw@93.184.215.14/", ["order.created"], WebhookErrorCode.URL_INVALID),
        ("http://93.184.215.14/hooks", ["order.created"], WebhookErrorCode.URL_NOT_HTTPS),
        ("https://10.0.0.1/hooks", ["order.created"], WebhookErrorCode.URL_NOT_PUBLIC),
    ],
)
def test_endpoint_create_refuses(url: str, events: list[str], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        endpoint_create(url=url, events=events)
    assert caught.value.code == code
    assert not WebhookEndpoint.objects.exists()


def test_endpoint_update_writes_the_allowed_fields_never_the_secret() -> None:
    endpoint = endpoint_create(url=PUBLIC_URL, events=["order.created"])
    secret = endpoint.secret
    endpoint_update(
        endpoint=endpoint,
        data={"events": ["sale.ended", "sale.started"], "description": "erp", "secret": "whsec_mine"},
    )
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description, endpoint.secret) == (
        ["sale.ended", "sale.started"],
        "erp",
        secret,
    )


def test_endpoint_update_checks_a_new_url_and_events() -> None:
    endpoint = endpoint_create(url=PUBLIC_URL, events=["order.created"])
    with pytest.raises(ValidationError) as caught:
        endpoint_update(endpoint=endpoint, data={"url": "https://127.0.0.1/hooks"})
    assert caught.value.code == WebhookErrorCode.URL_NOT_PUBLIC
    with pytest.raises(ValidationError) as caught:
        endpoint_update(endpoint=endpoint, data={"events": []})
    assert caught.value.code == WebhookErrorCode.EVENTS_REQUIRED
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == (PUBLIC_URL, ["order.created"])


def test_endpoint_delete() -> None:
    endpoint = endpoint_create(url=PUBLIC_URL, events=["order.created"])
    endpoint_delete(endpoint=endpoint)
    assert not WebhookEndpoint.objects.exists()


def test_delivery_redeliver_is_a_new_pending_delivery() -> None:
    endpoint = endpoint_create(url=PUBLIC_URL, events=["order.created"])
    event = WebhookEvent.objects.create(type="order.created", created_at="2026-01-01T00:00:00Z", body="{}")
    failed = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        event_type=event.type,
        status=WebhookDelivery.Status.FAILED,
        attempts=5,
    )
    again = delivery_redeliver(delivery=failed)
    assert again.id != failed.id
    assert (again.event_id, again.status, again.attempts) == (event.id, WebhookDelivery.Status.PENDING, 0)
    assert again.next_attempt_at is not None
