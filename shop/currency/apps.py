from django.apps import AppConfig


class CurrencyConfig(AppConfig):
    name = "shop.currency"
    label = "currency"
