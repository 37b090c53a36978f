"""Matching with real processes (SPEC §15): a real Celery worker matches what a tick committed,
two workers matching the same batch fill each standing order once."""

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from celery import current_app
from channels.db import database_sync_to_async
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from shop.catalog.models import Goods, Price
from shop.catalog.services.prices import prices_record
from shop.catalog.services.stock import goods_stock_set
from shop.catalog.services.ticks import tick_run
from shop.domain.money import quantize
from shop.orders.models import Order
from shop.pricewatch.models import Alert, StandingOrder
from shop.pricewatch.services.matching import MATCH_TASK
from shop.pricewatch.services.watches import alert_create, standing_order_cancel, standing_order_create
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory
from shop.tests.invariant import order_invariant_violations, stock_invariant_violations
from shop.tests.live import asgi_server, celery, next_of, run_async, service_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

D = Decimal
WAIT = 20.0  # seconds, a deadline for each feed message on a loaded machine


@contextmanager
def workers(count: int, tmp_path: Path) -> Iterator[None]:
    """``count`` Celery worker processes (two pool processes each) on this test's database; their
    e-mails go to files in ``tmp_path / "mail"``."""
    logs = [tmp_path / f"worker{n}.log" for n in range(count)]
    env = service_env(EMAIL_URL=f"filemail://{tmp_path / 'mail'}")
    with ExitStack() as stack:
        for log in logs:
            stack.enter_context(celery("worker", env, log))
        yield


def mails(tmp_path: Path, subject: str) -> int:
    """E-mails written so far whose subject starts with ``subject`` (a file may hold several: the
    file backend appends to one file per second and connection object)."""
    folder = tmp_path / "mail"
    found = [path.read_text() for path in folder.iterdir()] if folder.exists() else []
    return sum(text.count(f"Subject: {subject}") for text in found)


def standing(goods: Goods, limit: str, quantity: int = 1) -> StandingOrder:
    return standing_order_create(
        user=UserFactory(),
        goods_id=goods.id,
        quantity=quantity,
        currency_code="USD",
        limit_price=D(limit),
        expires_at=timezone.now() + timedelta(hours=1),
    )


def test_two_workers_matching_the_same_batch_fill_each_standing_order_once(usd: Any, tmp_path: Path) -> None:
    # given: 40 standing orders on untracked goods, 20 of 2 units each on a goods with 21 units
    untracked = [GoodsFactory(price="20.00") for _ in range(4)]
    tracked = GoodsFactory(price="20.00")
    goods_stock_set(goods=tracked, stock=21)
    free = [standing(goods, "15.00") for goods in untracked for _ in range(10)]
    scarce = [standing(tracked, "15.00", quantity=2) for _ in range(20)]
    alerts = [
        alert_create(user=UserFactory(), goods_id=g.id, currency_code="USD", direction="below", price=D("15"))
        for g in [*untracked, tracked]
        for _ in range(5)
    ]
    with workers(2, tmp_path):
        # when: one batch crosses them all, and its match is sent eight more times: both workers,
        # four pool processes, match it at once
        batch = prices_record(amounts={g.id: D("14.00") for g in [*untracked, tracked]}, source="manual")
        for _ in range(8):
            current_app.send_task(MATCH_TASK, args=(batch.at.isoformat(), min(batch.ids), max(batch.ids)))
        try:
            wait_until(
                lambda: (
                    StandingOrder.objects.filter(status="filled").count() == len(free) + 10
                    and not Alert.objects.filter(triggered_at__isnull=True).exists()
                    and mails(tmp_path, "tickshop: 1 price alert(s) fired") >= len(alerts)
                    and mails(tmp_path, "Your tickshop order #") >= len(free) + 10
                ),
                timeout=60,
            )
        except TimeoutError:
            state = (
                StandingOrder.objects.filter(status="filled").count(),
                Alert.objects.filter(triggered_at__isnull=True).count(),
                mails(tmp_path, "tickshop: 1 price alert(s) fired"),
                mails(tmp_path, "Your tickshop order #"),
            )
            raise AssertionError(f"filled, open alerts, alert mails, order mails: {state}") from None
    # then: each filled once, by one order of its own; 10 of the scarce ones got the 20 units
    filled = list(StandingOrder.objects.filter(status="filled").select_related("order"))
    assert len({s.order_id for s in filled}) == len(filled) == Order.objects.count() == len(free) + 10
    assert {s.id for s in filled} >= {s.id for s in free}
    assert StandingOrder.objects.filter(id__in=[s.id for s in scarce], status="open").count() == 10
    assert stock_invariant_violations({tracked.id: 21}) == {}
    assert Goods.objects.get(pk=tracked.pk).stock == 1
    assert order_invariant_violations() == (0, 0)
    for standing_order in filled:
        (line,) = standing_order.order.lines
        assert line.price_id in batch.ids and line.unit_price == D("14.00") <= standing_order.limit_price
    # every alert fired once, on the batch's price of its goods: one e-mail each (a shopper each)
    assert mails(tmp_path, "tickshop: 1 price alert(s) fired") == len(alerts)
    assert mails(tmp_path, "Your tickshop order #") == len(free) + 10
    price_of = {goods: pid for pid, goods, _, _ in batch.rows}
    assert sorted((a.goods_id, a.price_id) for a in Alert.objects.all()) == sorted(
        (a.goods_id, price_of[a.goods_id]) for a in alerts
    )


