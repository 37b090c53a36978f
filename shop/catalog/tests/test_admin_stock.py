"""Staff set stock in the admin (SPEC §13): the goods form and the CSV/XLSX import, both through
the stock service's semantics (the row locked, the change announced, never below 0)."""

import csv
import io
import re
from collections.abc import Callable
from typing import Any
from unittest import mock

import openpyxl
import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from shop.catalog.models import Goods
from shop.catalog.services import goods as goods_services
from shop.catalog.services.stock import STOCK_BELOW_ZERO, STOCK_NOT_NEGATIVE
from shop.catalog.stock_store import StockRow
from shop.core.errors import Conflict
from shop.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db

GOODS = "/admin/catalog/goods/"
IMPORT_URL = f"{GOODS}import/"
EXPORT_URL = f"{GOODS}export/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # GoodsAdmin.formats, in order
HEADER = ["id", "name", "description", "is_active", "price", "currency", "stock"]
FIELDS = [f"goodsresource_{column}" for column in HEADER]  # the export form's checkboxes


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """``with committed():`` what the test's transaction holds back runs as a commit would run it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def goods_with(stock: int | None, *, reserved: int = 0, **fields: Any) -> Goods:
    goods: Goods = GoodsFactory(**{"description": "", **fields})
    Goods.objects.filter(pk=goods.pk).update(stock=stock, reserved=reserved)
    goods.refresh_from_db()
    return goods


def level(goods: Goods) -> tuple[int, int | None, int, int]:
    """The goods' row as a StockRow holds it: id, stock, reserved, version."""
    return Goods.objects.values_list("id", "stock", "reserved", "version").get(pk=goods.pk)


def goods_form(goods: Goods | None = None, **fields: Any) -> dict[str, Any]:
    """The goods change form as a browser posts it: with the stock the page showed
    (``initial-stock``, GoodsForm) and, unless given, posted back as shown."""
    shown = "" if goods is None or goods.stock is None else str(goods.stock)
    data = {
        "name": goods.name if goods else "Lamp",
        "description": goods.description if goods else "",
        "is_active": "on",
        "stock": shown,
        "initial-stock": shown,
        **fields,
    }
    return {name: value for name, value in data.items() if value is not None}


def form_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    form = response.context["adminform"].form
    return {field or "__all__": list(messages) for field, messages in form.errors.items()}


# --- the goods form ------------------------------------------------------------


def test_stock_set_on_the_goods_page_goes_through_the_stock_service(
    superuser: Client, announced: list[StockRow], committed: Any
) -> None:
    # given: a goods whose stock is not tracked
    lamp = goods_with(None, name="Lamp")
    before = level(lamp)
    # when: staff count 5 units
    with (
        committed(),
        mock.patch.object(goods_services, "goods_stock_set", wraps=goods_services.goods_stock_set) as spy,
    ):
        response = superuser.post(f"{GOODS}{lamp.pk}/change/", goods_form(lamp, stock="5"))
    # then: set by goods_stock_set, the row's version moved on, the new level announced
    assert response.status_code == 302, form_errors(response)
    spy.assert_called_once()
    assert spy.call_args.kwargs["stock"] == 5
    after = level(lamp)
    assert after[1] == 5 and after[3] > before[3]
    assert announced == [StockRow(*after)]
    # when: staff empty the field: no longer tracked
    with committed():
        response = superuser.post(
            f"{GOODS}{lamp.pk}/change/", goods_form(Goods.objects.get(pk=lamp.pk), stock="")
        )
    assert response.status_code == 302, form_errors(response)
    assert level(lamp)[1] is None and announced[-1].stock is None


def test_a_negative_stock_is_refused_on_the_page_and_nothing_is_written(
    superuser: Client, announced: list[StockRow], committed: Any
) -> None:
    lamp = goods_with(4, name="Lamp")
    before = level(lamp)
    with committed():
        response = superuser.post(f"{GOODS}{lamp.pk}/change/", goods_form(lamp, stock="-1", name="Renamed"))
    assert form_errors(response) == {"stock": [STOCK_NOT_NEGATIVE]}
    assert level(lamp) == before and Goods.objects.get(pk=lamp.pk).name == "Lamp"
    assert announced == [] and not LogEntry.objects.exists()


