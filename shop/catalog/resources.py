"""Goods as CSV and XLSX in the admin (django-import-export).

Columns: ``id, name, description, is_active, price, currency, stock`` — what export writes and
import reads, so an exported file imports back unchanged. ``price`` is the current price in the
base currency and ``currency`` names it. ``stock`` is the units in stock (SPEC §13), empty when
they are not tracked.

Stock is optional in a file, and its column decides: a file without a ``stock`` column leaves
every goods' stock as it is (and creates goods whose stock is not tracked); in a file with one,
each row sets its goods' stock to its cell, an empty cell meaning "not tracked" (as export writes
it). So a file that only renames goods should leave the column out: a stock column exported an
hour ago would set back what orders took since. A stock is a whole number from 0 to MAX_STOCK,
checked as the API checks it; it is written as ``goods_stock_set`` writes it (the goods' row
locked, each changed level announced once its chunk commits), by ``goods_update_many``.

Import follows the API's rules: name, description and is_active are validated by the API's
goods serializer, the price by the API's manual-price amount rule (> 0, at most 2 decimals, base
currency: the API converts no input amount, so neither does import). A row with an ``id``
updates that goods, a row without one creates goods.

A file is looked at before it is read (``GoodsCSV``, ``GoodsXLSX``): at most IMPORT_MAX_BYTES,
IMPORT_MAX_ROWS rows and MAX_COLUMNS columns, an XLSX's declared dimension and unpacked size
included, so a small file cannot make the reader build a huge table.

Then every row is validated, without a lock and without a write: one bad row and nothing is
written, and every bad row is reported. Only then are the rows written, in chunks of
MAX_BULK_GOODS rows, each in a transaction of its own that locks just that chunk's goods (FOR
UPDATE, in id order, as ticks lock them) for as long as the chunk takes: an import of 100,000
goods never holds up a tick or an order for more than one chunk. Each row is compared with its
goods as the chunk finds them, and only what differs is written; changed prices go through
``prices_record``, one batch per chunk, so history and the current price stay in agreement and
re-importing an export adds no history. A chunk that fails (one of its goods deleted since the
check, the database gone) is rolled back and writing stops there: the chunks before it stay
written, and the page says from which row on nothing was.

Text cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage
return) are exported with a leading ``'``; import takes that ``'`` off again.
"""

import csv
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openpyxl
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import Error, Result
from rest_framework import serializers
from tablib import Dataset

from shop.catalog.api import GoodsSerializer, amount_field
from shop.catalog.models import Goods, Price
from shop.catalog.services import goods as goods_services
from shop.catalog.services.goods import MAX_BULK_GOODS
from shop.catalog.services.prices import prices_record
from shop.core.db_store import statistics_refresh
from shop.core.ids import INVALID_ID, parse_id

logger = logging.getLogger(__name__)

COLUMNS = ("id", "name", "description", "is_active", "price", "currency", "stock")
TEXT_COLUMNS = ("name", "description")
NOT_BASE_CURRENCY = "Prices are imported in the base currency ({base})."
NO_SUCH_GOODS = "No goods with id {id}; leave id empty to create goods."
DUPLICATE_ID = "Goods {id} is also in row {row}."

