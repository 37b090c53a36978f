from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shop.currency.models import Currency, ExchangeRate
from shop.currency.services import rate_create


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "symbol", "decimals", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Rates are append-only: staff add one (valid from now), never change one."""

    list_display = ("currency", "rate", "valid_from", "source")
    list_filter = ("currency", "source")
    fields = ("currency", "rate")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ExchangeRate, form: Any, change: bool) -> None:
        rate = rate_create(currency_code=obj.currency_id, rate=obj.rate, source=ExchangeRate.Source.MANUAL)
        obj.pk, obj.valid_from = rate.pk, rate.valid_from
