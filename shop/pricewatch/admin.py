"""Alerts and standing orders in the admin: read-only, with counts by state in the list filters
and on the changelist (SPEC §15: staff see counts). They belong to shoppers; staff do not edit
them."""

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q
from django.http import HttpRequest

from shop.pricewatch.models import Alert, StandingOrder


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a shopper deletes an alert, cancels a standing order (the services' rules)


class TriggeredFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        counts = Alert.objects.aggregate(
            open=Count("id", filter=Q(triggered_at__isnull=True)),
            triggered=Count("id", filter=Q(triggered_at__isnull=False)),
        )
        return [("open", f"open ({counts['open']})"), ("triggered", f"triggered ({counts['triggered']})")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in ("open", "triggered"):
            return queryset.filter(triggered_at__isnull=self.value() == "open")
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        counts = dict(StandingOrder.objects.values_list("status").annotate(n=Count("id")).order_by())
        return [(value, f"{label} ({counts.get(value, 0)})") for value, label in StandingOrder.Status.choices]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Alert)
class AlertAdmin(_ReadOnly):
    list_display = (
        "id",
        "user",
        "goods",
        "direction",
        "price",
        "currency",
        "created_at",
        "triggered_at",
        "value",
    )
    list_filter = (TriggeredFilter, "direction", "currency")
    list_select_related = ("user", "goods")
    search_fields = ("user__email", "goods__name")
    raw_id_fields = ("user", "goods")


@admin.register(StandingOrder)
class StandingOrderAdmin(_ReadOnly):
    list_display = (
        "id", "user", "goods", "quantity", "limit_price", "currency", "status", "expires_at", "order",
    )  # fmt: skip
    list_filter = (StatusFilter, "currency")
    list_select_related = ("user", "goods")
    search_fields = ("user__email", "goods__name")
    raw_id_fields = ("user", "goods", "order")
