from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "shop.realtime"
    label = "realtime"

    def ready(self) -> None:
        # The price and stock writes announce what they committed (shop.core.events); the feed
        # publishes it, and sends the notices meant for one shopper to that shopper's connections.
        from shop.core.events import PriceEvent, ShopperEvent, StockEvent, events_subscribe
        from shop.realtime.notices import notice_listener
        from shop.realtime.publisher import feed_listener, stock_listener

        events_subscribe(feed_listener, kinds=[PriceEvent.COMMITTED])
        events_subscribe(stock_listener, kinds=[StockEvent.CHANGED])
        events_subscribe(notice_listener, kinds=[ShopperEvent.NOTICE])