def test_the_stock_service_s_refusal_is_shown_on_the_stock_field(superuser: Client) -> None:
    lamp = goods_with(4, name="Lamp")
    refusal = Conflict(STOCK_BELOW_ZERO, code="stock_below_zero")
    with mock.patch.object(goods_services, "goods_stock_set", side_effect=refusal):
        response = superuser.post(f"{GOODS}{lamp.pk}/change/", goods_form(lamp, stock="2", name="Renamed"))
    assert form_errors(response) == {"stock": [STOCK_BELOW_ZERO]}
    assert Goods.objects.get(pk=lamp.pk).name == "Lamp"  # the whole POST rolled back


def test_a_page_opened_before_an_order_took_units_does_not_put_them_back(
    superuser: Client, announced: list[StockRow], committed: Any
) -> None:
    # given: staff open the page at 5 units; an order takes 2 meanwhile
    lamp = goods_with(5, name="Lamp")
    shown = goods_form(lamp)
    Goods.objects.filter(pk=lamp.pk).update(stock=3)
    # when: they save a new name, the stock as the page showed it
    with committed(), mock.patch.object(goods_services, "goods_stock_set") as stock_set:
        response = superuser.post(f"{GOODS}{lamp.pk}/change/", {**shown, "name": "Desk lamp"})
    # then: the name is written, the stock left as the order left it
    assert response.status_code == 302, form_errors(response)
    stock_set.assert_not_called()
    assert Goods.objects.values_list("name", "stock").get(pk=lamp.pk) == ("Desk lamp", 3)
    assert announced == []


def test_goods_added_with_a_stock_track_it(superuser: Client) -> None:
    response = superuser.post(f"{GOODS}add/", goods_form(stock="7"))
    assert response.status_code == 302, form_errors(response)
    assert Goods.objects.values_list("name", "stock").get() == ("Lamp", 7)


def test_available_is_shown_read_only_in_the_list_and_on_the_page(superuser: Client) -> None:
    # given: tracked with units held by carts, sold out, not tracked
    held = goods_with(5, reserved=2, name="Held")
    sold_out = goods_with(1, reserved=1, name="Gone")
    untracked = goods_with(None, name="Air")
    # when / then: the list shows stock and available, and filters on them
    listed = superuser.get(GOODS)
    assert listed.status_code == 200
    rows = {g.pk: g for g in listed.context["cl"].result_list}
    assert {pk: (g.stock, g.available) for pk, g in rows.items()} == {
        held.pk: (5, 3),
        sold_out.pk: (1, 0),
        untracked.pk: (None, None),
    }
    page = listed.content.decode()
    assert "column-available" in page and "not tracked" in page
    for value, expected in (
        ("tracked", {held, sold_out}),
        ("untracked", {untracked}),
        ("sold_out", {sold_out}),
    ):
        assert set(superuser.get(GOODS, {"stock": value}).context["cl"].result_list) == expected, value
    # the page shows available, and posting it changes nothing
    detail = superuser.get(f"{GOODS}{held.pk}/change/")
    # (the stock the page shows goes back with the form: GoodsForm writes it only when changed)
    assert re.search(r'<input type="hidden" name="initial-stock" value="5"', detail.content.decode())
    assert "available" in detail.context["adminform"].readonly_fields
    assert "available" not in detail.context["adminform"].form.fields
    response = superuser.post(f"{GOODS}{held.pk}/change/", goods_form(held, available="100"))
    assert response.status_code == 302, form_errors(response)
    assert level(held)[1:3] == (5, 2)


# --- import and export ---------------------------------------------------------


def export(client: Client, file_format: str) -> bytes:
    response = client.post(
        EXPORT_URL, {"format": file_format, "resource": "0", **dict.fromkeys(FIELDS, "on")}
    )
    assert response.status_code == 200, response.content[:500]
    return response.content


def import_file(client: Client, content: bytes, name: str, file_format: str) -> Any:
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(IMPORT_URL, {"format": file_format, "resource": "0", "import_file": upload})


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_export_has_a_stock_column_empty_when_not_tracked(admin_client: Client) -> None:
    lamp = goods_with(5, reserved=2, name="Lamp", description="")
    air = goods_with(None, name="Air", description="")
    assert csv_rows(export(admin_client, CSV_FORMAT)) == [
        HEADER,
        [str(lamp.pk), "Lamp", "", "1", "", "USD", "5"],
        [str(air.pk), "Air", "", "1", "", "USD", ""],
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(export(admin_client, XLSX_FORMAT))).active
    assert [[c.value for c in row][6] for row in sheet.iter_rows()] == ["stock", 5, None]


