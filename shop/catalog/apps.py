from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "shop.catalog"
    label = "catalog"

    def ready(self) -> None:
        from shop.catalog.selectors import ticks_health
        from shop.core.health import health_register

        health_register("ticks", ticks_health)
