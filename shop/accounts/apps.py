from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shop.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Account e-mails are scheduled by their task's name (shop.core.enqueue): importing the
        # task module registers it in every process, not only in the worker.
        from shop.accounts import tasks  # noqa: F401
