"""/healthz reports the ticker: ok, stalled (a sale running, no tick for 3 intervals) or idle."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from shop.catalog.models import Tick
from shop.catalog.services.ticks import tick_run, tick_slot
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db


def tick_at(seconds_ago: float) -> Tick:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    return Tick.objects.create(slot=tick_slot(at.timestamp()), started_at=at)


@pytest.fixture
def sale(usd: Any) -> Any:
    return SaleFactory(goods=[GoodsFactory(price="1.00")])


@override_settings(PRICE_TICK_SECONDS=5)
def test_ticks_ok_while_they_come(client: Client, sale: Any) -> None:
    tick = tick_at(4)
    for path in ("/healthz", "/healthz?strict=1"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert response.json()["ticks"] == {"status": "ok", "last_at": tick.started_at.isoformat()}


@override_settings(PRICE_TICK_SECONDS=5)
def test_stalled_after_three_intervals_without_a_tick(client: Client, sale: Any) -> None:
    # given: the newest tick is 16 s old, a sale is running
    tick = tick_at(16)
    # then: the plain probe stays 200 (the web tier is fine), strict says 503
    plain = client.get("/healthz")
    assert plain.status_code == 200
    assert plain.json()["status"] == "ok"
    assert plain.json()["ticks"] == {"status": "stalled", "last_at": tick.started_at.isoformat()}
    strict = client.get("/healthz?strict=1")
    assert strict.status_code == 503
    assert strict.json()["status"] == "degraded"
    assert strict.json()["failing"] == ["ticks"]
    assert strict.json()["database"] == "ok"
    # when: a tick commits, then: ok again
    tick_run()
    assert client.get("/healthz?strict=1").json()["ticks"]["status"] == "ok"


@override_settings(PRICE_TICK_SECONDS=5)
def test_fourteen_seconds_is_not_yet_stalled(client: Client, sale: Any) -> None:
    tick_at(14)
    assert client.get("/healthz?strict=1").status_code == 200


@override_settings(PRICE_TICK_SECONDS=5)
def test_never_ticked_with_a_sale_running_is_stalled(client: Client, sale: Any) -> None:
    body = client.get("/healthz").json()
    assert body["ticks"] == {"status": "stalled", "last_at": None}


@override_settings(PRICE_TICK_SECONDS=5)
def test_a_sale_that_just_started_is_given_three_intervals(client: Client, usd: Any) -> None:
    tick_at(3600)
    SaleFactory(goods=[GoodsFactory(price="1.00")], starts_at=timezone.now() - timedelta(seconds=3))
    assert client.get("/healthz?strict=1").json()["ticks"]["status"] == "ok"


@override_settings(PRICE_TICK_SECONDS=5)
def test_idle_when_nothing_is_on_sale(client: Client, usd: Any) -> None:
    tick = tick_at(3600)
    SaleFactory(goods=[GoodsFactory(price="1.00")], is_active=False)
    SaleFactory(goods=[GoodsFactory(price="1.00")], ends_at=timezone.now() - timedelta(minutes=1))
    response = client.get("/healthz?strict=1")
    assert response.status_code == 200
    assert response.json()["ticks"] == {"status": "idle", "last_at": tick.started_at.isoformat()}


@pytest.mark.parametrize("strict", ["0", "false", ""])
@override_settings(PRICE_TICK_SECONDS=5)
def test_strict_off_values(client: Client, sale: Any, strict: str) -> None:
    tick_at(60)
    assert client.get(f"/healthz?strict={strict}").status_code == 200
