from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shop.core.admin import ServiceModelAdmin
from shop.currency import services
from shop.currency.errors import CurrencyErrorCode
from shop.currency.models import Currency, ExchangeRate
from shop.currency.services import rate_create


@admin.register(Currency)
class CurrencyAdmin(ServiceModelAdmin):
    """Currencies, added and changed through the API's services (shop.core.admin.ServiceModelAdmin):
    the base currency gets its rate of 1 when added and stays active, a refusal shown on the form.
    A currency's code is its key: set when it is added, never changed. Never deleted, as through
    the API (orders and rates keep it): deactivate it instead."""

    list_display = ("code", "name", "symbol", "decimals", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    fields = ("code", "name", "symbol", "decimals", "is_active")
    service_error_fields = {CurrencyErrorCode.BASE_CURRENCY: "is_active"}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def service_create(self, data: dict[str, Any]) -> Currency:
        return services.currency_create(**data)

    def service_update(self, instance: Currency, data: dict[str, Any]) -> Currency:
        return services.currency_update(currency=instance, data=data)


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
