"""Goods as CSV/XLSX in the admin: export, import under the API's rules, all or nothing."""

import csv
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import tablib
from django.test import Client

from shop.catalog.models import Goods, Price
from shop.catalog.resources import DUPLICATE_ID, NO_SUCH_GOODS, NOT_BASE_CURRENCY, GoodsResource
from shop.catalog.services.prices import prices_record
from shop.tests.factories import GoodsFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/catalog/goods/import/"
EXPORT_URL = "/admin/catalog/goods/export/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # GoodsAdmin.formats, in order
HEADER = ["id", "name", "description", "is_active", "price", "currency"]
FIELDS = [f"goodsresource_{column}" for column in HEADER]  # the export form's checkboxes


def export(client: Client, file_format: str) -> bytes:
    response = client.post(
        EXPORT_URL, {"format": file_format, "resource": "0", **dict.fromkeys(FIELDS, "on")}
    )
    assert response.status_code == 200, response.content[:500]
    return response.content


def import_file(client: Client, content: bytes, name: str, file_format: str) -> object:
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(IMPORT_URL, {"format": file_format, "resource": "0", "import_file": upload})


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode()


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def history(goods: Goods) -> list[Decimal]:
    return list(
        Price.objects.filter(goods=goods).order_by("created_at", "id").values_list("amount", flat=True)
    )


def assert_current_price(goods: Goods, amount: Decimal) -> None:
    goods.refresh_from_db()
    newest = Price.objects.filter(goods=goods).order_by("-created_at", "-id").first()
    assert newest is not None and newest.amount == goods.price == amount
    assert goods.current_price_id == newest.id and goods.price_updated_at == newest.created_at


# --- export ------------------------------------------------------------------


def test_export_csv_gives_one_row_per_goods_with_its_current_price(admin_client: Client) -> None:
    # given
    priced = GoodsFactory(name="Lamp", description="Bright, warm", price="10.00")
    prices_record(amounts={priced.id: Decimal("12.30")}, source="manual")
    unpriced = GoodsFactory(name="Chair", description="", is_active=False)
    # when
    rows = csv_rows(export(admin_client, CSV_FORMAT))
    # then
    assert rows == [
        HEADER,
        [str(priced.id), "Lamp", "Bright, warm", "1", "12.30", "USD"],
        [str(unpriced.id), "Chair", "", "0", "", "USD"],
    ]


def test_export_escapes_cells_a_spreadsheet_would_run_as_formulas(admin_client: Client) -> None:
    # given
    names = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tTab", "'=quoted", "plain - text"]
    for name in names:
        GoodsFactory(name=name, description=name)
    # when
    csv_cells = [row[1:3] for row in csv_rows(export(admin_client, CSV_FORMAT))[1:]]
    sheet = openpyxl.load_workbook(io.BytesIO(export(admin_client, XLSX_FORMAT))).active
    # then
    expected = ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "'\tTab", "''=quoted", "plain - text"]
    assert csv_cells == [[e, e] for e in expected]
    xlsx_cells = list(sheet.iter_rows(min_row=2, min_col=2, max_col=2))
    assert [c[0].value for c in xlsx_cells] == expected
    assert {c[0].data_type for c in xlsx_cells} == {"s"}  # text, never a formula


def test_export_xlsx_keeps_numbers_and_booleans_native(admin_client: Client) -> None:
    # given
    goods = GoodsFactory(name="Lamp", description="", price="1234.50")
    # when
    sheet = openpyxl.load_workbook(io.BytesIO(export(admin_client, XLSX_FORMAT))).active
    # then
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows == [HEADER, [goods.id, "Lamp", None, True, 1234.5, "USD"]]  # an empty cell reads as None


# --- import ------------------------------------------------------------------