# What a file may be. The goods file has 7 columns; a few more (notes) are ignored, not refused.
MAX_COLUMNS = 50
# An XLSX is a zip: its parts may unpack to at most this many times IMPORT_MAX_BYTES (an export
# of 100,000 goods is 3 MB packed, 37 MB unpacked); they are read as a stream, never held whole.
XLSX_UNPACKED_FACTOR = 8
FILE_TOO_LARGE = "The file is {size:,} bytes; at most {limit:,} bytes (IMPORT_MAX_BYTES) are imported."
XLSX_UNPACKS_TOO_LARGE = (
    "The XLSX file unpacks to {size:,} bytes; at most {limit:,} bytes are read (IMPORT_MAX_BYTES × {factor})."
)
XLSX_DIMENSION_TOO_LARGE = (
    "The sheet declares {rows:,} rows × {columns:,} columns ({ref}); at most {max_rows:,} rows "
    "(IMPORT_MAX_ROWS) and {max_columns} columns are imported. Delete the empty rows and columns "
    "below and beside the data (or copy the data to a new sheet) and save it again."
)
TOO_MANY_ROWS = (
    "The file has more than {max_rows:,} rows (IMPORT_MAX_ROWS); split it into files of at most "
    "that many rows."
)
TOO_MANY_COLUMNS = "Row {row} has {columns:,} columns; at most {max_columns} are imported."
GOODS_DELETED = (
    "Goods {id} was deleted while the file was imported. Rows up to {last_written} were "
    "imported; this row's chunk (rows {first} to {last}) and the rows after it were not."
)
WRITE_FAILED = (
    "Writing rows {first} to {last} failed ({error}). Rows up to {last_written} were imported; "
    "these rows and the rows after them were not."
)


class ImportRefused(ValueError):
    """A file refused before its rows are read; the message says why (the admin shows it)."""


def max_import_rows() -> int:
    return int(settings.IMPORT_MAX_ROWS)


def import_size_check(size: int) -> None:
    limit = int(settings.IMPORT_MAX_BYTES)
    if size > limit:
        raise ImportRefused(FILE_TOO_LARGE.format(size=size, limit=limit))


class GoodsImportForm(ImportForm):
    """The admin's import form: an oversized file is refused before it is read."""

    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        try:
            import_size_check(upload.size)
        except ImportRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return upload


def _csv_rows_check(text: str) -> None:
    """Counts the rows and columns before tablib builds the table (which pads every row to the
    widest): a few bytes per row or per column would otherwise make millions of cells."""
    rows, max_rows = 0, max_import_rows() + 1  # the header too
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue  # tablib skips blank lines
        rows += 1
        if rows > max_rows:
            raise ImportRefused(TOO_MANY_ROWS.format(max_rows=max_rows - 1))
        if len(row) > MAX_COLUMNS:
            raise ImportRefused(TOO_MANY_COLUMNS.format(row=rows, columns=len(row), max_columns=MAX_COLUMNS))


class GoodsCSV(CSV):
    """CSV, its size and shape checked before the dataset is built."""

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Dataset:
        import_size_check(len(in_stream))
        text = in_stream.decode(self.encoding or "utf-8") if isinstance(in_stream, bytes) else in_stream
        _csv_rows_check(text)
        return super().create_dataset(text, **kwargs)


class GoodsXLSX(XLSX):
    """XLSX, its size, unpacked size, declared dimension and rows checked before (and while) its
    first sheet is read; never more than IMPORT_MAX_ROWS rows × the header's columns are made."""

    def create_dataset(self, in_stream: Any) -> Dataset:
        import_size_check(len(in_stream))
        unpacked_limit = int(settings.IMPORT_MAX_BYTES) * XLSX_UNPACKED_FACTOR
        with zipfile.ZipFile(io.BytesIO(in_stream)) as archive:
            # The sizes the zip declares bind: its reader stops at them (and checks the CRC).
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > unpacked_limit:
            raise ImportRefused(
                XLSX_UNPACKS_TOO_LARGE.format(
                    size=unpacked, limit=unpacked_limit, factor=XLSX_UNPACKED_FACTOR
                )
            )
        book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        try:
            return _sheet_dataset(book.active)
        finally:
            book.close()


