from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shop.orders.models import Cart, CartItem, Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("goods", "goods_name", "quantity", "price_id", "unit_price", "line_total")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Staff see every order and change its status; the frozen snapshot stays read-only."""

    list_display = ("id", "user", "status", "created_at", "currency", "order_sum")
    list_filter = ("status", "currency", ("created_at", admin.DateFieldListFilter))
    search_fields = ("id", "user__email")
    date_hierarchy = "created_at"
    inlines = (OrderLineInline,)
    list_select_related = ("user", "currency")
    fields = (
        "user", "status", "created_at", "currency", "rate", "exchange_rate",
        "subtotal", "markup", "fee", "total", "order_sum",
    )  # fmt: skip
    readonly_fields = tuple(f for f in fields if f != "status")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    raw_id_fields = ("goods",)


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("user", "updated_at")
    search_fields = ("user__email",)
    inlines = (CartItemInline,)