def test_import_csv_creates_goods_and_updates_one_with_prices_in_history(admin_client: Client) -> None:
    # given
    lamp = GoodsFactory(name="Lamp", description="Old", price="10.00")
    content = csv_bytes(
        [
            [str(lamp.id), "Lamp XL", "New", "0", "11.50", "USD"],
            ["", "Chair", "Oak", "1", "20.00", ""],
            ["", "Table", "", "", "30.5", "usd"],
            ["", "  Stool  ", "No price yet", "true", "", ""],
        ]
    )
    # when
    response = import_file(admin_client, content, "goods.csv", CSV_FORMAT)
    # then
    assert response.status_code == 302, response.content.decode()[-3000:]
    lamp.refresh_from_db()
    assert (lamp.name, lamp.description, lamp.is_active) == ("Lamp XL", "New", False)
    assert history(lamp) == [Decimal("10.00"), Decimal("11.50")]
    assert_current_price(lamp, Decimal("11.50"))
    created = {g.name: g for g in Goods.objects.exclude(pk=lamp.pk)}
    assert set(created) == {"Chair", "Table", "Stool"}
    assert (created["Chair"].description, created["Chair"].is_active) == ("Oak", True)
    assert created["Table"].is_active is True  # blank: the API's default
    for name, amount in (("Chair", "20.00"), ("Table", "30.50")):
        assert history(created[name]) == [Decimal(amount)]
        assert_current_price(created[name], Decimal(amount))
    assert history(created["Stool"]) == [] and created["Stool"].price is None
    assert set(Price.objects.values_list("source", flat=True)) == {"manual"}
    # one batch: the imported prices share one moment
    assert Price.objects.exclude(amount=Decimal("10.00")).values("created_at").distinct().count() == 1


def test_import_xlsx_updates_and_creates(admin_client: Client) -> None:
    # given: an exported sheet, edited in a spreadsheet
    lamp = GoodsFactory(name="Lamp", description="", price="10.00")
    book = openpyxl.load_workbook(io.BytesIO(export(admin_client, XLSX_FORMAT)))
    sheet = book.active
    sheet["E2"] = 9.99
    sheet.append([None, "=Chair", "From XLSX", False, 25, "USD"])  # a formula-looking name, typed as text
    sheet["B3"].data_type = "s"
    sheet.append([None, None, None, None, None, None])  # a blank row a spreadsheet leaves at the end
    out = io.BytesIO()
    book.save(out)
    # when
    response = import_file(admin_client, out.getvalue(), "goods.xlsx", XLSX_FORMAT)
    # then
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert history(lamp) == [Decimal("10.00"), Decimal("9.99")]
    assert_current_price(lamp, Decimal("9.99"))
    chair = Goods.objects.get(description="From XLSX")
    assert (chair.name, chair.is_active) == ("=Chair", False)
    assert_current_price(chair, Decimal("25.00"))


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_export_then_import_changes_nothing(admin_client: Client, file_format: str) -> None:
    # given
    names = ["=1+1", "'=quoted", "-5% off", 'Lamp, "big"']
    for i, name in enumerate(names):
        GoodsFactory(
            name=name, description=f"@{name}\nsecond line", price=f"{i + 1}.10", is_active=bool(i % 2)
        )
    before = list(
        Goods.objects.values_list("id", "name", "description", "is_active", "price", "current_price_id")
    )
    prices = Price.objects.count()
    content = export(admin_client, file_format)
    # when
    response = import_file(
        admin_client, content, "goods.csv" if file_format == CSV_FORMAT else "goods.xlsx", file_format
    )
    # then
    assert response.status_code == 302
    assert (
        list(Goods.objects.values_list("id", "name", "description", "is_active", "price", "current_price_id"))
        == before
    )
    assert Price.objects.count() == prices  # no history for unchanged prices
    assert cells(export(admin_client, file_format), file_format) == cells(content, file_format)


