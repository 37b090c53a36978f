"""Goods as CSV and XLSX in the admin (django-import-export).

Columns: ``id, name, description, is_active, price, currency`` — what export writes and import
reads, so an exported file imports back unchanged. ``price`` is the current price in the base
currency and ``currency`` names it.

Import follows the API's rules: name, description and is_active are validated by the API's
goods serializer, the price by the API's manual-price amount rule (> 0, at most 2 decimals, base
currency: the API converts no input amount, so neither does import). A row with an ``id``
updates that goods, a row without one creates goods. Prices are written through
``prices_record``, one batch for the whole file, only where the price changed: history and the
current price stay in agreement, and re-importing an export adds no history. The whole file is
one transaction: one bad row and nothing is written, and every bad row is reported.

Text cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage
return) are exported with a leading ``'``; import takes that ``'`` off again.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from import_export import fields, resources, widgets
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import Result
from rest_framework import serializers
from tablib import Dataset

from shop.catalog.api import GoodsSerializer, amount_field
from shop.catalog.models import Goods, Price
from shop.catalog.services import goods as goods_services
from shop.catalog.services.goods import MAX_BULK_GOODS
from shop.catalog.services.prices import prices_record
from shop.core.ids import INVALID_ID, parse_id

COLUMNS = ("id", "name", "description", "is_active", "price", "currency")
TEXT_COLUMNS = ("name", "description")
NOT_BASE_CURRENCY = "Prices are imported in the base currency ({base})."
NO_SUCH_GOODS = "No goods with id {id}; leave id empty to create goods."
DUPLICATE_ID = "Goods {id} is also in row {row}."

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
    """Plain digits in CSV (no locale's grouping); a number in XLSX."""

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
    """One imported row: the API's goods fields, plus the price as staff post it to /api/prices/."""

    price = amount_field(required=False)
    currency = serializers.CharField(required=False)

    class Meta(GoodsSerializer.Meta):
        fields = ("name", "description", "is_active", "price", "currency")
        read_only_fields = ()

    def validate_currency(self, value: str) -> str:
        base = str(settings.BASE_CURRENCY)
        if value.strip().upper() != base:
            raise serializers.ValidationError(NOT_BASE_CURRENCY.format(base=base))
        return base


class LockingInstanceLoader(BaseInstanceLoader):
    """Loads every goods the file names in one query, locked FOR UPDATE in id order — the order
    ticks and ``prices_record`` lock them in — so an import waits for a tick and never
    deadlocks with one, and no tick changes these goods until the import commits."""

    def __init__(self, resource: Any, dataset: Dataset | None = None) -> None:
        super().__init__(resource, dataset)
        ids: set[int] = set()
        if dataset is not None and dataset.headers and "id" in dataset.headers:
            ids = {i for i in map(row_id, dataset["id"]) if i is not None}
        self.goods = (
            {g.id: g for g in Goods.objects.filter(id__in=ids).order_by("id").select_for_update()}
            if ids
            else {}
        )

    def get_instance(self, row: Any) -> Goods | None:
        goods_id = row_id(row.get("id"))
        return None if goods_id is None else self.goods.get(goods_id)


class GoodsResource(resources.ModelResource):
    id = fields.Field(attribute="id", column_name="id", widget=IdWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    description = fields.Field(attribute="description", column_name="description", widget=TextWidget())
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget())
    # Read by import_instance, never set on the model: a price is written by prices_record only.
    price = fields.Field(attribute="price", column_name="price", widget=PriceWidget(), readonly=True)
    currency = fields.Field(column_name="currency", readonly=True)

    class Meta:
        model = Goods
        fields = COLUMNS
        import_id_fields = ("id",)
        instance_loader_class = LockingInstanceLoader
        use_transactions = True
        skip_diff = True  # the admin imports without a preview step
        # Rows are validated one by one, then written in batches through the goods services'
        # bulk paths: no savepoint and no INSERT per row.
        use_bulk = True
        batch_size = MAX_BULK_GOODS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prices: dict[int, Decimal] = {}  # goods id -> the new price, written after the rows
        self.row_of: dict[int, int] = {}  # goods id -> the row that names it
        self.row_number = 0
        # One serializer for new goods and one for changes, their fields built once and reused
        # for every row (building them per row cost more than the rest of the import).
        self.checkers = {new: GoodsRowSerializer(partial=not new) for new in (True, False)}

    def dehydrate_currency(self, goods: Goods) -> str:
        return str(settings.BASE_CURRENCY)

    def import_data(
        self, dataset: Dataset, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any
    ) -> Result:
        """All or nothing, whoever calls: in a transaction, rolled back on any bad row."""
        kwargs.update(use_transactions=True, rollback_on_validation_errors=True)
        result = super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)
        result.diff_headers = list(dataset.headers or [])  # the columns of the bad rows shown
        return result

    def before_import(self, dataset: Dataset, **kwargs: Any) -> None:
        # Headers as written by hand: " Name" is name. Blank rows at the end (XLSX keeps
        # formatted empty rows) are not goods.
        dataset.headers = [str(h).strip().lower() if h is not None else "" for h in dataset.headers or []]
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
        try:
            values = dict(self.checkers[new].run_validation(data))
        except serializers.ValidationError as e:
            detail = e.detail if isinstance(e.detail, dict) else {"__all__": e.detail}
            raise DjangoValidationError(
                {f: [str(m) for m in messages] for f, messages in detail.items()}
            ) from None
        price: Decimal | None = values.pop("price", None)
        values.pop("currency", None)
        instance.import_changes = {k: v for k, v in values.items() if new or getattr(instance, k) != v}  # type: ignore[attr-defined]
        instance.import_price = price if price is not None and (new or price != instance.price) else None  # type: ignore[attr-defined]
        for name, value in values.items():
            setattr(instance, name, value)

    def skip_row(
        self, instance: Goods, original: Any, row: Any, import_validation_errors: Any = None
    ) -> bool:
        """An unchanged row (re-importing an export) writes nothing."""
        if import_validation_errors or instance.pk is None:
            return False
        return (
            not getattr(instance, "import_changes", None) and getattr(instance, "import_price", None) is None
        )

    def bulk_create(self, *args: Any, **kwargs: Any) -> None:
        """New goods through the API's bulk create (goods_create_many), in the file's order."""

        def create() -> None:
            created = goods_services.goods_create_many(
                goods=[g.import_changes for g in self.create_instances]
            )
            for instance, goods in zip(self.create_instances, created, strict=True):
                instance.pk, instance.created_at = goods.pk, goods.created_at

        self._write_batch(self.create_instances, create, *args, **kwargs)

    def bulk_update(self, *args: Any, **kwargs: Any) -> None:
        """Changed goods: only their name, description and is_active, never the price columns."""

        def update() -> None:
            goods_services.goods_update_many(goods=[g for g in self.update_instances if g.import_changes])

        self._write_batch(self.update_instances, update, *args, **kwargs)

    def _write_batch(
        self,
        instances: list[Goods],
        write: Callable[[], None],
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Result | None = None,
    ) -> None:
        """Write a batch of rows, note their prices for after_import, and empty the batch (the
        arguments after ``write`` are import-export's to bulk_create and bulk_update)."""
        if not instances or (dry_run and not using_transactions):
            instances.clear()
            return
        try:
            write()
            for instance in instances:
                self.note_price(instance)
        except Exception as e:
            self.handle_import_error(result, e, raise_errors)
        finally:
            instances.clear()

    def note_price(self, goods: Goods) -> None:
        if goods.import_price is not None:  # type: ignore[attr-defined]
            self.prices[goods.pk] = goods.import_price  # type: ignore[attr-defined]

    def after_import(self, dataset: Dataset, result: Result, **kwargs: Any) -> None:
        """The new prices, one batch. ModelResource's own after_import is left out on purpose: it
        resets the id sequence to max(id), which hands out an id twice when another transaction
        has taken a higher one and not committed yet; import never sets an id, so nothing needs it."""
        if self.prices and not (result.has_errors() or result.has_validation_errors()):
            prices_record(amounts=self.prices, source=Price.Source.MANUAL)
