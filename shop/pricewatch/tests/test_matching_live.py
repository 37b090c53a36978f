"""Matching with real processes (SPEC §15): a real Celery worker matches what a tick committed,
two workers matching the same batch fill each standing order once."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.utils import timezone

from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.catalog.services.stock import goods_stock_set
from shop.orders.models import Order
from shop.pricewatch.models import Alert, StandingOrder
from shop.pricewatch.services.matching import MATCH_TASK
from shop.pricewatch.services.watches import alert_create, standing_order_create
from shop.tests.factories import GoodsFactory, UserFactory
from shop.tests.invariant import order_invariant_violations, stock_invariant_violations
from shop.tests.live import celery, service_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

D = Decimal


@contextmanager
def workers(count: int, tmp_path: Path) -> Iterator[list[Path]]:
    """``count`` Celery worker processes (two pool processes each) on this test's database; their
    e-mails go to files in ``tmp_path / "mail"``."""
    logs = [tmp_path / f"worker{n}.log" for n in range(count)]
    env = service_env(EMAIL_URL=f"filemail://{tmp_path / 'mail'}")
    with ExitStack() as stack:
        for log in logs:
            stack.enter_context(celery("worker", env, log))
        yield logs


def mails(tmp_path: Path, subject: str) -> int:
    """E-mails written so far whose subject starts with ``subject``."""
    folder = tmp_path / "mail"
    found = [path.read_text() for path in folder.iterdir()] if folder.exists() else []
    return sum(f"Subject: {subject}" in text for text in found)


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
    with workers(2, tmp_path) as logs:
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
            raise AssertionError("\n".join(log.read_text()[-2000:] for log in logs)) from None
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
