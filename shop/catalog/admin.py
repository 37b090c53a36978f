from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from shop.catalog.errors import CatalogErrorCode
from shop.catalog.models import Goods, Price, Sale, Tick
from shop.catalog.resources import GoodsCSV, GoodsImportForm, GoodsResource, GoodsXLSX, ImportRefused
from shop.catalog.selectors import price_recent
from shop.catalog.services import goods as goods_services
from shop.catalog.services import sales as sale_services
from shop.catalog.services.prices import price_create_manual
from shop.catalog.services.stock import MAX_STOCK, STOCK_NOT_NEGATIVE
from shop.core.admin import ServiceModelAdmin
from shop.core.errors import ShopError

RECENT_PRICES = 20
NOT_TRACKED = "not tracked"


class StockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("tracked", "Tracked"), ("untracked", "Not tracked"), ("sold_out", "Sold out")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Goods]) -> QuerySet[Goods]:
        if self.value() == "tracked":
            return queryset.filter(stock__isnull=False)
        if self.value() == "untracked":
            return queryset.filter(stock__isnull=True)
        if self.value() == "sold_out":  # available 0 (shop.domain.stock.stock_available)
            return queryset.filter(stock__isnull=False, stock__lte=F("reserved"))
        return queryset


class GoodsForm(forms.ModelForm):
    # The service's bounds and message, checked with the form's other fields. Its value as the
    # page showed it is posted back (show_hidden_initial): GoodsAdmin writes the stock only when
    # staff changed it there, never a count that orders have moved since the page was opened.
    stock = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_STOCK,
        show_hidden_initial=True,
        error_messages={"min_value": STOCK_NOT_NEGATIVE, "max_value": STOCK_NOT_NEGATIVE},
        help_text="Units in stock; empty: not tracked (sells any quantity).",
    )

    class Meta:
        model = Goods
        fields = ("name", "description", "is_active", "stock")


@admin.register(Goods)
class GoodsAdmin(ServiceModelAdmin, ImportExportModelAdmin):
    """Goods, and goods as CSV or XLSX: export (what the list shows, filters applied) and
    import (shop.catalog.resources: the API's rules; checked whole, then written in chunks).

    Added, changed and deleted (one or selected ones) through the API's services
    (shop.core.admin.ServiceModelAdmin): a change writes only the columns it changes, never the
    price columns a tick may be writing meanwhile. The stock is set through ``goods_stock_set``
    (``goods_update`` routes it there: the row locked, the change announced), and only when staff
    changed it on the page (GoodsForm); ``available`` is shown, never written.
    """

    form = GoodsForm
    list_display = ("id", "name", "is_active", "price", "price_updated_at", "stock", "available")
    list_filter = ("is_active", StockFilter)
    search_fields = ("name", "description")
    readonly_fields = ("price", "price_updated_at", "current_price_id", "available", "recent_prices")
    fields = (
        "name", "description", "is_active", "stock", "available", "price", "price_updated_at", "recent_prices",
    )  # fmt: skip
    service_error_fields = {
        CatalogErrorCode.STOCK_BELOW_ZERO: "stock",
        CatalogErrorCode.STOCK_NOT_TRACKED: "stock",
    }
    resource_classes = (GoodsResource,)
    formats = (CSV, XLSX)  # export
    # Import's own, in the same order: they check a file's size, rows and (XLSX) declared
    # dimension before reading it.
    import_formats = (GoodsCSV, GoodsXLSX)
    import_form_class = GoodsImportForm  # refuses an oversized upload before it is read
    # One step: every row is checked, then written (in chunks), or nothing is and the bad rows
    # are shown. No preview step, which would keep the upload between two requests (a temporary
    # file on whichever web process took the first one).
    skip_import_confirm = True
    export_template_name = "admin/catalog/goods/export.html"  # CSP: no inline event handler

    def service_data(self, form: Any) -> dict[str, Any]:
        data = super().service_data(form)
        if "stock" not in form.changed_data:
            data.pop("stock", None)
        return data

    def service_create(self, data: dict[str, Any]) -> Goods:
        return goods_services.goods_create(**data)

    def service_update(self, instance: Goods, data: dict[str, Any]) -> Goods:
        return goods_services.goods_update(goods=instance, data=data)

    def service_delete(self, instance: Goods) -> None:
        goods_services.goods_delete(goods=instance)

    def has_import_permission(self, request: HttpRequest) -> bool:
        """Import creates and changes goods: staff who may do both (the admin's own permissions)."""
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_or_change_permission(request)

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        """A refused file says why (import-export's own message names only the exception)."""
        if isinstance(e, ImportRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    @admin.display(description="available")
    def available(self, goods: Goods) -> int | str:
        """Units that can be ordered now: the stock less what carts hold."""
        return NOT_TRACKED if goods.available is None else goods.available

    @admin.display(description=f"Newest {RECENT_PRICES} prices")
    def recent_prices(self, goods: Goods) -> str:
        if goods.pk is None:
            return "-"
        rows = price_recent(goods_id=goods.pk, limit=RECENT_PRICES)
        return ", ".join(f"{p.amount} ({p.source}, {p.created_at:%H:%M:%S})" for p in rows) or "-"


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    """History is append-only: staff add a manual price, never change or delete one."""

    list_display = ("id", "goods", "amount", "source", "sale_id", "created_at")
    list_filter = ("source",)
    raw_id_fields = ("goods",)
    fields = ("goods", "amount")
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Price, form: Any, change: bool) -> None:
        price = price_create_manual(goods=obj.goods, amount=obj.amount)
        obj.pk, obj.created_at, obj.source = price.pk, price.created_at, price.source


@admin.register(Sale)
class SaleAdmin(ServiceModelAdmin):
    """Sales, added, changed and deleted (one or selected ones) through the API's services
    (shop.core.admin.ServiceModelAdmin): their rules (a goods in at most one running sale, the
    price bounds, the window) hold here too, a refusal shown on the form, nothing written.
    The goods are written by the service with the sale, not a second time by the form. (The
    bounds and the window are the model's constraints too, which the form checks before.)"""

    list_display = ("id", "name", "min_price", "max_price", "strategy", "is_active", "starts_at", "ends_at")
    list_filter = ("is_active", "strategy")
    filter_horizontal = ("goods",)
    fields = (
        "name", "min_price", "max_price", "strategy", "step_percent", "window_seconds", "target_units",
        "is_active", "starts_at", "ends_at", "goods", "created_at",
    )  # fmt: skip
    readonly_fields = ("created_at",)
    service_error_fields = {CatalogErrorCode.GOODS_IN_OTHER_SALE: "goods"}

    def service_create(self, data: dict[str, Any]) -> Sale:
        return sale_services.sale_create(**data)

    def service_update(self, instance: Sale, data: dict[str, Any]) -> Sale:
        return sale_services.sale_update(sale=instance, data=data)

    def service_delete(self, instance: Sale) -> None:
        sale_services.sale_delete(sale=instance)

    def service_error_message(self, error: ShopError) -> str:
        """A goods taken by another running sale is named (the service gives its id)."""
        taken = error.extra.get("goods") if error.code == CatalogErrorCode.GOODS_IN_OTHER_SALE else None
        if not taken:
            return error.message
        names = ", ".join(f"{goods.name} (#{goods.pk})" for goods in Goods.objects.filter(pk__in=taken))
        return f"{error.message.rstrip('.')}: {names}."


@admin.register(Tick)
class TickAdmin(admin.ModelAdmin):
    list_display = ("slot", "started_at", "goods_count", "duration_ms")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
