"""shop.catalog.services.prices: every price goes into the history and becomes the current one."""

from decimal import Decimal

import pytest

from shop.catalog.errors import CatalogErrorCode
from shop.catalog.models import Goods, Price
from shop.catalog.services.prices import price_create_manual, prices_draw, prices_record
from shop.core.errors import ValidationError
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the batch is published after commit

D = Decimal


def test_prices_record_appends_and_makes_current() -> None:
    a, b = GoodsFactory(), GoodsFactory()
    batch = prices_record(amounts={b.id: D("2.50"), a.id: D("1.25")}, source=Price.Source.MANUAL)
    assert len(batch) == 2
    for goods, amount in ((a, D("1.25")), (b, D("2.50"))):
        goods.refresh_from_db()
        price = Price.objects.get(goods=goods)
        assert (goods.price, goods.current_price_id, goods.price_updated_at) == (
            amount,
            price.id,
            price.created_at,
        )


def test_prices_record_refuses_a_price_not_above_zero() -> None:
    goods = GoodsFactory(price="1.00")
    with pytest.raises(ValidationError) as caught:
        prices_record(amounts={goods.id: D("0.00")}, source=Price.Source.MANUAL)
    assert caught.value.code == CatalogErrorCode.PRICE_NOT_POSITIVE
    assert Goods.objects.get(pk=goods.pk).price == D("1.00")


def test_price_create_manual() -> None:
    goods = GoodsFactory()
    price = price_create_manual(goods=goods, amount=D("9.99"))
    assert Price.objects.get(pk=price.pk).amount == D("9.99")
    assert Goods.objects.get(pk=goods.pk).price == D("9.99")


def test_prices_draw_stays_within_each_sales_bounds() -> None:
    cheap, dear = (
        SaleFactory(min_price=D("1.00"), max_price=D("2.00")),
        SaleFactory(min_price=D("50.00"), max_price=D("60.00")),
    )
    a, b = GoodsFactory(), GoodsFactory()
    bounds = {cheap.id: (cheap.min_price, cheap.max_price), dear.id: (dear.min_price, dear.max_price)}
    batch = prices_draw(
        goods_sales=[(a.id, cheap.id), (b.id, dear.id)], bounds=bounds, source=Price.Source.TICK
    )
    assert len(batch) == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert D("1.00") <= a.price <= D("2.00")
    assert D("50.00") <= b.price <= D("60.00")
    assert Price.objects.get(goods=b).sale_id == dear.id
