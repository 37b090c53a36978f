"""shop.webhooks.store: both implementations name the same endpoints, on every database."""

import pytest
from django.db import connection

from shop.webhooks.models import WebhookEndpoint
from shop.webhooks.store import EndpointStore, OrmEndpointStore, PostgresEndpointStore, endpoint_store

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks"


def stores() -> list[EndpointStore]:
    """The portable one everywhere, PostgreSQL's where the tests run on it."""
    return [OrmEndpointStore(), *([PostgresEndpointStore()] if connection.vendor == "postgresql" else [])]


def endpoint(events: list[str], is_active: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=PUBLIC_URL, events=events, is_active=is_active, secret="whsec_x"
    )


def test_the_vendor_chooses_the_store() -> None:
    expected = PostgresEndpointStore if connection.vendor == "postgresql" else OrmEndpointStore
    assert isinstance(endpoint_store(), expected)


def test_endpoint_ids_for_the_active_endpoints_that_want_a_kind_in_id_order() -> None:
    b = endpoint(["rate.changed", "order.created"])
    endpoint(["order.created"], is_active=False)
    endpoint(["sale.started"])
    endpoint(["order.created.not"])  # a whole name, not a prefix
    a = endpoint(["order.created"])
    for store in stores():
        assert store.endpoint_ids_for(kind="order.created") == sorted([a.id, b.id])
        assert store.endpoint_ids_for(kind="prices.batch") == []