def test_a_file_without_a_stock_column_leaves_every_stock_alone(
    admin_client: Client, announced: list[StockRow], committed: Any
) -> None:
    # given: tracked and untracked goods; a file of the six older columns renames them
    lamp, air = goods_with(5, name="Lamp"), goods_with(None, name="Air")
    content = csv_bytes(
        HEADER[:6],
        [
            [str(lamp.pk), "Lamp XL", "", "1", "", ""],
            [str(air.pk), "Air XL", "", "1", "", ""],
            ["", "New", "", "1", "", ""],
        ],
    )
    # when
    with committed():
        response = import_file(admin_client, content, "goods.csv", CSV_FORMAT)
    # then: renamed, their stock as it was; the new goods do not track stock
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert dict(Goods.objects.values_list("name", "stock")) == {"Lamp XL": 5, "Air XL": None, "New": None}
    assert announced == []


def test_a_stock_column_sets_each_stock_an_empty_cell_meaning_not_tracked(
    admin_client: Client, announced: list[StockRow], committed: Any
) -> None:
    # given
    counted, started, stopped, same = (
        goods_with(5, name="Counted"),
        goods_with(None, name="Started"),
        goods_with(4, reserved=1, name="Stopped"),
        goods_with(2, name="Same"),
    )
    versions = {g.pk: level(g)[3] for g in (counted, started, stopped, same)}
    content = csv_bytes(
        HEADER,
        [
            [str(counted.pk), "Counted", "", "1", "", "", "8"],
            [str(started.pk), "Started", "", "1", "", "", "3"],
            [str(stopped.pk), "Stopped", "", "1", "", "", " "],
            [str(same.pk), "Same", "", "1", "", "", "2"],
            ["", "New", "", "1", "", "", "6"],
            ["", "New, untracked", "", "1", "", "", ""],
        ],
    )
    # when
    with committed():
        response = import_file(admin_client, content, "goods.csv", CSV_FORMAT)
    # then: each stock as its cell says
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert dict(Goods.objects.values_list("name", "stock")) == {
        "Counted": 8, "Started": 3, "Stopped": None, "Same": 2, "New": 6, "New, untracked": None,
    }  # fmt: skip
    # the changed rows moved their version on and were announced, as they are now; the same one
    # was not written
    changed = [counted, started, stopped]
    assert sorted(announced) == sorted(StockRow(*level(g)) for g in changed)
    assert all(level(g)[3] > versions[g.pk] for g in changed)
    assert level(same)[3] == versions[same.pk]


def test_a_bad_stock_cell_imports_nothing(
    admin_client: Client, announced: list[StockRow], committed: Any
) -> None:
    lamp = goods_with(5, name="Lamp")
    content = csv_bytes(
        HEADER,
        [
            [str(lamp.pk), "Lamp", "", "1", "", "", "9"],  # good
            ["", "Chair", "", "1", "", "", "-1"],  # below 0
            ["", "Desk", "", "1", "", "", "2.5"],  # not whole
            ["", "Rug", "", "1", "", "", "many"],
        ],
    )
    with committed():
        response = import_file(admin_client, content, "goods.csv", CSV_FORMAT)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ensure this value is greater than or equal to 0." in page
    assert page.count("A valid integer is required.") == 2
    assert list(Goods.objects.values_list("name", "stock")) == [("Lamp", 5)]
    assert announced == []


def test_an_xlsx_stock_column_is_read_as_numbers(admin_client: Client) -> None:
    # given: an exported sheet, its counts edited in a spreadsheet (which may write 7.0 for 7)
    lamp, air = goods_with(5, name="Lamp", description=""), goods_with(None, name="Air", description="")
    book = openpyxl.load_workbook(io.BytesIO(export(admin_client, XLSX_FORMAT)))
    sheet = book.active
    sheet["G2"], sheet["G3"] = 7.0, 0
    out = io.BytesIO()
    book.save(out)
    # when
    response = import_file(admin_client, out.getvalue(), "goods.xlsx", XLSX_FORMAT)
    # then
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert dict(Goods.objects.values_list("id", "stock")) == {lamp.pk: 7, air.pk: 0}


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_export_then_import_with_stock_changes_nothing(
    admin_client: Client, announced: list[StockRow], committed: Any, file_format: str
) -> None:
    goods = [goods_with(5, reserved=1, name="Lamp"), goods_with(None, name="Air"), goods_with(0, name="Gone")]
    before = [level(g) for g in goods]
    content = export(admin_client, file_format)
    name = f"goods.{'csv' if file_format == CSV_FORMAT else 'xlsx'}"
    with committed():
        response = import_file(admin_client, content, name, file_format)
    assert response.status_code == 302
    assert [level(g) for g in goods] == before and announced == []
