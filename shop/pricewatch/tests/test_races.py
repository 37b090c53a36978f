"""Races the standing orders' row locks settle (SPEC §15), on real PostgreSQL connections: a cancel
that comes while a fill of the same standing order is under way waits for it and is refused; the
open-count cap holds when one shopper's clients create many at once through a real server."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.core.errors import Conflict
from shop.orders.models import Order
from shop.pricewatch.models import StandingOrder
from shop.pricewatch.services.matching import standing_orders_fill
from shop.pricewatch.services.watches import standing_order_cancel, standing_order_create
from shop.tests.factories import GoodsFactory, UserFactory
from shop.tests.live import asgi_server, call, closing, service_env, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks across connections"),
    pytest.mark.django_db(transaction=True),
]

WAIT = 30.0  # seconds, a deadline on a loaded machine
LIMIT = Decimal("15.00")
CLIENTS = 8


def waiting_on_a_lock(statement: str) -> int:
    """How many connections of this database wait for a lock in a statement starting so."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            [f"{statement}%"],
        )
        return int(cursor.fetchone()[0])


def test_a_cancel_during_a_fill_waits_for_it_and_is_refused(usd: Any) -> None:
    # given: a standing order whose limit the next price reaches, and its goods locked by another
    # transaction (as a tick's chunk locks it), so the fill will stop inside its placement
    shopper = UserFactory()
    goods = GoodsFactory(price="20.00")
    standing = standing_order_create(
        user=shopper,
        goods_id=goods.id,
        quantity=1,
        currency_code="USD",
        limit_price=LIMIT,
        expires_at=timezone.now() + timedelta(days=1),
    )
    batch = prices_record(amounts={goods.id: Decimal("10.00")}, source="manual")
    holding, release = threading.Event(), threading.Event()

    @closing
    def goods_locked() -> None:
        with transaction.atomic():
            Goods.objects.select_for_update().get(id=goods.id)
            holding.set()
            release.wait(WAIT)

    @closing
    def fill() -> int:
        return len(standing_orders_fill(at=batch.at, first=min(batch.ids), last=max(batch.ids)))

    @closing
    def cancel() -> str:
        try:
            return standing_order_cancel(user=shopper, standing_order_id=standing.id).status
        except Conflict as refused:
            return f"{refused.code}: {refused.extra['status']}"

    with ThreadPoolExecutor(3) as pool:
        locker = pool.submit(goods_locked)
        assert holding.wait(WAIT)
        # when: the fill has claimed the standing order and waits for the goods ...
        filling = pool.submit(fill)
        wait_until(lambda: waiting_on_a_lock("\nWITH goods AS MATERIALIZED") == 1, timeout=WAIT)
        # ... and the shopper cancels it meanwhile
        cancelling = pool.submit(cancel)
        wait_until(lambda: waiting_on_a_lock('SELECT "pricewatch_standingorder"') == 1, timeout=WAIT)
        release.set()
        locker.result(WAIT)
        # then: the fill goes through and the cancel, which waited for it, is refused
        assert filling.result(WAIT) == 1
        assert cancelling.result(WAIT) == "invalid_transition: filled"
    standing.refresh_from_db()
    (order,) = Order.objects.all()
    assert (standing.status, standing.order_id) == (StandingOrder.Status.FILLED, order.id)


@pytest.mark.slow
def test_the_open_count_cap_holds_when_one_shoppers_clients_create_many_at_once(
    usd: Any, tmp_path: Path
) -> None:
    # given: a shop of two web processes that lets a shopper keep 3 standing orders open
    shopper = UserFactory()
    goods = GoodsFactory(price="20.00")
    access = str(RefreshToken.for_user(shopper).access_token)
    body = {
        "goods": goods.id,
        "quantity": 1,
        "currency": "USD",
        "limit_price": str(LIMIT),
        "expires_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }
    env = service_env(WEB_CONCURRENCY="2", PRICE_TICKER="off", STANDING_ORDERS_PER_USER="3")
    with asgi_server(env, tmp_path / "server.log") as base:
        start = threading.Barrier(CLIENTS)

        def create(_: int) -> tuple[int, str]:
            start.wait(WAIT)
            status, answer = call(f"{base}/api/standing-orders/", "POST", access, body)
            return status, answer.get("code", "created")

        # when: eight of the shopper's clients create one each at the same moment
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = sorted(pool.map(create, range(CLIENTS)))
    # then: exactly three are created, the other five refused, and three are open
    assert answers == [(201, "created")] * 3 + [(409, "standing_orders_limit")] * 5
    assert StandingOrder.objects.filter(user=shopper, status="open").count() == 3
