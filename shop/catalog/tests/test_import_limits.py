"""Admin imports that cannot exhaust memory or hold up ticks: files checked before they are read
(size, an XLSX's declared dimension and unpacked size, rows, columns), rows written in chunks
that each lock only their own goods."""

import csv
import io
import re
import time
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import openpyxl
import psycopg
import pytest
import tablib
from django.test import Client
from pytest_django.fixtures import Settings

from shop.catalog import resources
from shop.catalog.models import Goods, Price
from shop.catalog.resources import (
    FILE_TOO_LARGE,
    GOODS_DELETED,
    TOO_MANY_COLUMNS,
    TOO_MANY_ROWS,
    XLSX_DIMENSION_TOO_LARGE,
    XLSX_UNPACKED_FACTOR,
    XLSX_UNPACKS_TOO_LARGE,
    GoodsResource,
)
from shop.catalog.services import goods as goods_services
from shop.catalog.services.prices import prices_record
from shop.tests import live
from shop.tests.factories import GoodsFactory

IMPORT_URL = "/admin/catalog/goods/import/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # GoodsAdmin's import formats, in order
HEADER = ["id", "name", "description", "is_active", "price", "currency"]


def import_file(client: Client, content: bytes, name: str, file_format: str) -> Any:
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(IMPORT_URL, {"format": file_format, "resource": "0", "import_file": upload})


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezip(
    content: bytes, change: Callable[[str, bytes], bytes], extra: dict[str, bytes] | None = None
) -> bytes:
    """The XLSX ``content`` with each part passed through ``change(name, data)``, plus ``extra``."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info.filename)))
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def sheet_xml(change: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda name, data: change(data) if name == "xl/worksheets/sheet1.xml" else data


def far_off_cell(xml: bytes, row: int) -> bytes:
    """The sheet with a cell in the last column (XFD) of row ``row``."""
    end = [m.start() for m in re.finditer(rb"</row>", xml)][row - 1]
    return xml[:end] + f'<c r="XFD{row}" t="inlineStr"><is><t>far</t></is></c>'.encode() + xml[end:]


def escaped(message: str) -> str:
    return message.replace("'", "&#x27;").replace('"', "&quot;")


def refused_with(response: Any, message: str) -> None:
    """The import page came back with ``message`` on the file field, and nothing was imported."""
    assert response.status_code == 200
    page = response.content.decode()
    assert "errorlist" in page
    assert escaped(message) in page, re.findall(r"errorlist.{0,400}", page)
    assert not Goods.objects.exists()


# --- files refused before they are read ---------------------------------------------------


def test_an_xlsx_declaring_the_whole_sheet_is_refused_before_it_is_read(admin_client: Client) -> None:
    # given: a few KB whose dimension declares every cell a sheet can have
    content = rezip(
        xlsx_bytes([["", "Chair", "", "1", "20.00", ""]]),
        sheet_xml(lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml)),
    )
    assert len(content) < 10_000
    # when
    started = time.monotonic()
    response = import_file(admin_client, content, "goods.xlsx", XLSX_FORMAT)
    # then: refused at once (the reader would pad 1,048,576 rows of 16,384 cells), saying why
    assert time.monotonic() - started < 10
    refused_with(
        response,
        XLSX_DIMENSION_TOO_LARGE.format(
            rows=1_048_576, columns=16_384, ref="A1:XFD1048576", max_rows=100_000, max_columns=50
        ),
    )


def test_an_xlsx_without_a_dimension_is_still_read_within_bounds(
    admin_client: Client, settings: Settings
) -> None:
    # given: no dimension, more rows than allowed, and a far-off cell in one of them
    settings.IMPORT_MAX_ROWS = 5
    rows = [["", f"Goods {i}", "", "1", "1.00", ""] for i in range(6)]
    content = rezip(
        xlsx_bytes(rows), sheet_xml(lambda xml: far_off_cell(re.sub(rb"<dimension [^>]*/>", b"", xml), 2))
    )
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    # when / then: refused by the rows it has
    refused_with(
        import_file(admin_client, content, "goods.xlsx", XLSX_FORMAT), TOO_MANY_ROWS.format(max_rows=5)
    )


def test_an_xlsx_header_with_a_far_off_cell_is_refused(admin_client: Client) -> None:
    content = rezip(
        xlsx_bytes([["", "Chair", "", "1", "20.00", ""]]),
        sheet_xml(lambda xml: far_off_cell(re.sub(rb"<dimension [^>]*/>", b"", xml), 1)),
    )
    refused_with(
        import_file(admin_client, content, "goods.xlsx", XLSX_FORMAT),
        TOO_MANY_COLUMNS.format(row=1, columns=16_384, max_columns=50),
    )


def test_an_xlsx_that_unpacks_to_too_much_is_refused(admin_client: Client, settings: Settings) -> None:
    # given: a small file with a part that unpacks to far more than it weighs
    settings.IMPORT_MAX_BYTES = 20_000
    content = rezip(xlsx_bytes([]), lambda name, data: data, extra={"xl/media/padding.bin": b"\0" * 400_000})
    assert len(content) < settings.IMPORT_MAX_BYTES
    unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(content)).infolist())
    # when / then
    refused_with(
        import_file(admin_client, content, "goods.xlsx", XLSX_FORMAT),
        XLSX_UNPACKS_TOO_LARGE.format(
            size=unpacked, limit=20_000 * XLSX_UNPACKED_FACTOR, factor=XLSX_UNPACKED_FACTOR
        ),
    )


@pytest.mark.parametrize(("name", "file_format"), [("goods.csv", CSV_FORMAT), ("goods.xlsx", XLSX_FORMAT)])
def test_an_oversized_file_is_refused_before_it_is_read(
    admin_client: Client, settings: Settings, name: str, file_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a file one byte over the limit
    rows = [["", f"Goods {i}", "x" * 50, "1", "1.00", ""] for i in range(100)]
    content = csv_bytes(rows) if file_format == CSV_FORMAT else xlsx_bytes(rows)
    settings.IMPORT_MAX_BYTES = len(content) - 1
    read: list[Any] = []
    monkeypatch.setattr(tablib, "import_set", lambda *args, **kwargs: read.append(args))
    # when
    response = import_file(admin_client, content, name, file_format)
    # then: refused by the form, the file never parsed
    refused_with(response, FILE_TOO_LARGE.format(size=len(content), limit=len(content) - 1))
    assert read == []


def test_a_csv_with_more_rows_than_allowed_is_refused(admin_client: Client, settings: Settings) -> None:
    settings.IMPORT_MAX_ROWS = 5
    content = csv_bytes([["", f"Goods {i}", "", "1", "1.00", ""] for i in range(6)])
    refused_with(
        import_file(admin_client, content, "goods.csv", CSV_FORMAT), TOO_MANY_ROWS.format(max_rows=5)
    )


def test_a_csv_with_a_wide_row_is_refused(admin_client: Client) -> None:
    # given: a header of 1,000 columns (a few KB), which tablib would pad every row to
    content = csv_bytes([["", "Chair", "", "1", "1.00", ""]], header=HEADER + [""] * 994)
    refused_with(
        import_file(admin_client, content, "goods.csv", CSV_FORMAT),
        TOO_MANY_COLUMNS.format(row=1, columns=1000, max_columns=50),
    )


@pytest.mark.parametrize(("name", "file_format"), [("goods.csv", CSV_FORMAT), ("goods.xlsx", XLSX_FORMAT)])
def test_a_file_at_the_limits_imports(
    admin_client: Client, settings: Settings, name: str, file_format: str
) -> None:
    settings.IMPORT_MAX_ROWS = 5
    rows = [["", f"Goods {i}", "", "1", "1.00", "USD"] for i in range(5)]
    content = csv_bytes(rows) if file_format == CSV_FORMAT else xlsx_bytes(rows)
    settings.IMPORT_MAX_BYTES = len(content)
    response = import_file(admin_client, content, name, file_format)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Goods.objects.count() == 5


# --- written in chunks, each holding only its own locks ---------------------------------------


@pytest.fixture
def chunks_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "MAX_BULK_GOODS", 2)


def unlocked(ids: list[int]) -> set[int]:
    """Which of these goods another connection (a tick, an order) can lock right now."""
    with psycopg.connect(live.test_database_url(), autocommit=False) as other:
        rows = other.execute(
            "SELECT id FROM catalog_goods WHERE id = ANY(%s) FOR UPDATE SKIP LOCKED", [ids]
        ).fetchall()
        other.rollback()
    return {row[0] for row in rows}


@pytest.fixture
def watch_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], set[int]]]:
    """Each write of goods fields: the goods it writes, and which goods were free meanwhile."""
    seen: list[tuple[list[int], set[int]]] = []
    real = goods_services.goods_update_many

    def watched(*, goods: Any) -> None:
        seen.append(([g.pk for g in goods], unlocked(list(Goods.objects.values_list("id", flat=True)))))
        real(goods=goods)

    monkeypatch.setattr(goods_services, "goods_update_many", watched)
    return seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chunks_of_two")
def test_each_chunk_locks_only_its_own_goods(
    usd: Any, watch_writes: list[tuple[list[int], set[int]]], admin_client: Client
) -> None:
    # given: five goods, a file that renames them all and reprices them
    goods = [GoodsFactory(name=f"Old {i}", price="10.00") for i in range(5)]
    ids = [g.id for g in goods]
    content = csv_bytes([[str(g.id), f"New {i}", "", "1", "11.00", ""] for i, g in enumerate(goods)])
    # when: staff import it in the admin
    response = import_file(admin_client, content, "goods.csv", CSV_FORMAT)
    # then: written in chunks of two, and while a chunk is written every other goods is free
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert [written for written, _ in watch_writes] == [ids[0:2], ids[2:4], ids[4:5]]
    for written, free in watch_writes:
        assert free == set(ids) - set(written)
    assert sorted(Goods.objects.values_list("name", flat=True)) == [f"New {i}" for i in range(5)]
    # one batch of prices per chunk, each the goods' current price
    assert Price.objects.filter(amount=Decimal("11.00")).values("created_at").distinct().count() == 3
    assert set(Goods.objects.values_list("price", flat=True)) == {Decimal("11.00")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("chunks_of_two")
def test_a_goods_deleted_meanwhile_stops_the_import_at_its_chunk(
    usd: Any, monkeypatch: pytest.MonkeyPatch, admin_client: Client
) -> None:
    # given: five goods; while the first chunk is written, the fourth goods is deleted
    goods = [GoodsFactory(name=f"Old {i}", price="10.00") for i in range(5)]
    real = goods_services.goods_update_many

    def meanwhile(*, goods: Any) -> None:
        Goods.objects.filter(pk=victim.pk).delete()
        real(goods=goods)

    victim = goods[3]
    monkeypatch.setattr(goods_services, "goods_update_many", meanwhile)
    content = csv_bytes([[str(g.id), f"New {i}", "", "1", "", ""] for i, g in enumerate(goods)])
    # when
    response = import_file(admin_client, content, "goods.csv", CSV_FORMAT)
    # then: the chunks before it are written, its chunk and the ones after are not, and the page says so
    assert response.status_code == 200
    names = dict(Goods.objects.values_list("id", "name"))
    assert [names.get(g.id) for g in goods] == ["New 0", "New 1", "Old 2", None, "Old 4"]
    message = GOODS_DELETED.format(id=victim.id, first=3, last=4, last_written=2)
    assert escaped(message) in response.content.decode()


@pytest.mark.django_db
def test_a_row_is_compared_with_its_goods_as_its_chunk_finds_them(
    usd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick between the check and the write: the file's price is the goods' price then, as it
    was when the whole file held its locks from the start."""
    # given: a re-imported export, and a tick that reprices the goods after the check
    lamp = GoodsFactory(name="Lamp", description="", price="10.00")
    real = GoodsResource.write_planned

    def tick_first(self: GoodsResource, result: Any, **kwargs: Any) -> None:
        prices_record(amounts={lamp.id: Decimal("12.00")}, source="tick")
        real(self, result, **kwargs)

    monkeypatch.setattr(GoodsResource, "write_planned", tick_first)
    dataset = tablib.Dataset([lamp.id, "Lamp", "", "1", "10.00", "USD"], headers=HEADER)
    # when
    result = GoodsResource().import_data(dataset)
    # then
    assert not result.has_errors()
    lamp.refresh_from_db()
    assert lamp.price == Decimal("10.00")
    newest = Price.objects.filter(goods=lamp).order_by("-created_at", "-id").first()
    assert newest is not None and (newest.amount, newest.source) == (Decimal("10.00"), "manual")
