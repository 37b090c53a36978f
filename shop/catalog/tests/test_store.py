"""The catalog's store modules, the one home of its SQL (docs/architecture.md): each rule written
both in SQL and for the ORM gives one answer, and the row versions and append-only history the
database keeps hold for every writer. Run on PostgreSQL and on SQLite (embedded mode)."""

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import shop.catalog
from shop.catalog.api import goods_version
from shop.catalog.goods_store import RUNNING_SALE_SQL, OrmGoodsStore, goods_store, running_sale_q
from shop.catalog.history_store import history_store
from shop.catalog.models import Goods, Price, Sale
from shop.catalog.price_store import price_store
from shop.catalog.selectors import goods_list
from shop.catalog.services.goods import goods_update, goods_update_many
from shop.catalog.services.prices import prices_record
from shop.catalog.services.sales import sale_reprice, sale_update
from shop.catalog.stock_store import StockRow
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db

POSTGRESQL = pytest.mark.skipif("connection.vendor != 'postgresql'")


def running_by_sql(sale_ids: list[int], at: object) -> set[int]:
    """The sales among ``sale_ids`` that RUNNING_SALE_SQL finds running at ``at``."""
    listed = ", ".join(str(int(sale)) for sale in sale_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id FROM catalog_sale s WHERE s.id IN ({listed}) AND {RUNNING_SALE_SQL}",  # noqa: S608
            {"now": connection.ops.adapt_datetimefield_value(at)},
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_running_sale_rule_gives_one_answer_in_sql_the_orm_and_python() -> None:
    # given: sales of every kind of window around now, its edges included
    now = timezone.now()
    moments = (None, now - timedelta(hours=1), now, now + timedelta(hours=1))
    sales = [
        Sale.objects.create(
            name="S", min_price=1, max_price=2, is_active=active, starts_at=starts, ends_at=ends
        )
        for active in (True, False)
        for starts in moments
        for ends in (*moments, now + timedelta(hours=2))
        if starts is None or ends is None or ends > starts
    ]
    ids = [sale.id for sale in sales]
    # when: each way of running the rule says which are running now
    in_python = {sale.id for sale in sales if sale.is_running_at(now)}
    in_orm = set(Sale.objects.filter(running_sale_q(now), id__in=ids).values_list("id", flat=True))
    in_sql = running_by_sql(ids, now)
    # then: the same ones, some but not all
    assert in_python == in_orm == in_sql
    assert 0 < len(in_python) < len(sales)
    started_now = next(s for s in sales if s.is_active and s.starts_at == now and s.ends_at is None)
    ended_now = next(s for s in sales if s.is_active and s.starts_at is None and s.ends_at == now)
    assert started_now.id in in_sql and ended_now.id not in in_sql


def test_each_store_is_the_one_of_this_database() -> None:
    postgres = connection.vendor == "postgresql"
    assert type(goods_store()).__name__ == ("PostgresGoodsStore" if postgres else "OrmGoodsStore")
    assert type(price_store()).__name__ == ("PostgresPriceStore" if postgres else "OrmPriceStore")
    assert history_store().partitioned is postgres


def goods_read(goods: Goods | None) -> tuple[object, ...] | None:
    if goods is None:
        return None
    return (goods.id, goods.name, goods.version, goods.running_sale_id, goods.running_sale_version)  # type: ignore[attr-defined]


def test_the_goods_stores_read_what_goods_list_reads() -> None:
    # given: goods in a running sale, goods in none, hidden goods
    in_sale, idle, hidden = GoodsFactory(price="1.00"), GoodsFactory(), GoodsFactory(is_active=False)
    sale = SaleFactory(goods=[in_sale, hidden])
    SaleFactory(goods=[idle], is_active=False)
    stores = [goods_store(), OrmGoodsStore()]  # on PostgreSQL: its own, and the ORM's to agree with
    for store in stores:
        for shown_all in (False, True):
            listed = goods_list(include_inactive=shown_all).order_by("id")
            # when / then: a detail is a goods of goods_list, a page its slice and count
            for goods in (in_sale, idle, hidden):
                expected = goods_read(listed.filter(pk=goods.pk).first())
                assert goods_read(store.detail(goods_id=goods.pk, include_inactive=shown_all)) == expected
            page, count = store.page(limit=2, offset=0, include_inactive=shown_all)
            assert [goods_read(g) for g in page] == [goods_read(g) for g in listed[:2]]
            assert count == listed.count()
    detail = goods_store().detail(goods_id=in_sale.pk, include_inactive=False)
    assert detail is not None
    assert (detail.running_sale_id, detail.running_sale_version) == (sale.id, sale.version)  # type: ignore[attr-defined]


def test_a_page_s_versions_are_those_of_the_goods_the_page_reads() -> None:
    # given: goods in a running sale, goods in none, hidden goods, in no order of kind
    in_sale, idle, hidden, other = (
        GoodsFactory(price="1.00"),
        GoodsFactory(),
        GoodsFactory(is_active=False),
        GoodsFactory(price="2.00"),
    )
    SaleFactory(goods=[in_sale, hidden, other])
    for store in (goods_store(), OrmGoodsStore()):
        for shown_all in (False, True):
            for limit, offset in ((2, 0), (2, 1), (50, 0), (2, 10)):
                # when: a page's versions are read alone
                versions, count = store.page_versions(limit=limit, offset=offset, include_inactive=shown_all)
                # then: they are what the page's representation is keyed on, and its count
                page, page_count = store.page(limit=limit, offset=offset, include_inactive=shown_all)
                assert versions == [goods_version(goods) for goods in page]
                assert count == page_count
    assert [v[0] for v in goods_store().page_versions(limit=9, offset=0, include_inactive=False)[0]] == [
        in_sale.pk,
        idle.pk,
        other.pk,
    ]


def version_of(model: type[Goods] | type[Sale], pk: int) -> int:
    return model.objects.values_list("version", flat=True).get(pk=pk)


def sql(statement: str, *params: object) -> Callable[[], None]:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    return run


def test_every_update_of_a_goods_row_moves_its_version_on_whoever_writes_it() -> None:
    # given: a goods in a running sale
    goods = GoodsFactory(price="1.00")
    sale = SaleFactory(goods=[goods], min_price=Decimal("1.00"), max_price=Decimal("9.00"))
    stale = Goods.objects.get(pk=goods.pk)  # read now, saved after others wrote

    def goods_set_back() -> None:
        stale.name = "Stale"
        stale.save()  # writes every column, the version it read among them

    writes: dict[str, Callable[[], object]] = {
        "the service": lambda: goods_update(goods=Goods.objects.get(pk=goods.pk), data={"name": "B"}),
        "the import": lambda: goods_update_many(
            goods=[Goods(pk=goods.pk, name="C", description="", is_active=True)]
        ),
        "a price": lambda: prices_record(amounts={goods.pk: Decimal("2.00")}, source="manual"),
        "a tick's draw": lambda: sale_reprice(sale=sale, source="tick"),
        "a queryset": lambda: Goods.objects.filter(pk=goods.pk).update(description="D"),
        "plain SQL": sql("UPDATE catalog_goods SET created_at = created_at WHERE id = %s", goods.pk),
        "the version set back": sql("UPDATE catalog_goods SET version = 1 WHERE id = %s", goods.pk),
        "a stale instance": goods_set_back,
    }
    seen = [version_of(Goods, goods.pk)]
    for name, write in writes.items():
        # when
        write()
        # then: a version the row never had
        seen.append(version_of(Goods, goods.pk))
        assert seen[-1] > max(seen[:-1]), name


def test_every_update_of_a_sale_row_moves_its_version_on() -> None:
    sale = SaleFactory()
    seen = [version_of(Sale, sale.pk)]
    for write in (
        lambda: sale_update(sale=Sale.objects.get(pk=sale.pk), data={"name": "Renamed"}),
        sql("UPDATE catalog_sale SET ends_at = NULL WHERE id = %s", sale.pk),
        sql("UPDATE catalog_sale SET version = 0 WHERE id = %s", sale.pk),
    ):
        write()
        seen.append(version_of(Sale, sale.pk))
        assert seen[-1] > max(seen[:-1])


def test_the_database_refuses_to_change_a_price() -> None:
    goods = GoodsFactory(price="1.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Price.objects.filter(goods=goods).update(amount=Decimal("2.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("UPDATE catalog_price SET created_at = created_at")()
    assert Price.objects.get(goods=goods).amount == Decimal("1.00")
    # deleting goods still takes their history
    Goods.objects.filter(pk=goods.pk).delete()
    assert not Price.objects.filter(goods_id=goods.pk).exists()


# What only a store may do in shop/catalog (tests and migrations aside).
SQL_OUTSIDE_STORES = re.compile(
    r"from django\.db import [^\n]*\bconnections?\b|\bRawSQL\b|\.raw\(|\.cursor\(|\.vendor\b|\bconnection\."
)


def test_sql_lives_in_the_catalog_store_modules_only() -> None:
    root = Path(shop.catalog.__file__).parent
    found = [
        f"{path.relative_to(root)}: {match.group()}"
        for path in sorted(root.rglob("*.py"))
        if not {"tests", "migrations"} & set(path.relative_to(root).parts) and "store" not in path.name
        for match in SQL_OUTSIDE_STORES.finditer(path.read_text())
    ]
    assert found == []
    assert {path.name for path in root.glob("*store*.py")} == {
        "goods_store.py",
        "history_store.py",
        "price_store.py",
        "stock_store.py",
    }


def test_the_goods_stores_write_many_goods_alike_their_stock_only_when_asked() -> None:
    for store in (goods_store(), OrmGoodsStore()):  # on PostgreSQL: its own, and the ORM's to agree with
        # given: a tracked and an untracked goods, changed in hand
        a, b = GoodsFactory(name="A"), GoodsFactory(name="B")
        Goods.objects.filter(pk=a.pk).update(stock=5, reserved=1)
        a.refresh_from_db()
        a.name, a.stock, b.is_active, b.stock = "A2", 7, False, 3
        # when: written without their stock
        rows = store.update_many([b, a])
        # then: the goods columns are, the stock is not; each row as it is now, in id order
        stored = Goods.objects.filter(pk__in=[a.pk, b.pk]).order_by("id")
        assert list(stored.values_list("name", "is_active", "stock")) == [("A2", True, 5), ("B", False, None)]
        assert rows == [StockRow(*row) for row in stored.values_list("id", "stock", "reserved", "version")]
        # when: written with it, a count or None
        a.stock, b.stock = None, 3
        rows = store.update_many([a, b], stock=True)
        # then
        assert list(stored.values_list("stock", flat=True)) == [None, 3]
        assert rows == [StockRow(*row) for row in stored.values_list("id", "stock", "reserved", "version")]
        assert [row.reserved for row in rows] == [1, 0]
