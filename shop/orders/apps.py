from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "shop.orders"
    label = "orders"

    def ready(self) -> None:
        # Order e-mails are scheduled by their task's name (shop.core.enqueue): importing the
        # task module registers it in every process, not only in the worker.
        # The catalog's demand pricing asks the orders for the units ordered (shop.catalog.demand).
        from shop.catalog.demand import demand_counter_register
        from shop.orders import tasks  # noqa: F401
        from shop.orders.selectors import units_ordered_since

        demand_counter_register(units_ordered_since)
