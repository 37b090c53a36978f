"""The goods detail's representation cache and its validators (ETag, If-None-Match, 304)."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shop.catalog import selectors
from shop.catalog.api import GOODS_DETAIL_PARAMETERS, GOODS_LIST_PARAMETERS, PRICE_LIST_PARAMETERS
from shop.catalog.services.goods import goods_delete, goods_update
from shop.catalog.services.prices import prices_record
from shop.core.cache import RepresentationCache, representations
from shop.currency.services import rate_create
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cold_cache() -> None:
    representations.clear()
    selectors._goods_counts.clear()


def get(client: APIClient, url: str, **headers: str) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, len(queries)


def test_a_repeated_read_is_served_from_the_cache_with_the_same_bytes(usd: Any) -> None:
    goods = GoodsFactory(price="10.00")
    client = APIClient()
    first, cold = get(client, f"/api/goods/{goods.id}/")
    second, warm = get(client, f"/api/goods/{goods.id}/")
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert warm < cold  # no history query, no serializer
    assert first["ETag"] == second["ETag"]
    assert first["Cache-Control"] == "no-cache"
    assert first.json()["price"] == "10.00"


def test_every_write_the_detail_shows_changes_its_representation(usd: Any) -> None:
    goods = GoodsFactory(price="10.00", name="Tea")
    client = APIClient()
    url = f"/api/goods/{goods.id}/"
    seen = {client.get(url)["ETag"]}

    prices_record(amounts={goods.id: Decimal("11.11")}, source="manual")
    body = client.get(url)
    assert (body.json()["price"], body.json()["prices"][0]["amount"]) == ("11.11", "11.11")
    seen.add(body["ETag"])

    goods_update(goods=goods, data={"name": "Green tea"})
    body = client.get(url)
    assert body.json()["name"] == "Green tea"
    seen.add(body["ETag"])

    sale = SaleFactory(goods=[goods])
    body = client.get(url)
    assert body.json()["sale"] == sale.id
    seen.add(body["ETag"])
    assert len(seen) == 4


def test_a_new_rate_changes_the_converted_detail(usd: Any) -> None:
    goods = GoodsFactory(price="10.00")
    CurrencyFactory(code="EUR", rate="0.50")
    client = APIClient()
    url = f"/api/goods/{goods.id}/?currency=EUR"
    assert client.get(url).json()["price"] == "5.00"
    rate_create(currency_code="EUR", rate=Decimal("0.25"), source="manual")
    assert client.get(url).json()["price"] == "2.50"
    assert client.get(f"/api/goods/{goods.id}/").json()["price"] == "10.00"


def test_if_none_match_gets_304_until_the_price_changes(usd: Any) -> None:
    goods = GoodsFactory(price="10.00")
    client = APIClient()
    url = f"/api/goods/{goods.id}/"
    etag = client.get(url)["ETag"]

    unchanged = client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304

    prices_record(amounts={goods.id: Decimal("12.00")}, source="manual")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["price"] == "12.00"
    assert changed["ETag"] != etag


def test_staff_and_shoppers_see_what_they_may(usd: Any, staff_user: Any) -> None:
    hidden = GoodsFactory(price="10.00", is_active=False)
    staff = APIClient()
    staff.force_authenticate(staff_user)
    assert staff.get(f"/api/goods/{hidden.id}/").status_code == 200  # cached for staff now
    response = APIClient().get(f"/api/goods/{hidden.id}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_browsable_api_still_renders_html(usd: Any) -> None:
    goods = GoodsFactory(price="10.00")
    response = APIClient().get(f"/api/goods/{goods.id}/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert b"<html" in response.content


def test_entries_the_retention_may_touch_are_not_served(usd: Any, settings: Any) -> None:
    settings.PRICE_HISTORY_RAW_DAYS = 1
    goods = GoodsFactory(price="10.00")
    with connection.cursor() as cursor:  # its only price is a day old: retention may drop it any moment
        cursor.execute("UPDATE catalog_price SET created_at = now() - interval '1 day 1 minute'")
    client = APIClient()
    _, cold = get(client, f"/api/goods/{goods.id}/")
    _, again = get(client, f"/api/goods/{goods.id}/")
    assert again == cold


def test_the_goods_list_and_history_pages_follow_every_new_price(usd: Any) -> None:
    goods = [GoodsFactory(price="10.00") for _ in range(3)]
    CurrencyFactory(code="EUR", rate="0.50")
    client = APIClient()
    pages = {
        "list": "/api/goods/?currency=EUR",
        "history": f"/api/prices/?goods={goods[0].id}",
    }
    etags = {name: client.get(url)["ETag"] for name, url in pages.items()}
    assert all(client.get(url, headers={"If-None-Match": etags[name]}).status_code == 304
               for name, url in pages.items())  # fmt: skip

    prices_record(amounts={goods[0].id: Decimal("20.00")}, source="manual")
    listed = client.get(pages["list"], headers={"If-None-Match": etags["list"]})
    assert listed.status_code == 200
    assert [row["price"] for row in listed.json()["results"]] == ["10.00", "5.00", "5.00"]
    history = client.get(pages["history"], headers={"If-None-Match": etags["history"]})
    assert history.status_code == 200
    assert [row["amount"] for row in history.json()["results"]] == ["20.00", "10.00"]
    # another page of the same rows is another representation
    assert client.get(pages["list"] + "&limit=1").json()["next"] is not None


def test_the_list_count_follows_every_change_to_the_set_of_goods(usd: Any, staff_user: Any) -> None:
    goods = [GoodsFactory(price="10.00") for _ in range(3)]
    staff, shopper = APIClient(), APIClient()
    staff.force_authenticate(staff_user)

    def counts() -> tuple[int, int]:
        return staff.get("/api/goods/").json()["count"], shopper.get("/api/goods/").json()["count"]

    _, cold = get(shopper, "/api/goods/?limit=2")
    _, warm = get(shopper, "/api/goods/?limit=2")
    assert warm < cold  # the count is kept for this version of the set of goods
    assert counts() == (3, 3)
    created = staff.post("/api/goods/", {"name": "New", "price": "1.00"}, format="json")
    assert created.status_code == 201
    assert counts() == (4, 4)
    goods_update(goods=goods[0], data={"is_active": False})
    assert counts() == (4, 3)
    staff.post("/api/goods/", [{"name": f"Bulk {i}", "price": "1.00"} for i in range(2)], format="json")
    assert counts() == (6, 5)
    assert staff.delete(f"/api/goods/{goods[1].id}/").status_code == 204
    assert counts() == (5, 4)
    with connection.cursor() as cursor:  # behind the services' back: the database still counts it
        cursor.execute(
            "INSERT INTO catalog_goods (name, description, is_active, created_at) VALUES ('Raw', '', true, now())"
        )
    assert counts() == (6, 5)
    # past the last page: no rows, the count still right
    assert shopper.get("/api/goods/?offset=100").json() == {
        "count": 5,
        "next": None,
        "previous": "http://testserver/api/goods/?limit=50&offset=50",
        "results": [],
    }


def test_a_goods_history_first_page_is_known_by_its_goods_row(usd: Any, staff_user: Any) -> None:
    goods = GoodsFactory(price="10.00")
    url = f"/api/prices/?goods={goods.id}"
    shopper = APIClient()
    _, cold = get(shopper, url)
    second, warm = get(shopper, url)
    assert warm == 1 < cold  # the goods row only
    assert [row["amount"] for row in second.json()["results"]] == ["10.00"]
    # hidden goods: the shopper's page empties at once, staff still see it
    goods_update(goods=goods, data={"is_active": False})
    assert shopper.get(url).json()["results"] == []
    staff = APIClient()
    staff.force_authenticate(staff_user)
    assert [row["amount"] for row in staff.get(url).json()["results"]] == ["10.00"]


def test_a_history_page_the_retention_may_touch_is_not_served(usd: Any, settings: Any) -> None:
    settings.PRICE_HISTORY_RAW_DAYS = 1
    goods = GoodsFactory(price="10.00")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_price SET created_at = now() - interval '1 day 1 minute'")
    client = APIClient()
    _, cold = get(client, f"/api/prices/?goods={goods.id}")
    _, again = get(client, f"/api/prices/?goods={goods.id}")
    assert again == cold


def test_the_history_of_hidden_goods_tells_shoppers_nothing(usd: Any, staff_user: Any) -> None:
    # given: goods hidden from shoppers, whose prices still move
    hidden = GoodsFactory(price="10.00", is_active=False)
    url = f"/api/prices/?goods={hidden.id}"
    shopper = APIClient()
    before = shopper.get(url)
    # when: it gets a new price
    prices_record(amounts={hidden.id: Decimal("11.00")}, source="manual")
    # then: the shopper's page, its validator included, is what it was
    after = shopper.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 304
    assert shopper.get(url).json() == before.json() == {"next": None, "previous": None, "results": []}
    # and it is the page of goods that do not exist at all
    goods_delete(goods=hidden)
    missing = shopper.get(url)
    assert (missing.json(), missing["ETag"]) == (before.json(), before["ETag"])
    # staff see its history, and it changes with it
    staff = APIClient()
    staff.force_authenticate(staff_user)
    shown = GoodsFactory(price="10.00", is_active=False)
    seen = staff.get(f"/api/prices/?goods={shown.id}")
    prices_record(amounts={shown.id: Decimal("11.00")}, source="manual")
    moved = staff.get(f"/api/prices/?goods={shown.id}", headers={"If-None-Match": seen["ETag"]})
    assert moved.status_code == 200
    assert [row["amount"] for row in moved.json()["results"]] == ["11.00", "10.00"]


def test_unknown_query_parameters_neither_add_entries_nor_change_the_answer(usd: Any) -> None:
    # given: the cached representations, each read once as its clients read it
    goods = [GoodsFactory(price="10.00") for _ in range(2)]
    CurrencyFactory(code="EUR", rate="0.50")
    client = APIClient()
    urls = [
        f"/api/goods/{goods[0].id}/?currency=EUR",
        "/api/goods/?currency=EUR&limit=1",
        f"/api/prices/?goods={goods[0].id}",
        f"/api/prices/?goods={goods[0].id}&limit=1",
    ]
    plain = {url: client.get(url) for url in urls}
    assert len(representations) == len(urls)
    # when: each is asked for with parameters the shop does not know, a new one each time
    for url, first in plain.items():
        for n in range(50):
            junk = client.get(f"{url}&junk{n}={n}&_={n}")
            # then: the same answer, links and validator included, from the same entry
            assert junk.status_code == 200
            assert (junk.content, junk["ETag"]) == (first.content, first["ETag"])
    assert len(representations) == len(urls)
    # the order of the known ones does not matter either
    reordered = client.get("/api/goods/?limit=1&currency=EUR")
    assert reordered.content == plain["/api/goods/?currency=EUR&limit=1"].content
    assert len(representations) == len(urls)
    # and the filters still filter: known parameters are kept
    assert client.get(f"/api/goods/?search={goods[1].name}&junk=1").json()["count"] == 1


def test_the_cache_is_bounded_in_bytes_whatever_the_number_of_entries(
    usd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: room for many entries but only 40 kB
    monkeypatch.setattr(representations, "max_bytes", 40_000)
    for n in range(60):
        GoodsFactory(price="10.00", name=f"Goods {n} " + "x" * 150)
    client = APIClient()
    # when: every page of every size is read (each a representation of its own, up to ~15 kB)
    sizes = []
    for limit in range(1, 61, 3):
        for offset in range(0, 60, 10):
            response = client.get(f"/api/goods/?limit={limit}&offset={offset}")
            assert response.status_code == 200
            sizes.append(len(response.content))
    # then: the cache keeps what fits, the newest first
    assert sum(sizes) > 10 * representations.max_bytes
    assert 0 < representations.bytes <= representations.max_bytes
    assert len(representations) < len(sizes)
    etag = client.get("/api/goods/?limit=58&offset=50")["ETag"]  # the last one read is kept
    assert representations.get(etag) is not None


def test_an_entry_larger_than_the_whole_cache_is_not_kept() -> None:
    cache = RepresentationCache(entries=10, max_bytes=1000)
    for key in range(5):
        cache.put(key, b"x" * 300)
    assert (len(cache), cache.bytes) == (3, 900)  # the oldest went first
    assert [cache.get(key) is not None for key in range(5)] == [False, False, True, True, True]
    cache.put("huge", b"x" * 1001)
    assert cache.get("huge") is None and (len(cache), cache.bytes) == (3, 900)
    cache.put(4, b"y" * 100)  # the same key again: counted once
    assert (len(cache), cache.bytes) == (3, 700)
    cache.clear()
    assert (len(cache), cache.bytes) == (0, 0)


def test_every_query_parameter_the_schema_documents_is_kept(schema: dict[str, Any]) -> None:
    # a filter added later and not kept would be dropped from cached reads without a word
    kept = {
        "/api/goods/": GOODS_LIST_PARAMETERS,
        "/api/goods/{id}/": GOODS_DETAIL_PARAMETERS,
        "/api/prices/": PRICE_LIST_PARAMETERS,
    }
    for path, names in kept.items():
        parameters = schema["paths"][path]["get"].get("parameters", [])
        documented = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
        assert documented and documented <= names, path