def _sheet_dataset(sheet: Any) -> Dataset:
    max_rows = max_import_rows()
    declared_rows, declared_columns = sheet.max_row, sheet.max_column  # None: no dimension given
    if (declared_rows or 0) > max_rows + 1 or (declared_columns or 0) > MAX_COLUMNS:
        raise ImportRefused(
            XLSX_DIMENSION_TOO_LARGE.format(
                rows=declared_rows or 0,
                columns=declared_columns or 0,
                ref=sheet.calculate_dimension(),
                max_rows=max_rows,
                max_columns=MAX_COLUMNS,
            )
        )
    # Rows and columns bounded whatever the sheet declares: the reader pads up to these. The
    # header is one row (at most 16,384 cells): its last cell sets the width.
    header = list(next(sheet.iter_rows(max_row=1, values_only=True), ()))
    while header and header[-1] is None:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise ImportRefused(TOO_MANY_COLUMNS.format(row=1, columns=len(header), max_columns=MAX_COLUMNS))
    dataset = Dataset(headers=header)
    if not header:
        return dataset
    rows = sheet.iter_rows(min_row=2, max_row=max_rows + 2, max_col=len(header), values_only=True)
    for count, row in enumerate(rows, 1):
        if count > max_rows:
            raise ImportRefused(TOO_MANY_ROWS.format(max_rows=max_rows))
        dataset.append(list(row))
    return dataset


# A cell a spreadsheet takes for a formula; with any quotes before it, so that escaping is
# undone exactly (a name that really starts with "'=" keeps its quote through a round trip).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED_FORMULA = re.compile(r"'+[=+\-@\t\r]")


def formula_escape(text: str) -> str:
    return "'" + text if _FORMULA.match(text) else text


