from django.apps import AppConfig


class PricewatchConfig(AppConfig):
    name = "shop.pricewatch"
    label = "pricewatch"

    def ready(self) -> None:
        # Every committed batch of prices is matched against the open alerts and standing orders
        # (SPEC §15); the match task is sent by its name (shop.core.enqueue), registered here.
        from shop.core.events import PriceEvent, events_subscribe
        from shop.pricewatch import tasks  # noqa: F401
        from shop.pricewatch.services.matching import batch_listener

        events_subscribe(batch_listener, kinds=[PriceEvent.COMMITTED])
