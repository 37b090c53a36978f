"""Stock on the storefront's pages as Django renders them (SPEC §13); the feed keeps them live
(test_browser_stock.py)."""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shop.storefront.tests.test_views import config_of
from shop.storefront.views import stock_note
from shop.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db


def row_of(html: str, goods_id: int) -> str:
    start = html.index(f'data-goods="{goods_id}"')
    return html[start : html.index("</li>", start)]


@pytest.mark.parametrize(
    ("available", "state", "text"),
    [
        (None, "", ""),
        (0, "out", "Sold out"),
        (1, "low", "Only 1 left"),
        (5, "low", "Only 5 left"),
        (6, "in", ""),
    ],
)
def test_stock_note_follows_low_stock_at(available: int | None, state: str, text: str) -> None:
    note = stock_note(available)
    assert (note["state"], note["text"]) == (state, text)


def test_the_board_says_only_n_left_and_sold_out(client: Client, usd: Any, settings: Any) -> None:
    # given: LOW_STOCK_AT 5; goods with 2 left, none left, plenty, 3 of 4 held by carts, untracked
    settings.LOW_STOCK_AT = 5
    few = GoodsFactory(name="Few", price="1.00", stock=2)
    gone = GoodsFactory(name="Gone", price="1.00", stock=0)
    plenty = GoodsFactory(name="Plenty", price="1.00", stock=50)
    held = GoodsFactory(name="Held", price="1.00", stock=4, reserved=3)
    untracked = GoodsFactory(name="Untracked", price="1.00")
    # when
    html = client.get("/").content.decode()
    # then
    assert ">Only 2 left</p>" in row_of(html, few.id)
    assert 'data-available="2" data-state="low"' in row_of(html, few.id)
    assert ">Only 1 left</p>" in row_of(html, held.id)
    # a sold-out goods stays listed, its button disabled
    assert ">Sold out</p>" in row_of(html, gone.id)
    assert '<button type="button" class="add" disabled>Add to cart</button>' in row_of(html, gone.id)
    for calm in (plenty, untracked):
        assert re.search(r'class="stock" data-available="\d*" data-state="(in)?"></p>', row_of(html, calm.id))
        assert '<button type="button" class="add">Add to cart</button>' in row_of(html, calm.id)
    config = config_of(html)
    assert config["lowStockAt"] == 5
    assert config["orderCancelSeconds"] == settings.ORDER_CANCEL_SECONDS
    assert config["serverNow"]


def test_the_board_reads_stock_without_a_query_per_goods(client: Client, usd: Any) -> None:
    for n in range(3):
        GoodsFactory(price="1.00", stock=n)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for n in range(10):
        GoodsFactory(price="1.00", stock=n)
    with CaptureQueriesContext(connection) as more:
        client.get("/")
    assert len(more) == len(few)


def test_the_goods_page_says_sold_out_and_disables_add_to_cart(client: Client, usd: Any) -> None:
    gone = GoodsFactory(name="Gone", price="1.00", stock=0)
    few = GoodsFactory(name="Few", price="1.00", stock=3)
    html = client.get(f"/goods/{gone.id}/").content.decode()
    assert re.search(r'id="stock" aria-live="polite" data-available="0" data-state="out">Sold out</p>', html)
    assert '<button type="submit" class="primary add" disabled>Add to cart</button>' in html
    html = client.get(f"/goods/{few.id}/").content.decode()
    assert ">Only 3 left</p>" in html
    assert '<button type="submit" class="primary add">Add to cart</button>' in html
    assert config_of(html)["lowStockAt"] == 5
