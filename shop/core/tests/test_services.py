"""``model_update``: the allow-list, only changed fields written, ``full_clean`` before the write."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.catalog.models import Goods, Sale
from shop.core.services import model_update
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db

GOODS_FIELDS = ["name", "description", "is_active"]


def updates_of(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def test_writes_the_changed_fields_only() -> None:
    # given
    goods = GoodsFactory(name="Kettle", description="Boils.", is_active=True)
    # when
    with CaptureQueriesContext(connection) as queries:
        updated, changed = model_update(
            instance=goods, fields=GOODS_FIELDS, data={"name": "Teapot", "description": "Boils."}
        )
    # then
    assert changed is True
    assert updated is goods
    [update] = updates_of(queries)
    assert '"name"' in update
    assert '"description"' not in update
    assert Goods.objects.get(pk=goods.pk).name == "Teapot"


def test_nothing_changed_writes_nothing() -> None:
    goods = GoodsFactory(name="Kettle")
    with CaptureQueriesContext(connection) as queries:
        _, changed = model_update(
            instance=goods, fields=GOODS_FIELDS, data={"name": "Kettle", "is_active": True}
        )
    assert changed is False
    assert queries.captured_queries == []


def test_keys_outside_the_allow_list_are_ignored() -> None:
    # given: a goods with a price, which only prices_record writes
    goods = GoodsFactory(name="Kettle", price="10.00")
    # when
    _, changed = model_update(instance=goods, fields=GOODS_FIELDS, data={"price": Decimal("1.00")})
    # then
    assert changed is False
    goods.refresh_from_db()
    assert goods.price == Decimal("10.00")


def test_a_name_that_is_no_field_is_refused() -> None:
    goods = GoodsFactory()
    with pytest.raises(ValueError, match="colour is not a field of Goods"):
        model_update(instance=goods, fields=["colour"], data={"colour": "red"})


def test_full_clean_runs_before_the_write() -> None:
    goods = GoodsFactory(name="Kettle")
    with pytest.raises(ValidationError) as caught:
        model_update(instance=goods, fields=GOODS_FIELDS, data={"name": "x" * 201})
    assert "name" in caught.value.message_dict
    assert Goods.objects.get(pk=goods.pk).name == "Kettle"


def test_full_clean_checks_the_model_constraints() -> None:
    sale = SaleFactory(min_price=Decimal("10.00"), max_price=Decimal("20.00"))
    with pytest.raises(ValidationError):
        model_update(instance=sale, fields=["max_price"], data={"max_price": Decimal("5.00")})
    assert Sale.objects.get(pk=sale.pk).max_price == Decimal("20.00")


def test_many_to_many_fields_are_set_when_their_ids_differ() -> None:
    a, b = GoodsFactory(), GoodsFactory()
    sale = SaleFactory(goods=[a])
    _, changed = model_update(instance=sale, fields=["goods"], data={"goods": [a, b]})
    assert changed is True
    assert set(sale.goods.values_list("id", flat=True)) == {a.id, b.id}
    # the same goods again (as ids this time): nothing changes
    _, changed = model_update(instance=sale, fields=["goods"], data={"goods": [b.id, a.id]})
    assert changed is False