def formula_unescape(text: str) -> str:
    return text[1:] if _ESCAPED_FORMULA.match(text) else text


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def row_id(value: object) -> int | None:
    """An id cell as an id: text or a whole number (XLSX may give 7.0 for 7)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip()
    return parse_id(value)


class TextWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        return formula_unescape(value if isinstance(value, str) else str(value))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return formula_escape("" if value is None else str(value))


class IdWidget(widgets.Widget):
    """Plain digits in CSV (no locale's grouping); a number in XLSX. Ids and counts (stock)."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else str(value)


class PriceWidget(widgets.Widget):
    """Plain text with 2 decimals in CSV (no locale's grouping); a number in XLSX."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else f"{value:.2f}"


class GoodsRowSerializer(GoodsSerializer):
    """One imported row: the API's goods fields (stock included), plus the price as staff post it
    to /api/prices/."""

    price = amount_field(required=False)
    currency = serializers.CharField(required=False)

    class Meta(GoodsSerializer.Meta):
        fields = ("name", "description", "is_active", "price", "currency", "stock")
        read_only_fields = ()

    def validate_currency(self, value: str) -> str:
        base = str(settings.BASE_CURRENCY)
        if value.strip().upper() != base:
            raise serializers.ValidationError(NOT_BASE_CURRENCY.format(base=base))
        return base


class GoodsInstanceLoader(BaseInstanceLoader):
    """Loads every goods the file names, a chunk of ids per query, without a lock: rows are
    checked against these, and each chunk's goods are locked and read again when it is written."""

    def __init__(self, resource: Any, dataset: Dataset | None = None) -> None:
        super().__init__(resource, dataset)
        ids: list[int] = []
        if dataset is not None and dataset.headers and "id" in dataset.headers:
            ids = sorted({i for i in map(row_id, dataset["id"]) if i is not None})
        self.goods: dict[int, Goods] = {}
        for start in range(0, len(ids), MAX_BULK_GOODS):
            self.goods.update(Goods.objects.in_bulk(ids[start : start + MAX_BULK_GOODS]))

    def get_instance(self, row: Any) -> Goods | None:
        goods_id = row_id(row.get("id"))
        return None if goods_id is None else self.goods.get(goods_id)


@dataclass
class PlannedRow:
    """A valid row, to be written once every row is: what the file says its goods should be."""

    number: int
    instance: Goods  # the admin's log entries name it; a new goods gets its pk when written
    values: dict[str, Any]
    price: Decimal | None


class GoodsDeleted(Exception):
    def __init__(self, planned: PlannedRow) -> None:
        super().__init__(planned.instance.pk)
        self.planned = planned


class GoodsResource(resources.ModelResource):
    id = fields.Field(attribute="id", column_name="id", widget=IdWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    description = fields.Field(attribute="description", column_name="description", widget=TextWidget())
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget())
    # Read by import_instance, never set on the model: a price is written by prices_record only.
    price = fields.Field(attribute="price", column_name="price", widget=PriceWidget(), readonly=True)
    currency = fields.Field(column_name="currency", readonly=True)
    # Read by import_instance when the file has the column (the module's docstring).
    stock = fields.Field(attribute="stock", column_name="stock", widget=IdWidget())

    class Meta:
        model = Goods
        fields = COLUMNS
        import_id_fields = ("id",)
        instance_loader_class = GoodsInstanceLoader
        skip_diff = True  # the admin imports without a preview step
        # Rows are validated one by one and written afterwards, in chunks (import_data): no
        # savepoint, no INSERT per row, no transaction around the whole file.
        use_bulk = True
        batch_size = MAX_BULK_GOODS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned: list[PlannedRow] = []  # the valid rows, in the file's order
        self.row_of: dict[int, int] = {}  # goods id -> the row that names it
        self.row_number = 0
        self.with_stock = False  # the file has a stock column: its rows set their goods' stock
        # One serializer for new goods and one for changes, their fields built once and reused
        # for every row (building them per row cost more than the rest of the import).
        self.checkers = {new: GoodsRowSerializer(partial=not new) for new in (True, False)}

    def dehydrate_currency(self, goods: Goods) -> str:
        return str(settings.BASE_CURRENCY)

    def import_data(
        self, dataset: Dataset, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any
    ) -> Result:
        """Check every row, then (no bad row, not a dry run) write them chunk by chunk, whoever
        calls: the check writes nothing, so one bad row leaves everything as it was."""
        kwargs.update(use_transactions=False, rollback_on_validation_errors=True)
        result = super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)
        result.diff_headers = list(dataset.headers or [])  # the columns of the bad rows shown
        if not dry_run and not (result.has_errors() or result.has_validation_errors()):
            self.write_planned(result, raise_errors=raise_errors)
        return result

    def write_planned(self, result: Result, *, raise_errors: bool = False) -> None:
        written = 0
        for start in range(0, len(self.planned), MAX_BULK_GOODS):
            chunk = self.planned[start : start + MAX_BULK_GOODS]
            first, last = chunk[0].number, chunk[-1].number
            last_written = self.planned[start - 1].number if start else 0
            try:
                self._write_chunk(chunk)
            except GoodsDeleted as deleted:
                message = GOODS_DELETED.format(
                    id=deleted.planned.instance.pk, first=first, last=last, last_written=last_written
                )
                self._write_stopped(result, message, raise_errors)
                return
            except Exception as exc:
                logger.exception("goods import: rows %d to %d not written", first, last)
                message = WRITE_FAILED.format(
                    first=first, last=last, error=type(exc).__name__, last_written=last_written
                )
                self._write_stopped(result, message, raise_errors)
                return
            written += len(chunk)
        logger.info("goods import: %d rows written in chunks of %d", written, MAX_BULK_GOODS)
        statistics_refresh(
            tables=[Goods._meta.db_table]
        )  # a big import changes what the planner should expect

    def _write_stopped(self, result: Result, message: str, raise_errors: bool) -> None:
        """The page lists it among the import's errors (it names its rows itself)."""
        error = ImportRefused(message)
        result.append_base_error(Error(error))
        if raise_errors:
            raise error

    @transaction.atomic
    def _write_chunk(self, chunk: list[PlannedRow]) -> None:
        """One chunk: its goods locked in id order (as ticks lock them), compared as they are
        now, and only what differs written: goods fields, new goods, one batch of prices."""
        ids = sorted(p.instance.pk for p in chunk if p.instance.pk is not None)
        current = {g.pk: g for g in Goods.objects.filter(id__in=ids).order_by("id").select_for_update()}
        changed: list[Goods] = []
        prices: dict[int, Decimal] = {}
        new: list[PlannedRow] = []
        for planned in chunk:
            if planned.instance.pk is None:
                new.append(planned)
                continue
            goods = current.get(planned.instance.pk)
            if goods is None:
                raise GoodsDeleted(planned)
            differs = {k: v for k, v in planned.values.items() if getattr(goods, k) != v}
            if differs:
                for name, value in differs.items():
                    setattr(goods, name, value)
                changed.append(goods)
            if planned.price is not None and planned.price != goods.price:
                prices[goods.pk] = planned.price
        stock = {"stock": True} if self.with_stock else {}  # the file's stock column, if any
        goods_services.goods_update_many(goods=changed, **stock)
        created = goods_services.goods_create_many(goods=[p.values for p in new])
        for planned, goods in zip(new, created, strict=True):
            planned.instance.pk, planned.instance.created_at = goods.pk, goods.created_at
            if planned.price is not None:
                prices[goods.pk] = planned.price
        if prices:
            prices_record(amounts=prices, source=Price.Source.MANUAL)

    def before_import(self, dataset: Dataset, **kwargs: Any) -> None:
        # Headers as written by hand: " Name" is name. Blank rows at the end (XLSX keeps
        # formatted empty rows) are not goods.
        dataset.headers = [str(h).strip().lower() if h is not None else "" for h in dataset.headers or []]
        self.with_stock = "stock" in dataset.headers
        while len(dataset) and all(blank(v) for v in dataset[-1]):
            del dataset[-1]

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        self.row_number = kwargs.get("row_number", 0)

    def get_or_init_instance(self, instance_loader: Any, row: Any) -> tuple[Goods, bool]:
        raw = row.get("id")
        if blank(raw):
            return Goods(), True
        goods_id = row_id(raw)
        if goods_id is None:
            raise DjangoValidationError({"id": INVALID_ID})
        if goods_id in self.row_of:
            raise DjangoValidationError({"id": DUPLICATE_ID.format(id=goods_id, row=self.row_of[goods_id])})
        self.row_of[goods_id] = self.row_number
        goods = instance_loader.get_instance(row)
        if goods is None:
            raise DjangoValidationError({"id": NO_SUCH_GOODS.format(id=goods_id)})
        return goods, False

    def import_instance(self, instance: Goods, row: Any, **kwargs: Any) -> None:
        """Validates the row as the API would and sets what changed on ``instance``."""
        new = instance.pk is None
        data: dict[str, Any] = {c: self.fields[c].clean(row) for c in TEXT_COLUMNS if c in row}
        data.update({c: row[c] for c in ("is_active", "price", "currency") if c in row and not blank(row[c])})
        if self.with_stock:  # an empty cell: not tracked
            data["stock"] = None if blank(row.get("stock")) else row["stock"]
        try:
            values = dict(self.checkers[new].run_validation(data))
        except serializers.ValidationError as e:
            detail = e.detail if isinstance(e.detail, dict) else {"__all__": e.detail}
            raise DjangoValidationError(
                {f: [str(m) for m in messages] for f, messages in detail.items()}
            ) from None
        price: Decimal | None = values.pop("price", None)
        values.pop("currency", None)
        # What the row changes as the goods are now (the page's counts); the write compares again.
        instance.import_changes = {k: v for k, v in values.items() if new or getattr(instance, k) != v}  # type: ignore[attr-defined]
        instance.import_price = price if price is not None and (new or price != instance.price) else None  # type: ignore[attr-defined]
        for name, value in values.items():
            setattr(instance, name, value)
        self.planned.append(PlannedRow(self.row_number, instance, values, price))

    def skip_row(
        self, instance: Goods, original: Any, row: Any, import_validation_errors: Any = None
    ) -> bool:
        """An unchanged row (re-importing an export) writes nothing."""
        if import_validation_errors or instance.pk is None:
            return False
        return (
            not getattr(instance, "import_changes", None) and getattr(instance, "import_price", None) is None
        )

    def save_instance(self, instance: Goods, is_create: bool, row: Any, **kwargs: Any) -> None:
        """Nothing yet: the rows are written after all of them are checked (write_planned)."""

    def after_import(self, dataset: Dataset, result: Result, **kwargs: Any) -> None:
        """Nothing. ModelResource's own after_import is left out on purpose: it resets the id
        sequence to max(id), which hands out an id twice when another transaction has taken a
        higher one and not committed yet; import never sets an id, so nothing needs it."""
