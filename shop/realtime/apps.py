from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "shop.realtime"
    label = "realtime"

    def ready(self) -> None:
        # The price writes announce committed batches (shop.core.events); the feed publishes them.
        from shop.core.events import PriceEvent, events_subscribe
        from shop.realtime.publisher import feed_listener

        events_subscribe(feed_listener, kinds=[PriceEvent.COMMITTED])
