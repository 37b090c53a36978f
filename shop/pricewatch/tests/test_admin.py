"""Staff see alerts and standing orders in the admin, counted by state (SPEC §15); /metrics counts
the alerts fired and the standing orders filled."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from shop.catalog.services.prices import prices_record
from shop.core.metrics import metrics_text
from shop.pricewatch.models import StandingOrder
from shop.pricewatch.services.matching import prices_match
from shop.pricewatch.services.watches import alert_create, standing_order_create
from shop.tests.factories import GoodsFactory, UserFactory
from shop.tests.metrics import sample

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def crossed(usd: Any, django_capture_on_commit_callbacks: Any) -> dict[str, float]:
    """Two alerts (one fired), three standing orders (one filled); the metrics before and after."""
    goods = GoodsFactory(price="20.00")
    for price in ("15", "5"):
        alert_create(
            user=UserFactory(), goods_id=goods.id, currency_code="USD", direction="below", price=D(price)
        )
    for limit in ("15", "5", "5"):
        standing_order_create(
            user=UserFactory(), goods_id=goods.id, quantity=1, currency_code="USD", limit_price=D(limit),
            expires_at=timezone.now() + timedelta(hours=1),
        )  # fmt: skip
    before = metrics_text().decode()
    with django_capture_on_commit_callbacks(execute=True):
        batch = prices_record(amounts={goods.id: D("10.00")}, source="manual")
        prices_match(at=batch.at, first=batch.ids[0], last=batch.ids[0])
    after = metrics_text().decode()
    return {
        name: sample(after, name) - sample(before, name)
        for name in ("tickshop_alerts_fired_total", "tickshop_standing_orders_filled_total")
    }


def test_metrics_count_what_fired_and_filled(crossed: dict[str, float]) -> None:
    assert crossed == {"tickshop_alerts_fired_total": 1, "tickshop_standing_orders_filled_total": 1}


def test_the_admin_lists_them_with_counts_by_state(crossed: dict[str, float], superuser: Client) -> None:
    alerts = superuser.get("/admin/pricewatch/alert/")
    assert alerts.status_code == 200
    assert "open (1)" in alerts.text and "triggered (1)" in alerts.text
    standing = superuser.get("/admin/pricewatch/standingorder/")
    assert standing.status_code == 200
    assert "Open (2)" in standing.text and "Filled (1)" in standing.text
    assert superuser.get("/admin/pricewatch/standingorder/?status=filled").text.count('class="field-id"') == 1
    assert superuser.get("/admin/pricewatch/alert/add/").status_code == 403
    standing_id = StandingOrder.objects.filter(status="open").values_list("id", flat=True).first()
    assert superuser.get(f"/admin/pricewatch/standingorder/{standing_id}/delete/").status_code == 403
