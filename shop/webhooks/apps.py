from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "shop.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        # The apps below announce events (shop.core.events); this one records them for delivery.
        from shop.core.events import EventType, events_subscribe
        from shop.webhooks import tasks  # noqa: F401 - kicks name the flush task (shop.core.enqueue): registered here
        from shop.webhooks.services.events import event_record

        events_subscribe(event_record, kinds=EventType)