def cells(content: bytes, file_format: str) -> list[list[Any]]:
    """A file's cells (an XLSX file also carries its creation time, which no import changes)."""
    if file_format == CSV_FORMAT:
        return csv_rows(content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_a_bad_row_imports_nothing_and_the_page_names_every_bad_row(admin_client: Client) -> None:
    # given
    lamp = GoodsFactory(name="Lamp", description="", price="10.00")
    goods, prices = Goods.objects.count(), Price.objects.count()
    content = csv_bytes(
        [
            ["", "Chair", "", "1", "20.00", ""],  # good
            [str(lamp.id), "Lamp XL", "", "1", "-1", ""],  # price not > 0
            ["", "", "", "1", "5.00", ""],  # no name
            ["", "Table", "", "1", "12.345", ""],  # 3 decimals
            ["", "Vase", "", "1", "5.00", "EUR"],  # not the base currency
            ["999999", "Ghost", "", "1", "", ""],  # no such goods
            [str(lamp.id), "Lamp again", "", "1", "", ""],  # named twice
            ["abc", "Bad id", "", "maybe", "", ""],  # id and is_active invalid
            ["", "x" * 201, "", "1", "", ""],  # name too long
        ]
    )
    # when
    response = import_file(admin_client, content, "goods.csv", CSV_FORMAT)
    # then nothing is written
    assert response.status_code == 200
    assert (Goods.objects.count(), Price.objects.count()) == (goods, prices)
    lamp.refresh_from_db()
    assert lamp.name == "Lamp" and lamp.price == Decimal("10.00")
    # and every bad row is shown, with its number and its errors
    page = response.content.decode()
    bad_rows = re.findall(r"<tr>\s*<td>(\d+) </td>", page)
    assert bad_rows == ["2", "3", "4", "5", "6", "7", "8", "9"]
    for message in (
        "Ensure this value is greater than or equal to 0.01.",
        "This field may not be blank.",
        "Ensure that there are no more than 2 decimal places.",
        NOT_BASE_CURRENCY.format(base="USD"),
        NO_SUCH_GOODS.format(id=999999),
        DUPLICATE_ID.format(id=lamp.id, row=2),
        "A whole number from 1 to",
        "Ensure this field has no more than 200 characters.",
    ):
        assert message.replace('"', "&quot;").replace("'", "&#x27;") in page, message


def test_a_file_that_is_not_goods_imports_nothing(admin_client: Client) -> None:
    # when
    response = import_file(admin_client, b"\x00\x01 not a sheet", "goods.xlsx", XLSX_FORMAT)
    # then
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Goods.objects.exists()


# --- who may, and the pages under the CSP ------------------------------------


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_shoppers_are_sent_to_the_admin_login(url: str) -> None:
    client = Client()
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert (
        import_file(client, csv_bytes([["", "Chair", "", "1", "1.00", ""]]), "g.csv", CSV_FORMAT).status_code
        == 302
    )
    assert not Goods.objects.exists()


def test_staff_without_goods_permissions_get_403() -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True, permissions=[]))
    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(EXPORT_URL).status_code == 403
    assert (
        import_file(client, csv_bytes([["", "Chair", "", "1", "1.00", ""]]), "g.csv", CSV_FORMAT).status_code
        == 403
    )
    assert not Goods.objects.exists()


def assert_runs_under_the_csp(response: object) -> str:
    """The CSP is sent, and everything the page runs comes from a file."""
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "script-src 'self'" in response["Content-Security-Policy"]  # type: ignore[index]
    page = response.content.decode()  # type: ignore[attr-defined]
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", page), "an inline event handler, which the CSP blocks"
    return page


@pytest.mark.parametrize("url", ["/admin/catalog/goods/", IMPORT_URL, EXPORT_URL])
def test_the_goods_admin_pages_need_no_inline_script(admin_client: Client, url: str) -> None:
    page = assert_runs_under_the_csp(admin_client.get(url))
    if url == EXPORT_URL:
        assert "catalog/admin/export_select_all.js" in page and 'class="select-toggle"' in page


def test_the_import_errors_page_needs_no_inline_script(admin_client: Client) -> None:
    response = import_file(admin_client, csv_bytes([["", "", "", "1", "-1", ""]]), "goods.csv", CSV_FORMAT)
    assert "Some rows failed to validate" in assert_runs_under_the_csp(response)


def test_the_resource_itself_is_all_or_nothing_whoever_calls_it() -> None:
    """Not only the admin's one-step import: import_data asked to keep valid rows keeps none."""
    # given
    lamp = GoodsFactory(name="Lamp", description="", price="10.00")
    dataset = tablib.Dataset(
        [lamp.id, "Lamp XL", "", "1", "11.00", ""], ["", "", "", "1", "5.00", ""], headers=HEADER
    )
    # when
    result = GoodsResource().import_data(dataset, rollback_on_validation_errors=False)
    # then
    assert result.has_validation_errors() and [row.number for row in result.invalid_rows] == [2]
    lamp.refresh_from_db()
    assert lamp.name == "Lamp" and history(lamp) == [Decimal("10.00")]
    assert Goods.objects.count() == 1
