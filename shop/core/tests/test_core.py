from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from shop.core.schema import error_codes_description

# Every path of SPEC §6 (and §10's candles) must be documented.
SPEC_PATHS = {
    "/api/currency/": {"get", "post"},
    "/api/currency/{code}/": {"get", "put", "patch"},
    "/api/currency/{code}/rates/": {"get", "post"},
    "/api/goods/": {"get", "post"},
    "/api/goods/{id}/": {"get", "put", "patch", "delete"},
    "/api/prices/": {"get", "post"},
    "/api/prices/{id}/": {"get"},
    "/api/sales/": {"get", "post"},
    "/api/sales/{id}/": {"get", "put", "patch", "delete"},
    "/api/sales/{id}/generate-prices/": {"put"},
    "/api/cart/": {"get", "delete"},
    "/api/cart/items/": {"post"},
    "/api/cart/items/{goods_id}/": {"patch", "delete"},
    "/api/cart/checkout/": {"post"},
    "/api/orders/": {"get", "post"},
    "/api/orders/{id}/": {"get"},
}


def test_schema_is_valid_openapi_3(schema: dict[str, Any]) -> None:
    # --validate checked it against the OpenAPI 3 JSON schema while generating.
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "tickshop API"


@pytest.mark.parametrize("path", SPEC_PATHS)
def test_schema_documents_every_spec_path(schema: dict[str, Any], path: str) -> None:
    assert path in schema["paths"]
    assert SPEC_PATHS[path] <= set(schema["paths"][path])


def test_schema_shows_real_bodies(schema: dict[str, Any]) -> None:
    goods = schema["components"]["schemas"]["GoodsDetail"]["properties"]
    assert {"price", "prices", "prices_url", "sale"} <= set(goods)
    gen = schema["paths"]["/api/sales/{id}/generate-prices/"]["put"]["responses"]["200"]
    assert gen["content"]["application/json"]["schema"]["type"] == "array"
    rates = schema["paths"]["/api/currency/{code}/rates/"]["post"]["requestBody"]
    assert "ExchangeRateCreate" in str(rates)


def test_schema_documents_the_error_codes_once(schema: dict[str, Any]) -> None:
    # The one list, made from the apps' enums, on the one error body every answer refers to.
    code = schema["components"]["schemas"]["Error"]["properties"]["code"]
    assert code["type"] == "string"  # a description, not an enum: a client must accept new codes
    assert code["description"] == error_codes_description()
    assert "`sale_bounds`" in code["description"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/api/schema/", "/api/"])
def test_docs_pages_answer(client: Client, path: str) -> None:
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_healthz_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_migrations_are_complete() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_beat_schedules_come_from_code(settings: Any) -> None:
    from django_celery_beat.models import PeriodicTask

    from shop.core.schedules import schedules_ensure

    settings.RATES_PROVIDER = "manual"
    schedules_ensure()
    schedules_ensure()  # idempotent
    tick = PeriodicTask.objects.get(name="price tick")
    assert (tick.task, tick.interval.every, tick.expire_seconds, tick.enabled) == (
        "catalog.price_tick",
        1,
        5,
        True,
    )
    assert not PeriodicTask.objects.get(name="exchange rates").enabled
    settings.RATES_PROVIDER = "ecb"
    schedules_ensure()
    assert PeriodicTask.objects.get(name="exchange rates").enabled
