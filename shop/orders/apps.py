from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "shop.orders"
    label = "orders"

    def ready(self) -> None:
        # Order e-mails are scheduled by their task's name (shop.core.enqueue): importing the
        # task module registers it in every process, not only in the worker.
        from shop.orders import tasks  # noqa: F401