def test_ticks_fire_alerts_and_fill_standing_orders_told_on_the_shoppers_feed(
    usd: Any, tmp_path: Path
) -> None:
    # given: a ticking goods (10.00-10.05 USD, 5.00-5.03 EUR at 0.5), a shopper's alerts and
    # standing orders: some the first tick crosses, some it never does, one cancelled, one expired
    CurrencyFactory(code="EUR", rate="0.5")
    goods = GoodsFactory(price="20.00")
    SaleFactory(goods=[goods], min_price=D("10.00"), max_price=D("10.05"))
    shopper = UserFactory()

    def watch(direction: str, price: str) -> Alert:
        return alert_create(
            user=shopper, goods_id=goods.id, currency_code="EUR", direction=direction, price=D(price)
        )

    def buy(limit: str, quantity: int = 1) -> StandingOrder:
        return standing_order_create(
            user=shopper, goods_id=goods.id, quantity=quantity, currency_code="EUR", limit_price=D(limit),
            expires_at=timezone.now() + timedelta(hours=1),
        )  # fmt: skip

    crossed, never = watch("below", "5.03"), watch("above", "5.04")
    filling, too_low, cancelled, expired = buy("5.03", quantity=2), buy("4.99"), buy("5.03"), buy("5.03")
    standing_order_cancel(user=shopper, standing_order_id=cancelled.id)
    StandingOrder.objects.filter(id=expired.id).update(expires_at=timezone.now())
    token = str(RefreshToken.for_user(shopper).access_token)
    env = service_env(PRICE_TICKER="off")
    with ExitStack() as stack:
        base = stack.enter_context(asgi_server(env, tmp_path / "server.log"))
        stack.enter_context(celery("worker", env, tmp_path / "worker.log"))
        feed = base.replace("http://", "ws://") + "/ws/price_updates/"

        async def scenario() -> list[dict[str, Any]]:
            async with websockets.connect(feed) as ws:
                await asyncio.wait_for(next_of(ws, "snapshot"), WAIT)
                await ws.send(json.dumps({"action": "auth", "token": token}))
                await asyncio.wait_for(next_of(ws, "auth"), WAIT)
                # when: three ticks (the worker matches each after its commit) ...
                for slot in range(3):
                    await database_sync_to_async(tick_run)(slot=slot)
                # ... and then an alert that only a fourth tick crosses. Matches of different ticks
                # run side by side (two pool processes), so notices come in any order: wait for the
                # crossed alert's, the fill's and the fence's, then look for repeats among them.
                fence = await database_sync_to_async(watch)("below", "5.03")
                await database_sync_to_async(tick_run)(slot=3)
                told: list[dict[str, Any]] = []
                while not (
                    any(m.get("alert") == fence.id for m in told)
                    and any(m.get("alert") == crossed.id for m in told)
                    and any(m["type"] == "standing_order.filled" for m in told)
                ):
                    message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                    if message["type"] in ("alert", "standing_order.filled"):
                        told.append(message)
                return told

        told = run_async(scenario())
    # then: the crossed alert fired once, on the first price after it was created
    crossed.refresh_from_db()
    first_price = (
        Price.objects.filter(goods=goods, created_at__gt=crossed.created_at).order_by("created_at").first()
    )
    assert first_price is not None and first_price.source == "tick"
    assert crossed.price_id == first_price.id
    assert crossed.value == quantize(first_price.amount * D("0.5"), 2) <= D("5.03")
    assert [m for m in told if m["type"] == "alert" and m["alert"] == crossed.id] == [
        {
            "type": "alert",
            "alert": crossed.id,
            "goods": goods.id,
            "currency": "EUR",
            "direction": "below",
            "price": "5.03",
            "value": f"{crossed.value:.2f}",
            "price_id": first_price.id,
            "triggered_at": crossed.triggered_at.isoformat(),
        }
    ]
    never.refresh_from_db()
    assert never.triggered_at is None
    # the standing order filled once, at or below its limit, with its line the newest price at the
    # order's creation; the others never
    filling.refresh_from_db()
    assert filling.status == "filled"
    order = Order.objects.get(user=shopper)
    assert filling.order_id == order.id
    (line,) = order.lines
    assert quantize(line.unit_price * order.exchange_rate, 2) <= D("5.03")
    assert line.quantity == 2
    assert order_invariant_violations() == (0, 0)
    (filled,) = [m for m in told if m["type"] == "standing_order.filled"]
    assert (filled["standing_order"], filled["order"], filled["quantity"]) == (filling.id, order.id, 2)
    assert D(filled["unit_price"]) <= D(filled["limit_price"]) == D("5.03")
    assert filled["order_sum"] == f"{order.order_sum:.2f}"
    assert {s.id: s.status for s in StandingOrder.objects.exclude(id=filling.id)} == {
        too_low.id: "open", cancelled.id: "cancelled", expired.id: "open",  # expired: the sweep closes it
    }  # fmt: skip
    assert Order.objects.count() == 1
